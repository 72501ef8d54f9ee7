// Row normalisation shared by LayerNormalization and InstanceNormalization. x is viewed as
// `rows` contiguous rows of `inner` elements; each row is standardised and scaled:
//   μ = mean(x),  σ² = mean((x − μ)²),  r = 1/√(σ² + ε),  x̂ = (x − μ)·r,  y = γ ⊙ x̂ + β
// with γ[row, j] = gamma[(row mod gamma_rows)·row_stride + j·col_stride] (β likewise, may be
// null). Statistics are accumulated in double.
// Backward (γ, β constant): with d = g ⊙ γ,
//   ∂x = r·(d − mean(d) − x̂ ⊙ mean(d ⊙ x̂))     per row.
// Rows are independent tasks, so results do not depend on the thread count.
#pragma once
#include <cmath>
#include <cstdint>

#include "engine/parallel.h"
#include "engine/tape.h"

namespace gradlens {

struct RowAffine {
  const float* gamma = nullptr;  // must outlive the tape run
  const float* beta = nullptr;   // null: no shift
  int64_t rows = 1, row_stride = 0, col_stride = 1;
  int64_t index(int64_t row, int64_t j) const { return (row % rows) * row_stride + j * col_stride; }
};

inline Var normalize_rows(Var x, int64_t rows, int64_t inner, float epsilon, RowAffine affine,
                          const NodeInfo& info) {
  Tape& tape = *x.tape;
  const Tensor& v = x.value();
  Tensor y = tape.alloc(v.shape());
  Tensor stats = tape.alloc({rows, 2});  // μ, r per row (kept for the backward)
  const float* px = v.data();
  float* py = y.data();
  float* ps = stats.data();
  parallel_for(rows, [&](int64_t row) {
    const float* xr = px + row * inner;
    float* yr = py + row * inner;
    double m = 0;
    for (int64_t j = 0; j < inner; ++j) m += xr[j];
    m /= double(inner);
    double var = 0;
    for (int64_t j = 0; j < inner; ++j) var += (xr[j] - m) * (xr[j] - m);
    var /= double(inner);
    const double r = 1.0 / std::sqrt(var + double(epsilon));
    ps[2 * row] = float(m);
    ps[2 * row + 1] = float(r);
    for (int64_t j = 0; j < inner; ++j) {
      const int64_t k = affine.index(row, j);
      const double h = (xr[j] - m) * r;
      yr[j] = float(h * affine.gamma[k] + (affine.beta ? affine.beta[k] : 0.f));
    }
  }, 4);
  const float* saved = stats.data();  // arena memory: valid until the tape is reset
  return tape.record(info, {x}, y, [saved, rows, inner, affine](BackwardContext& ctx) {
    if (!ctx.needs_grad(0)) return;
    const float* px = ctx.input(0).data();
    const float* pg = ctx.grad_output().data();
    const float* ps = saved;
    Tensor dx = ctx.alloc(ctx.input(0).shape());
    float* pd = dx.data();
    parallel_for(rows, [&](int64_t row) {
      const float* xr = px + row * inner;
      const float* gr = pg + row * inner;
      float* dr = pd + row * inner;
      const double m = ps[2 * row], r = ps[2 * row + 1];
      double mean_d = 0, mean_dh = 0;
      for (int64_t j = 0; j < inner; ++j) {
        const double d = double(gr[j]) * affine.gamma[affine.index(row, j)];
        mean_d += d;
        mean_dh += d * (xr[j] - m) * r;
      }
      mean_d /= double(inner);
      mean_dh /= double(inner);
      for (int64_t j = 0; j < inner; ++j) {
        const double d = double(gr[j]) * affine.gamma[affine.index(row, j)];
        dr[j] = float(r * (d - mean_d - (xr[j] - m) * r * mean_dh));
      }
    }, 4);
    ctx.accumulate_fresh(0, dx);
  });
}

}  // namespace gradlens
