// The error function erf(x) = (2/√π) ∫₀ˣ e^(−t²) dt (ONNX Erf, GELU's exact form).
// Backward: ∂x = g · (2/√π) · e^(−x²).
#include <algorithm>
#include <cmath>

#include "engine/error.h"
#include "engine/ops.h"
#include "engine/parallel.h"

namespace gradlens {

namespace {
constexpr int64_t kChunk = 1 << 14;  // elements per parallel task
constexpr double kTwoOverSqrtPi = 1.12837916709551257390;  // 2/√π

template <class F>
void chunked(int64_t n, F&& f) {
  parallel_for((n + kChunk - 1) / kChunk, [&](int64_t c) {
    const int64_t s = c * kChunk, e = std::min(n, s + kChunk);
    f(s, e);
  });
}
}  // namespace

Var erf(Var x, const NodeInfo& info) {
  GL_CHECK(x.valid(), "node '", info.name, "' (", info.op, "): invalid input");
  Tape& tape = *x.tape;
  const Tensor& vx = x.value();
  Tensor y = tape.alloc(vx.shape());
  const float* px = vx.data();
  float* py = y.data();
  chunked(vx.numel(), [&](int64_t s, int64_t e) {
    for (int64_t i = s; i < e; ++i) py[i] = std::erf(px[i]);
  });
  return tape.record(info, {x}, y, [](BackwardContext& ctx) {
    const Tensor& g = ctx.grad_output();
    const float* px = ctx.input(0).data();
    const float* pg = g.data();
    Tensor dx = ctx.alloc(g.shape());
    float* pd = dx.data();
    chunked(g.numel(), [&](int64_t s, int64_t e) {
      for (int64_t i = s; i < e; ++i) {
        const double v = px[i];
        pd[i] = float(double(pg[i]) * kTwoOverSqrtPi * std::exp(-v * v));
      }
    });
    ctx.accumulate_fresh(0, dx);
  });
}

}  // namespace gradlens
