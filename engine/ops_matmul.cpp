// numpy matmul (ONNX MatMul). y[..., M, N] = a[..., M, K] · b[..., K, N] with broadcast batch
// axes. ∂a = g · bᵀ and ∂b = aᵀ · g, each summed over the batch axes its operand was broadcast on.
// Second order (tape.h): ẏ = ȧ·b + a·ḃ, curvature S_a = g·ḃᵀ and S_b = ȧᵀ·g.
#include <algorithm>

#include "engine/broadcast.h"
#include "engine/error.h"
#include "engine/gemm.h"
#include "engine/hessian.h"
#include "engine/ops.h"
#include "engine/parallel.h"

namespace gradlens {

namespace {

struct MatmulPlan {
  Shape a3, b3;        // operands with 1-D promoted: [..., M, K], [..., K, N]
  Shape batch;         // broadcast batch shape
  Shape out_full;      // batch + [M, N]
  Shape out;           // with promoted axes removed
  int64_t M = 0, N = 0, K = 0;
  bool fold = false;   // b is a plain matrix: fold a's batch into rows, one GEMM
};

MatmulPlan plan_matmul(const Shape& a, const Shape& b, const NodeInfo& info) {
  GL_CHECK(a.rank() >= 1 && b.rank() >= 1, "node '", info.name, "' (", info.op,
           "): operands must have rank >= 1, got ", a.str(), " and ", b.str());
  MatmulPlan p;
  p.a3 = a.rank() == 1 ? Shape{1, a[0]} : a;
  p.b3 = b.rank() == 1 ? Shape{b[0], 1} : b;
  p.M = p.a3.dim(-2);
  p.K = p.a3.dim(-1);
  p.N = p.b3.dim(-1);
  GL_CHECK(p.b3.dim(-2) == p.K, "node '", info.name, "' (", info.op, "): inner dimensions of ",
           a.str(), " and ", b.str(), " differ");
  Shape ba, bb;
  for (int i = 0; i < p.a3.rank() - 2; ++i) ba.push_back(p.a3[i]);
  for (int i = 0; i < p.b3.rank() - 2; ++i) bb.push_back(p.b3[i]);
  try {
    p.batch = broadcast_shapes(ba, bb);
  } catch (const Error& e) {
    fail("node '", info.name, "' (", info.op, "): batch axes: ", e.what());
  }
  p.out_full = p.batch;
  p.out_full.push_back(p.M);
  p.out_full.push_back(p.N);
  for (int i = 0; i < p.batch.rank(); ++i) p.out.push_back(p.batch[i]);
  if (a.rank() > 1) p.out.push_back(p.M);
  if (b.rank() > 1) p.out.push_back(p.N);
  p.fold = bb.rank() == 0;
  return p;
}

// Offsets (in matrices) of batch index t in a and b under broadcasting.
void batch_offsets(const MatmulPlan& p, int64_t t, int64_t& ia, int64_t& ib) {
  ia = ib = 0;
  int64_t sa = 1, sb = 1;
  const int ra = p.a3.rank() - 2, rb = p.b3.rank() - 2, R = p.batch.rank();
  for (int i = R - 1; i >= 0; --i) {
    const int64_t idx = t % p.batch[i];
    t /= p.batch[i];
    const int ja = ra - R + i, jb = rb - R + i;
    if (ja >= 0) {
      if (p.a3[ja] != 1) ia += idx * sa;
      sa *= p.a3[ja];
    }
    if (jb >= 0) {
      if (p.b3[jb] != 1) ib += idx * sb;
      sb *= p.b3[jb];
    }
  }
}

// y = a · b (into y, overwritten).
void product(const MatmulPlan& p, const float* a, const float* b, float* y) {
  const int64_t nb = p.batch.numel();
  if (p.fold) {
    gemm(nb * p.M, p.N, p.K, a, false, b, false, y, false);
    return;
  }
  parallel_for(nb, [&](int64_t t) {
    int64_t ia, ib;
    batch_offsets(p, t, ia, ib);
    gemm(p.M, p.N, p.K, a + ia * p.M * p.K, false, b + ib * p.K * p.N, false, y + t * p.M * p.N, false);
  });
}

// da = g · bᵀ summed over a's broadcast batch axes (into da, overwritten). `scratch` holds
// batch·M·K floats unless p.fold.
void left_gradient(const MatmulPlan& p, const float* g, const float* b, float* da, Tensor scratch) {
  const int64_t nb = p.batch.numel();
  if (p.fold) {
    gemm(nb * p.M, p.K, p.N, g, false, b, true, da, false);
    return;
  }
  parallel_for(nb, [&](int64_t t) {
    int64_t ia, ib;
    batch_offsets(p, t, ia, ib);
    gemm(p.M, p.K, p.N, g + t * p.M * p.N, false, b + ib * p.K * p.N, true,
         scratch.data() + t * p.M * p.K, false);
  });
  reduce_to_shape_into(scratch, p.a3, da);
}

// db = aᵀ · g summed over b's broadcast batch axes. `scratch` holds batch·K·N floats unless p.fold.
void right_gradient(const MatmulPlan& p, const float* a, const float* g, float* db, Tensor scratch) {
  const int64_t nb = p.batch.numel();
  if (p.fold) {
    gemm(p.K, p.N, nb * p.M, a, true, g, false, db, false);
    return;
  }
  parallel_for(nb, [&](int64_t t) {
    int64_t ia, ib;
    batch_offsets(p, t, ia, ib);
    gemm(p.K, p.N, p.M, a + ia * p.M * p.K, true, g + t * p.M * p.N, false,
         scratch.data() + t * p.K * p.N, false);
  });
  reduce_to_shape_into(scratch, p.b3, db);
}

Shape with_matrix(const Shape& batch, int64_t rows, int64_t cols) {
  Shape s = batch;
  s.push_back(rows);
  s.push_back(cols);
  return s;
}

}  // namespace

Var matmul(Var a, Var b, const NodeInfo& info) {
  GL_CHECK(a.valid() && b.valid() && a.tape == b.tape, "node '", info.name, "' (", info.op,
           "): operands are not on the same tape");
  const Tensor& va = a.value();
  const Tensor& vb = b.value();
  MatmulPlan p = plan_matmul(va.shape(), vb.shape(), info);
  Tensor y = a.tape->alloc(p.out);
  product(p, va.data(), vb.data(), y.data());
  return a.tape->record(info, {a, b}, y, [](BackwardContext& ctx) {
    const MatmulPlan p = plan_matmul(ctx.input(0).shape(), ctx.input(1).shape(), ctx.info());
    const float* g = ctx.grad_output().data();
    if (ctx.needs_grad(0)) {
      Tensor da = ctx.alloc(ctx.input(0).shape());
      left_gradient(p, g, ctx.input(1).data(), da.data(),
                    p.fold ? Tensor() : ctx.alloc(with_matrix(p.batch, p.M, p.K)));
      ctx.accumulate_fresh(0, da);
    }
    if (ctx.needs_grad(1)) {
      Tensor db = ctx.alloc(ctx.input(1).shape());
      right_gradient(p, ctx.input(0).data(), g, db.data(),
                     p.fold ? Tensor() : ctx.alloc(with_matrix(p.batch, p.K, p.N)));
      ctx.accumulate_fresh(1, db);
    }
  }, [](TangentContext& ctx) {
    // ẏ = ȧ·b + a·ḃ;  S_a = g·ḃᵀ, S_b = ȧᵀ·g (each summed to its operand's shape).
    const MatmulPlan p = plan_matmul(ctx.input(0).shape(), ctx.input(1).shape(), ctx.info());
    const Tensor& ta = ctx.input_tangent(0);
    const Tensor& tb = ctx.input_tangent(1);
    Tensor yt = ctx.alloc(ctx.output().shape());
    if (!ta.empty()) product(p, ta.data(), ctx.input(1).data(), yt.data());
    if (!tb.empty()) {
      Tensor part = ta.empty() ? yt : ctx.alloc(ctx.output().shape());
      product(p, ctx.input(0).data(), tb.data(), part.data());
      if (!ta.empty()) yt.vec() += part.vec();
    }
    ctx.set_tangent(yt);
    const Tensor& g = ctx.grad_output();
    if (g.empty()) return;
    if (!tb.empty()) {
      Tensor sa = ctx.alloc(ctx.input(0).shape());
      left_gradient(p, g.data(), tb.data(), sa.data(),
                    p.fold ? Tensor() : ctx.alloc(with_matrix(p.batch, p.M, p.K)));
      ctx.add_curvature(0, sa);
    }
    if (!ta.empty()) {
      Tensor sb = ctx.alloc(ctx.input(1).shape());
      right_gradient(p, ta.data(), g.data(), sb.data(),
                     p.fold ? Tensor() : ctx.alloc(with_matrix(p.batch, p.K, p.N)));
      ctx.add_curvature(1, sb);
    }
  });
}

}  // namespace gradlens
