// Elementwise unary operations and activations. One loop shared by all (dlib's pattern): each
// op supplies y = f(x), dx = f'(x, y)·g and f''(x, y) for Hessian-vector products (tape.h):
//   exp'' = y, log'' = −1/x², sqrt'' = −1/(4y³), sin'' = −sin x, cos'' = −cos x,
//   tanh'' = −2y(1 − y²), sigmoid'' = y(1 − y)(1 − 2y), softplus_β'' = β σ(βx)(1 − σ(βx)),
//   erf'' = −2x·(2/√π)e^(−x²), hard_swish'' = 1/3 on (−3, 3); 0 for neg, scale and the
//   piecewise-linear maps (abs, rectifiers, clip, leaky_relu, hard_sigmoid), zero a.e.
// Inside a SmoothRectifiers scope (engine/smooth_rectifiers.h), rectifiers without an upper bound record softplus.
#include <cmath>

#include "engine/elementwise.h"
#include "engine/error.h"
#include "engine/ops.h"
#include "engine/parallel.h"
#include "engine/smooth_rectifiers.h"

namespace gradlens {

namespace {

// Rectifier y = clamp(x, 0, hi) whose backward follows the rule set.
Var rectifier(Var x, float hi, const NodeInfo& info) {
  GL_CHECK(x.valid(), "node '", info.name, "' (", info.op, "): invalid input");
  Tape& tape = *x.tape;
  if (hi == kNoUpperBound && smooth_rectifier_beta() > 0.f) return softplus(x, smooth_rectifier_beta(), info);
  const Tensor& vx = x.value();
  Tensor y = tape.alloc(vx.shape());
  const float* px = vx.data();
  float* py = y.data();
  parallel_chunks(vx.numel(), [&](int64_t s, int64_t e) {
    for (int64_t i = s; i < e; ++i) py[i] = std::min(std::max(px[i], 0.f), hi);
  });
  return tape.record(info, {x}, y, [hi](BackwardContext& ctx) {
    const Tensor& g = ctx.grad_output();
    Tensor dx = ctx.alloc(g.shape());
    float* scratch = ctx.rules().relu == ReluRule::rectgrad ? ctx.alloc(g.shape()).data() : nullptr;
    rectifier_backward(ctx.rules(), ctx.input(0), ctx.output(), g, hi, dx, scratch);
    ctx.accumulate_fresh(0, dx);
  }, elementwise_tangent([hi](float v, float, float t) { return (v > 0.f && v < hi) ? t : 0.f; },
                         ZeroSecond()));
}

inline float sigmoid_f(float x) {
  return x >= 0.f ? 1.f / (1.f + std::exp(-x)) : std::exp(x) / (1.f + std::exp(x));
}

}  // namespace

Var neg(Var x, const NodeInfo& info) {
  return map_elementwise(x, info, [](float v) { return -v; }, [](float, float, float g) { return -g; },
                         ZeroSecond());
}
Var exp(Var x, const NodeInfo& info) {
  return map_elementwise(x, info, [](float v) { return std::exp(v); },
               [](float, float y, float g) { return g * y; }, [](float, float y) { return y; });
}
Var log(Var x, const NodeInfo& info) {
  return map_elementwise(x, info, [](float v) { return std::log(v); },
               [](float v, float, float g) { return g / v; },
               [](float v, float) { return -1.f / (v * v); });
}
Var sqrt(Var x, const NodeInfo& info) {
  return map_elementwise(x, info, [](float v) { return std::sqrt(v); },
               [](float, float y, float g) { return g / (2.f * y); },
               [](float, float y) { return -0.25f / (y * y * y); });
}
Var sin(Var x, const NodeInfo& info) {
  return map_elementwise(x, info, [](float v) { return std::sin(v); },
               [](float v, float, float g) { return g * std::cos(v); },
               [](float v, float) { return -std::sin(v); });
}
Var cos(Var x, const NodeInfo& info) {
  return map_elementwise(x, info, [](float v) { return std::cos(v); },
               [](float v, float, float g) { return -g * std::sin(v); },
               [](float v, float) { return -std::cos(v); });
}
Var abs(Var x, const NodeInfo& info) {
  return map_elementwise(x, info, [](float v) { return std::fabs(v); },
               [](float v, float, float g) { return v > 0.f ? g : (v < 0.f ? -g : 0.f); },
               ZeroSecond());
}
Var tanh(Var x, const NodeInfo& info) {
  return map_elementwise(x, info, [](float v) { return std::tanh(v); },
               [](float, float y, float g) { return g * (1.f - y * y); },
               [](float, float y) { return -2.f * y * (1.f - y * y); });
}
Var sigmoid(Var x, const NodeInfo& info) {
  return map_elementwise(x, info, sigmoid_f, [](float, float y, float g) { return g * y * (1.f - y); },
                         [](float, float y) { return y * (1.f - y) * (1.f - 2.f * y); });
}
Var softplus(Var x, float beta, const NodeInfo& info) {
  GL_CHECK(beta > 0.f, "node '", info.name, "' (", info.op, "): beta must be positive, got ", beta);
  return map_elementwise(
      x, info,
      [beta](float v) { return beta * v > 20.f ? v : std::log1p(std::exp(beta * v)) / beta; },
      [beta](float v, float, float g) { return beta * v > 20.f ? g : g * sigmoid_f(beta * v); },
      [beta](float v, float) {
        if (beta * v > 20.f) return 0.f;  // the linear branch
        const float s = sigmoid_f(beta * v);
        return beta * s * (1.f - s);
      });
}
Var relu(Var x, const NodeInfo& info) { return rectifier(x, kNoUpperBound, info); }
Var clip(Var x, float lo, float hi, const NodeInfo& info) {
  GL_CHECK(lo <= hi, "node '", info.name, "' (", info.op, "): min ", lo, " exceeds max ", hi);
  if (lo == 0.f) return rectifier(x, hi, info);
  return map_elementwise(x, info, [lo, hi](float v) { return std::min(std::max(v, lo), hi); },
               [lo, hi](float v, float, float g) { return (v > lo && v < hi) ? g : 0.f; },
               ZeroSecond());
}
Var leaky_relu(Var x, float alpha, const NodeInfo& info) {
  return map_elementwise(x, info, [alpha](float v) { return v > 0.f ? v : alpha * v; },
               [alpha](float v, float, float g) { return v > 0.f ? g : alpha * g; },
               ZeroSecond());
}
Var hard_sigmoid(Var x, float alpha, float beta, const NodeInfo& info) {
  return map_elementwise(
      x, info, [alpha, beta](float v) { return std::min(1.f, std::max(0.f, alpha * v + beta)); },
      [alpha, beta](float v, float, float g) {
        float t = alpha * v + beta;
        return (t > 0.f && t < 1.f) ? g * alpha : 0.f;
      },
      ZeroSecond());
}
Var hard_swish(Var x, const NodeInfo& info) {
  return map_elementwise(
      x, info, [](float v) { return v * std::min(1.f, std::max(0.f, v / 6.f + 0.5f)); },
      [](float v, float, float g) {
        if (v <= -3.f) return 0.f;
        if (v >= 3.f) return g;
        return g * (v / 3.f + 0.5f);
      },
      [](float v, float) { return (v > -3.f && v < 3.f) ? 1.f / 3.f : 0.f; });
}
namespace {
template <class F>
Var rounding(Var x, const NodeInfo& info, F f) {
  GL_CHECK(x.valid(), "node '", info.name, "' (", info.op, "): invalid input");
  const Tensor& vx = x.value();
  Tensor y = x.tape->alloc(vx.shape());
  for (int64_t i = 0; i < vx.numel(); ++i) y[i] = f(vx[i]);
  return x.tape->record(info, {x}, y, BackwardFn());
}
}  // namespace

Var floor(Var x, const NodeInfo& info) { return rounding(x, info, [](float v) { return std::floor(v); }); }
Var ceil(Var x, const NodeInfo& info) { return rounding(x, info, [](float v) { return std::ceil(v); }); }
Var round(Var x, const NodeInfo& info) { return rounding(x, info, [](float v) { return std::nearbyint(v); }); }
Var trunc(Var x, const NodeInfo& info) { return rounding(x, info, [](float v) { return std::trunc(v); }); }

Var scale(Var x, float s, const NodeInfo& info) {
  return map_elementwise(x, info, [s](float v) { return s * v; }, [s](float, float, float g) { return s * g; },
                         ZeroSecond());
}

}  // namespace gradlens
