// A recorded elementwise map: y = f(x) and ∂x = f'(x, y) · g, computed in parallel chunks. The
// engine's unary ops and the activation layers that are not engine ops (Elu, Selu, Gelu, Mish, ...)
// use it. Each element is computed on its own, so results do not depend on the thread count.
// Given f''(x, y) too, the node has a second-order rule (tape.h): ẏ = f'(x)·ẋ (the backward
// functor applied to ẋ, as f' is a scalar) and curvature S_x = f''(x)·ẋ·g_y.
#pragma once
#include <algorithm>
#include <cstdint>

#include "engine/error.h"
#include "engine/hessian.h"
#include "engine/parallel.h"
#include "engine/tape.h"

namespace gradlens {

constexpr int64_t kElementwiseChunk = 1 << 14;  // elements per parallel task

// f(begin, end) over [0, n) in fixed chunks, in parallel.
template <class F>
void parallel_chunks(int64_t n, F&& f) {
  parallel_for((n + kElementwiseChunk - 1) / kElementwiseChunk, [&](int64_t c) {
    const int64_t s = c * kElementwiseChunk, e = std::min(n, s + kElementwiseChunk);
    f(s, e);
  });
}

// ẏ = bwd(x, y, ẋ) and ġ_x += second(x, y)·ẋ·g_y, elementwise.
template <class Bwd, class Second>
TangentFn elementwise_tangent(Bwd bwd, Second second) {
  return [bwd, second](TangentContext& ctx) {
    const Tensor& xt = ctx.input_tangent(0);
    const Tensor& g = ctx.grad_output();
    const float* px = ctx.input(0).data();
    const float* py = ctx.output().data();
    const float* pt = xt.data();
    Tensor yt = ctx.alloc(xt.shape());
    float* pyt = yt.data();
    parallel_chunks(xt.numel(), [&](int64_t s, int64_t e) {
      for (int64_t i = s; i < e; ++i) pyt[i] = bwd(px[i], py[i], pt[i]);
    });
    ctx.set_tangent(yt);
    if (g.empty()) return;
    Tensor curvature = ctx.alloc(xt.shape());
    float* pc = curvature.data();
    const float* pg = g.data();
    parallel_chunks(xt.numel(), [&](int64_t s, int64_t e) {
      for (int64_t i = s; i < e; ++i) pc[i] = second(px[i], py[i]) * pt[i] * pg[i];
    });
    ctx.add_curvature(0, curvature);
  };
}

// f''(x) = 0 (piecewise-linear maps: zero almost everywhere).
struct ZeroSecond {
  float operator()(float, float) const { return 0.f; }
};

// Fwd: float(float x). Bwd: float(float x, float y, float g) -> ∂x. Second: float(float x,
// float y) -> f''(x), or none (no second-order rule). All small and copyable.
template <class Fwd, class Bwd>
Var record_elementwise(Var x, const NodeInfo& info, Fwd fwd, Bwd bwd, TangentFn tangent) {
  GL_CHECK(x.valid(), "node '", info.name, "' (", info.op, "): invalid input");
  Tape& tape = *x.tape;
  const Tensor& vx = x.value();
  Tensor y = tape.alloc(vx.shape());
  const float* px = vx.data();
  float* py = y.data();
  parallel_chunks(vx.numel(), [&](int64_t s, int64_t e) {
    for (int64_t i = s; i < e; ++i) py[i] = fwd(px[i]);
  });
  return tape.record(info, {x}, y, [bwd](BackwardContext& ctx) {
    if (!ctx.needs_grad(0)) return;
    const Tensor& g = ctx.grad_output();
    const float* px = ctx.input(0).data();
    const float* py = ctx.output().data();
    const float* pg = g.data();
    Tensor dx = ctx.alloc(g.shape());
    float* pd = dx.data();
    parallel_chunks(g.numel(), [&](int64_t s, int64_t e) {
      for (int64_t i = s; i < e; ++i) pd[i] = bwd(px[i], py[i], pg[i]);
    });
    ctx.accumulate_fresh(0, dx);
  }, std::move(tangent));
}

template <class Fwd, class Bwd>
Var map_elementwise(Var x, const NodeInfo& info, Fwd fwd, Bwd bwd) {
  return record_elementwise(x, info, fwd, bwd, TangentFn());
}

template <class Fwd, class Bwd, class Second>
Var map_elementwise(Var x, const NodeInfo& info, Fwd fwd, Bwd bwd, Second second) {
  return record_elementwise(x, info, fwd, bwd, elementwise_tangent(bwd, second));
}

}  // namespace gradlens
