// Reductions and softmax. Second-order rules (tape.h), per row along the softmax axis:
//   sum/mean     ẏ = reduce(ẋ), no curvature (linear)
//   softmax      ẏ = y ⊙ (ẋ − ⟨y, ẋ⟩);  S = ẏ ⊙ (g − ⟨g, y⟩) − y ⟨g, ẏ⟩
//   log_softmax  ẏ = ẋ − ⟨p, ẋ⟩ with p = e^y;  S = −ṗ Σg, ṗ = p ⊙ ẏ
#include <cmath>

#include "engine/broadcast.h"
#include "engine/error.h"
#include "engine/hessian.h"
#include "engine/ops.h"
#include "engine/parallel.h"

namespace gradlens {

namespace {

// Shape of x reduced over `axes` with kept unit axes; all axes when empty.
Shape reduced_shape(const Shape& s, const std::vector<int>& axes, const NodeInfo& info) {
  Shape kept = s;
  if (axes.empty()) {
    for (int i = 0; i < s.rank(); ++i) kept[i] = 1;
    return kept;
  }
  for (int a : axes) {
    int ax = a < 0 ? a + s.rank() : a;
    GL_CHECK(ax >= 0 && ax < s.rank(), "node '", info.name, "' (", info.op, "): axis ", a,
             " is out of range for ", s.str());
    kept[ax] = 1;
  }
  return kept;
}

Var reduce(Var x, const std::vector<int>& axes, bool keepdims, bool average, const NodeInfo& info) {
  const Tensor& v = x.value();
  Shape kept = reduced_shape(v.shape(), axes, info);
  Shape out_shape;
  if (keepdims) {
    out_shape = kept;
  } else {
    std::vector<bool> drop(size_t(v.rank()), axes.empty());
    for (int a : axes) drop[size_t(a < 0 ? a + v.rank() : a)] = true;
    for (int i = 0; i < v.rank(); ++i)
      if (!drop[size_t(i)]) out_shape.push_back(v.dim(i));
  }
  const float factor = average ? float(kept.numel()) / float(std::max<int64_t>(v.numel(), 1)) : 1.f;
  Tensor y = x.tape->alloc(out_shape);
  reduce_to_shape_into(v, kept, y.data());
  if (average) y.vec() *= factor;
  return x.tape->record(info, {x}, y, [kept, factor](BackwardContext& ctx) {
    const Tensor& g = ctx.grad_output();
    Tensor dx = ctx.alloc(ctx.input(0).shape());
    BroadcastPlan plan(dx.shape(), kept, dx.shape());
    const float* pg = g.data();
    float* pd = dx.data();
    plan.for_each([&](int64_t o, int64_t, int64_t ib, int64_t n, int64_t, int64_t sb) {
      for (int64_t j = 0; j < n; ++j) pd[o + j] = factor * pg[ib + j * sb];
    });
    ctx.accumulate_fresh(0, dx);
  }, [kept, factor](TangentContext& ctx) {
    const Tensor& xt = ctx.input_tangent(0);
    Tensor yt = ctx.alloc(ctx.output().shape());
    reduce_to_shape_into(xt, kept, yt.data());
    if (factor != 1.f) yt.vec() *= factor;
    ctx.set_tangent(yt);
  });
}

struct Rows {  // x viewed as [outer, n, inner] around the softmax axis
  int64_t outer = 1, n = 1, inner = 1;
  Rows(const Shape& s, int axis) {
    for (int i = 0; i < axis; ++i) outer *= s[i];
    n = s[axis];
    for (int i = axis + 1; i < s.rank(); ++i) inner *= s[i];
  }
};

int softmax_axis(const Shape& s, int axis, const NodeInfo& info) {
  int ax = axis < 0 ? axis + s.rank() : axis;
  GL_CHECK(ax >= 0 && ax < s.rank(), "node '", info.name, "' (", info.op, "): axis ", axis,
           " is out of range for ", s.str());
  return ax;
}

// y = softmax (log = false) or log_softmax (log = true) along the middle axis of r.
void softmax_forward(const float* x, float* y, const Rows& r, bool log) {
  parallel_for(r.outer * r.inner, [&](int64_t t) {
    const int64_t o = t / r.inner, i = t % r.inner;
    const float* xs = x + o * r.n * r.inner + i;
    float* ys = y + o * r.n * r.inner + i;
    float m = -INFINITY;
    for (int64_t k = 0; k < r.n; ++k) m = std::max(m, xs[k * r.inner]);
    double z = 0;
    for (int64_t k = 0; k < r.n; ++k) z += std::exp(double(xs[k * r.inner] - m));
    const double lz = std::log(z);
    for (int64_t k = 0; k < r.n; ++k) {
      double l = double(xs[k * r.inner] - m) - lz;
      ys[k * r.inner] = float(log ? l : std::exp(l));
    }
  }, 64);
}

}  // namespace

Var sum(Var x, std::vector<int> axes, bool keepdims, const NodeInfo& info) {
  return reduce(x, axes, keepdims, false, info);
}

Var mean(Var x, std::vector<int> axes, bool keepdims, const NodeInfo& info) {
  return reduce(x, axes, keepdims, true, info);
}

Var softmax(Var x, int axis, const NodeInfo& info) {
  const Tensor& v = x.value();
  const int ax = softmax_axis(v.shape(), axis, info);
  Rows r(v.shape(), ax);
  Tensor y = x.tape->alloc(v.shape());
  softmax_forward(v.data(), y.data(), r, false);
  return x.tape->record(info, {x}, y, [r](BackwardContext& ctx) {
    const float* py = ctx.output().data();
    const float* pg = ctx.grad_output().data();
    Tensor dx = ctx.alloc(ctx.output().shape());
    float* pd = dx.data();
    parallel_for(r.outer * r.inner, [&](int64_t t) {
      const int64_t base = (t / r.inner) * r.n * r.inner + t % r.inner;
      double dot = 0;
      for (int64_t k = 0; k < r.n; ++k) dot += double(py[base + k * r.inner]) * pg[base + k * r.inner];
      for (int64_t k = 0; k < r.n; ++k) {
        const int64_t j = base + k * r.inner;
        pd[j] = float(py[j] * (pg[j] - dot));
      }
    }, 64);
    ctx.accumulate_fresh(0, dx);
  }, [r](TangentContext& ctx) {
    const float* py = ctx.output().data();
    const float* pt = ctx.input_tangent(0).data();
    const Tensor& g = ctx.grad_output();
    Tensor yt = ctx.alloc(ctx.output().shape());
    Tensor curvature = g.empty() ? Tensor() : ctx.alloc(ctx.output().shape());
    float* pyt = yt.data();
    parallel_for(r.outer * r.inner, [&](int64_t t) {
      const int64_t base = (t / r.inner) * r.n * r.inner + t % r.inner;
      double yx = 0;
      for (int64_t k = 0; k < r.n; ++k) yx += double(py[base + k * r.inner]) * pt[base + k * r.inner];
      for (int64_t k = 0; k < r.n; ++k) {
        const int64_t j = base + k * r.inner;
        pyt[j] = float(py[j] * (pt[j] - yx));
      }
      if (g.empty()) return;
      const float* pg = g.data();
      float* pc = curvature.data();
      double gy = 0, gyt = 0;
      for (int64_t k = 0; k < r.n; ++k) {
        const int64_t j = base + k * r.inner;
        gy += double(pg[j]) * py[j];
        gyt += double(pg[j]) * pyt[j];
      }
      for (int64_t k = 0; k < r.n; ++k) {
        const int64_t j = base + k * r.inner;
        pc[j] = float(pyt[j] * (pg[j] - gy) - py[j] * gyt);
      }
    }, 64);
    ctx.set_tangent(yt);
    if (!g.empty()) ctx.add_curvature(0, curvature);
  });
}

Var log_softmax(Var x, int axis, const NodeInfo& info) {
  const Tensor& v = x.value();
  const int ax = softmax_axis(v.shape(), axis, info);
  Rows r(v.shape(), ax);
  Tensor y = x.tape->alloc(v.shape());
  softmax_forward(v.data(), y.data(), r, true);
  return x.tape->record(info, {x}, y, [r](BackwardContext& ctx) {
    const float* py = ctx.output().data();
    const float* pg = ctx.grad_output().data();
    Tensor dx = ctx.alloc(ctx.output().shape());
    float* pd = dx.data();
    parallel_for(r.outer * r.inner, [&](int64_t t) {
      const int64_t base = (t / r.inner) * r.n * r.inner + t % r.inner;
      double total = 0;
      for (int64_t k = 0; k < r.n; ++k) total += pg[base + k * r.inner];
      for (int64_t k = 0; k < r.n; ++k) {
        const int64_t j = base + k * r.inner;
        pd[j] = float(pg[j] - std::exp(double(py[j])) * total);
      }
    }, 64);
    ctx.accumulate_fresh(0, dx);
  }, [r](TangentContext& ctx) {
    const float* py = ctx.output().data();
    const float* pt = ctx.input_tangent(0).data();
    const Tensor& g = ctx.grad_output();
    Tensor yt = ctx.alloc(ctx.output().shape());
    Tensor curvature = g.empty() ? Tensor() : ctx.alloc(ctx.output().shape());
    float* pyt = yt.data();
    parallel_for(r.outer * r.inner, [&](int64_t t) {
      const int64_t base = (t / r.inner) * r.n * r.inner + t % r.inner;
      double px = 0;
      for (int64_t k = 0; k < r.n; ++k)
        px += std::exp(double(py[base + k * r.inner])) * pt[base + k * r.inner];
      for (int64_t k = 0; k < r.n; ++k) {
        const int64_t j = base + k * r.inner;
        pyt[j] = float(pt[j] - px);
      }
      if (g.empty()) return;
      const float* pg = g.data();
      float* pc = curvature.data();
      double total = 0;
      for (int64_t k = 0; k < r.n; ++k) total += pg[base + k * r.inner];
      for (int64_t k = 0; k < r.n; ++k) {
        const int64_t j = base + k * r.inner;
        pc[j] = float(-std::exp(double(py[j])) * (double(pt[j]) - px) * total);
      }
    }, 64);
    ctx.set_tangent(yt);
    if (!g.empty()) ctx.add_curvature(0, curvature);
  });
}

}  // namespace gradlens
