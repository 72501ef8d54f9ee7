// Broadcasting binary operations (ONNX Add/Sub/Mul/Div/Pow/Min/Max, numpy semantics).
// Second-order rule (tape.h): ẏ = ∂_a y·ȧ + ∂_b y·ḃ, and curvature terms, summed back to each
// operand's shape, S_a = g·(y_aa ȧ + y_ab ḃ), S_b = g·(y_ab ȧ + y_bb ḃ) with
//   mul  y_ab = 1                        (y_aa = y_bb = 0)
//   div  y_ab = −1/b², y_bb = 2a/b³       (y_aa = 0)
//   pow  y_aa = b(b−1)a^(b−2), y_ab = a^(b−1)(1 + b ln a), y_bb = aᵇ ln²a   (y_ab = y_bb = 0 where
//        a <= 0, where ∂_b y is taken as 0)
// and none for add, sub, min and max (linear, or piecewise linear: zero almost everywhere).
#include <cmath>

#include "engine/broadcast.h"
#include "engine/error.h"
#include "engine/hessian.h"
#include "engine/ops.h"

namespace gradlens {

namespace {

enum class Kind { add, sub, mul, div, pow, min, max };

template <Kind K>
inline float apply(float a, float b) {
  if constexpr (K == Kind::add) return a + b;
  if constexpr (K == Kind::sub) return a - b;
  if constexpr (K == Kind::mul) return a * b;
  if constexpr (K == Kind::div) return a / b;
  if constexpr (K == Kind::pow) return std::pow(a, b);
  if constexpr (K == Kind::min) return a < b ? a : b;
  if constexpr (K == Kind::max) return a > b ? a : b;
}

// Partial derivatives of y = op(a, b) with respect to a (which = 0) or b (which = 1).
template <Kind K>
inline float partial(int which, float a, float b, float y) {
  if constexpr (K == Kind::add) return 1.f;
  if constexpr (K == Kind::sub) return which == 0 ? 1.f : -1.f;
  if constexpr (K == Kind::mul) return which == 0 ? b : a;
  if constexpr (K == Kind::div) return which == 0 ? 1.f / b : -y / b;
  if constexpr (K == Kind::pow) {
    if (which == 0) return b == 0.f ? 0.f : b * std::pow(a, b - 1.f);
    return a > 0.f ? y * std::log(a) : 0.f;
  }
  if constexpr (K == Kind::min) {
    float own = which == 0 ? a : b, other = which == 0 ? b : a;
    return own < other ? 1.f : (own == other ? 0.5f : 0.f);
  }
  if constexpr (K == Kind::max) {
    float own = which == 0 ? a : b, other = which == 0 ? b : a;
    return own > other ? 1.f : (own == other ? 0.5f : 0.f);
  }
}

// Second partial derivatives y_aa (0,0), y_ab (0,1 or 1,0), y_bb (1,1) of y = op(a, b).
template <Kind K>
inline float second_partial(int i, int j, float a, float b, float y) {
  if constexpr (K == Kind::mul) return i != j ? 1.f : 0.f;
  if constexpr (K == Kind::div) {
    if (i == 0 && j == 0) return 0.f;
    if (i != j) return -1.f / (b * b);
    return 2.f * y / (b * b);
  }
  if constexpr (K == Kind::pow) {
    if (i == 0 && j == 0) return (b == 0.f || b == 1.f) ? 0.f : b * (b - 1.f) * std::pow(a, b - 2.f);
    if (a <= 0.f) return 0.f;
    const float l = std::log(a);
    if (i != j) return std::pow(a, b - 1.f) * (1.f + b * l);
    return y * l * l;
  }
  return 0.f;
}

template <Kind K>
constexpr bool has_curvature() {
  return K == Kind::mul || K == Kind::div || K == Kind::pow;
}

// ẏ and the curvature terms of y = op(a, b) (see the top of this file).
template <Kind K>
void binary_tangent(TangentContext& ctx) {
  const Tensor& va = ctx.input(0);
  const Tensor& vb = ctx.input(1);
  const Tensor& y = ctx.output();
  const Tensor& ta = ctx.input_tangent(0);
  const Tensor& tb = ctx.input_tangent(1);
  const float* pa = va.data();
  const float* pb = vb.data();
  const float* py = y.data();
  const float* pta = ta.empty() ? nullptr : ta.data();
  const float* ptb = tb.empty() ? nullptr : tb.data();
  BroadcastPlan plan(va.shape(), vb.shape(), y.shape());
  Tensor yt = ctx.alloc(y.shape());
  float* pyt = yt.data();
  plan.for_each([&](int64_t o, int64_t ia, int64_t ib, int64_t n, int64_t sa, int64_t sb) {
    for (int64_t j = 0; j < n; ++j) {
      const float av = pa[ia + j * sa], bv = pb[ib + j * sb], yv = py[o + j];
      float t = 0.f;
      if (pta) t += partial<K>(0, av, bv, yv) * pta[ia + j * sa];
      if (ptb) t += partial<K>(1, av, bv, yv) * ptb[ib + j * sb];
      pyt[o + j] = t;
    }
  });
  ctx.set_tangent(yt);
  if constexpr (has_curvature<K>()) {
    const Tensor& g = ctx.grad_output();
    if (g.empty()) return;
    const float* pg = g.data();
    for (int which = 0; which < 2; ++which) {
      Tensor full = ctx.alloc(y.shape());
      float* pf = full.data();
      plan.for_each([&](int64_t o, int64_t ia, int64_t ib, int64_t n, int64_t sa, int64_t sb) {
        for (int64_t j = 0; j < n; ++j) {
          const float av = pa[ia + j * sa], bv = pb[ib + j * sb], yv = py[o + j];
          float s = 0.f;
          if (pta) s += second_partial<K>(which, 0, av, bv, yv) * pta[ia + j * sa];
          if (ptb) s += second_partial<K>(which, 1, av, bv, yv) * ptb[ib + j * sb];
          pf[o + j] = pg[o + j] * s;
        }
      });
      const Shape& target = which == 0 ? va.shape() : vb.shape();
      if (target == y.shape()) {
        ctx.add_curvature(which, full);
      } else {
        Tensor reduced = ctx.alloc(target);
        reduce_to_shape_into(full, target, reduced.data());
        ctx.add_curvature(which, reduced);
      }
    }
  }
}

template <Kind K>
Var binary(Var a, Var b, const NodeInfo& info) {
  GL_CHECK(a.valid() && b.valid() && a.tape == b.tape, "node '", info.name, "' (", info.op,
           "): operands are not on the same tape");
  Tape& tape = *a.tape;
  const Tensor& va = a.value();
  const Tensor& vb = b.value();
  Shape out_shape;
  try {
    out_shape = broadcast_shapes(va.shape(), vb.shape());
  } catch (const Error& e) {
    fail("node '", info.name, "' (", info.op, "): ", e.what());
  }
  Tensor y = tape.alloc(out_shape);
  {
    BroadcastPlan plan(va.shape(), vb.shape(), out_shape);
    const float* pa = va.data();
    const float* pb = vb.data();
    float* py = y.data();
    plan.for_each([&](int64_t o, int64_t ia, int64_t ib, int64_t n, int64_t sa, int64_t sb) {
      if (sa == 1 && sb == 1)
        for (int64_t j = 0; j < n; ++j) py[o + j] = apply<K>(pa[ia + j], pb[ib + j]);
      else
        for (int64_t j = 0; j < n; ++j) py[o + j] = apply<K>(pa[ia + j * sa], pb[ib + j * sb]);
    });
  }
  return tape.record(info, {a, b}, y, [](BackwardContext& ctx) {
    const Tensor& g = ctx.grad_output();
    const Tensor& y = ctx.output();
    const Tensor& va = ctx.input(0);
    const Tensor& vb = ctx.input(1);
    BroadcastPlan plan(va.shape(), vb.shape(), y.shape());
    for (int which = 0; which < 2; ++which) {
      if (!ctx.needs_grad(which)) continue;
      const Shape& target = which == 0 ? va.shape() : vb.shape();
      Tensor full = K == Kind::add ? g : ctx.alloc(y.shape());
      if (K != Kind::add) {
        const float* pa = va.data();
        const float* pb = vb.data();
        const float* pg = g.data();
        const float* py = y.data();
        float* pf = full.data();
        plan.for_each([&](int64_t o, int64_t ia, int64_t ib, int64_t n, int64_t sa, int64_t sb) {
          for (int64_t j = 0; j < n; ++j)
            pf[o + j] = pg[o + j] * partial<K>(which, pa[ia + j * sa], pb[ib + j * sb], py[o + j]);
        });
      }
      if (target == y.shape()) {
        ctx.accumulate(which, full);
      } else {
        Tensor reduced = ctx.alloc(target);
        reduce_to_shape_into(full, target, reduced.data());
        ctx.accumulate_fresh(which, reduced);
      }
    }
  }, [](TangentContext& ctx) { binary_tangent<K>(ctx); });
}

}  // namespace

Var add(Var a, Var b, const NodeInfo& info) { return binary<Kind::add>(a, b, info); }
Var sub(Var a, Var b, const NodeInfo& info) { return binary<Kind::sub>(a, b, info); }
Var mul(Var a, Var b, const NodeInfo& info) { return binary<Kind::mul>(a, b, info); }
Var div(Var a, Var b, const NodeInfo& info) { return binary<Kind::div>(a, b, info); }
Var pow(Var a, Var b, const NodeInfo& info) { return binary<Kind::pow>(a, b, info); }
Var minimum(Var a, Var b, const NodeInfo& info) { return binary<Kind::min>(a, b, info); }
Var maximum(Var a, Var b, const NodeInfo& info) { return binary<Kind::max>(a, b, info); }

Var scalar(Tape& tape, float value) {
  Tensor t = tape.alloc(Shape{});
  t[0] = value;
  return tape.constant(t, "scalar");
}

Var pow(Var a, float p) { return pow(a, scalar(*a.tape, p)); }
Var operator+(Var a, Var b) { return add(a, b); }
Var operator-(Var a, Var b) { return sub(a, b); }
Var operator*(Var a, Var b) { return mul(a, b); }
Var operator/(Var a, Var b) { return div(a, b); }
Var operator-(Var a) { return neg(a); }
Var operator+(Var a, float s) { return add(a, scalar(*a.tape, s)); }
Var operator+(float s, Var a) { return add(scalar(*a.tape, s), a); }
Var operator-(Var a, float s) { return sub(a, scalar(*a.tape, s)); }
Var operator-(float s, Var a) { return sub(scalar(*a.tape, s), a); }
Var operator*(Var a, float s) { return scale(a, s); }
Var operator*(float s, Var a) { return scale(a, s); }
Var operator/(Var a, float s) { return scale(a, 1.f / s); }
Var operator/(float s, Var a) { return div(scalar(*a.tape, s), a); }

}  // namespace gradlens
