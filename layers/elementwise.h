// A recorded elementwise map for activation layers whose math is not an engine op (Elu, Selu,
// Gelu, Mish, ...): y = f(x) and ∂x = f'(x, y) · g, computed in parallel chunks. Each element is
// computed on its own, so results do not depend on the thread count.
#pragma once
#include <algorithm>
#include <cstdint>

#include "engine/parallel.h"
#include "engine/tape.h"

namespace gradlens {

namespace elementwise_detail {
constexpr int64_t kChunk = 1 << 14;  // elements per parallel task

template <class F>
void chunked(int64_t n, F&& f) {
  parallel_for((n + kChunk - 1) / kChunk, [&](int64_t c) {
    const int64_t s = c * kChunk, e = std::min(n, s + kChunk);
    f(s, e);
  });
}
}  // namespace elementwise_detail

// Fwd: float(float x). Bwd: float(float x, float y, float g) -> ∂x. Both small and copyable.
template <class Fwd, class Bwd>
Var map_elementwise(Var x, const NodeInfo& info, Fwd fwd, Bwd bwd) {
  using elementwise_detail::chunked;
  Tape& tape = *x.tape;
  const Tensor& vx = x.value();
  Tensor y = tape.alloc(vx.shape());
  const float* px = vx.data();
  float* py = y.data();
  chunked(vx.numel(), [&](int64_t s, int64_t e) {
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
    chunked(g.numel(), [&](int64_t s, int64_t e) {
      for (int64_t i = s; i < e; ++i) pd[i] = bwd(px[i], py[i], pg[i]);
    });
    ctx.accumulate_fresh(0, dx);
  });
}

}  // namespace gradlens
