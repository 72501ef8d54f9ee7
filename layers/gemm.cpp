// Gemm (ONNX operators §Gemm, opsets 1/6/7/9/11/13): Y = α · op(A) · op(B) + β · C, with
// op(X) = Xᵀ when transX = 1; A is [M,K] (or [K,M]), B is [K,N] (or [N,K]), C broadcasts
// unidirectionally to [M,N]. Attributes alpha (1), beta (1), transA (0), transB (0); before
// opset 7 also `broadcast` (0: C must be [M,N]). C is required before opset 11, optional after.
//
// With B constant (a Linear layer's weight) the layer keeps α·B and records one node on A only:
//   forward   Y = A' · (αB)' + βC          (engine/gemm.h, then the broadcast bias)
//   backward  ∂op(A) = g · op(αB)ᵀ          i.e. ∂A = g · op(αB)ᵀ, or op(αB) · gᵀ when transA
//   tangent   Ẏ = op(Ȧ) · op(αB)               (linear in A: no curvature term)
// and reports NodeInfo::bias = β·C (as given; it broadcasts to [M,N]). Weights never receive a
// gradient. With B a runtime tensor the node is composed from engine ops (transpose, matmul,
// scale, add), whose final node carries the output name (and the β·C bias when C is constant).
#include <string>

#include "engine/broadcast.h"
#include "engine/gemm.h"
#include "engine/hessian.h"
#include "engine/ops.h"
#include "layers/layer.h"

namespace gradlens {

class Gemm : public Layer {
 public:
  std::vector<Shape> infer(const std::vector<Shape>& in) const override {
    if (in.size() < 2) error("expected at least 2 inputs, got ", in.size());
    int64_t M, N, K;
    dims(in[0], in[1], M, N, K);
    Shape y{M, N};
    if (in.size() > 2 && in[2].rank() > 0) check_c(in[2], y);
    return {y};
  }

  int64_t macs(const std::vector<Shape>& in) const override {
    if (in.size() < 2) return 0;
    int64_t M, N, K;
    dims(in[0], in[1], M, N, K);
    return M * N * K;
  }

  void forward(Tape& tape, const std::vector<Var>& in, std::vector<Var>& out) const override {
    const bool has_c = in.size() > 2 && in[2].valid();
    if (b_.empty() || (has_c && c_.empty())) {
      out[0] = composed(in, has_c);
      return;
    }
    const Tensor& a = in[0].value();
    int64_t M, N, K;
    dims(a.shape(), b_.shape(), M, N, K);
    Tensor y = tape.alloc(Shape{M, N});
    gemm(M, N, K, a.data(), trans_a_, b_.data(), trans_b_, y.data(), false);
    if (has_c) {
      check_c(bias_.shape(), y.shape());
      BroadcastPlan plan(y.shape(), bias_.shape(), y.shape());
      const float* pb = bias_.data();
      float* py = y.data();
      plan.for_each([&](int64_t o, int64_t, int64_t ib, int64_t n, int64_t, int64_t sb) {
        for (int64_t j = 0; j < n; ++j) py[o + j] += pb[ib + j * sb];
      });
    }
    const Gemm* self = this;
    out[0] = tape.record(info(0, has_c ? &bias_ : nullptr), {in[0]}, y,
                         [self, M, N, K](BackwardContext& ctx) {
      if (!ctx.needs_grad(0)) return;
      const Tensor& g = ctx.grad_output();
      Tensor da = ctx.alloc(ctx.input(0).shape());
      if (!self->trans_a_)  // [M,K] = g[M,N] · op(B)ᵀ[N,K]
        gemm(M, K, N, g.data(), false, self->b_.data(), !self->trans_b_, da.data(), false);
      else  // [K,M] = op(B)[K,N] · gᵀ[N,M]
        gemm(K, M, N, self->b_.data(), self->trans_b_, g.data(), true, da.data(), false);
      ctx.accumulate_fresh(0, da);
    }, [self, M, N, K](TangentContext& ctx) {
      Tensor yt = ctx.alloc(Shape{M, N});
      gemm(M, N, K, ctx.input_tangent(0).data(), self->trans_a_, self->b_.data(), self->trans_b_,
           yt.data(), false);
      ctx.set_tangent(yt);
    });
  }

 protected:
  void parse(AttributeReader& a, const std::vector<const Initializer*>& c) override {
    expect_inputs(node_.opset < 11 ? 3 : 2, 3);
    alpha_ = a.get_float("alpha", 1.f);
    beta_ = a.get_float("beta", 1.f);
    trans_a_ = read_flag(a, "transA");
    trans_b_ = read_flag(a, "transB");
    if (node_.opset < 7) exact_c_ = a.get_int("broadcast", 0) == 0;
    if (c[1]) {
      const Tensor& b = c[1]->value;
      if (b.rank() != 2) error("B must be 2-D, got shape ", b.shape().str());
      b_ = b.clone();
      if (alpha_ != 1.f) b_.vec() *= alpha_;
    }
    if (c.size() > 2 && c[2]) {
      c_ = c[2]->value.clone();
      bias_ = c_.clone();
      if (beta_ != 1.f) bias_.vec() *= beta_;
    }
    const std::string base = node_.outputs.empty() ? node_.name : node_.outputs[0];
    names_[0] = base + "/transA";
    names_[1] = base + "/transB";
    names_[2] = base + "/matmul";
    names_[3] = base + "/alpha";
    names_[4] = base + "/beta";
  }

 private:
  bool read_flag(AttributeReader& a, const char* name) const {
    const int64_t v = a.get_int(name, 0);
    if (v != 0 && v != 1) error("attribute '", name, "' must be 0 or 1, got ", v);
    return v == 1;
  }
  void dims(const Shape& a, const Shape& b, int64_t& M, int64_t& N, int64_t& K) const {
    if (a.rank() != 2) error("A must be 2-D, got shape ", a.str());
    if (b.rank() != 2) error("B must be 2-D, got shape ", b.str());
    M = trans_a_ ? a[1] : a[0];
    K = trans_a_ ? a[0] : a[1];
    const int64_t kb = trans_b_ ? b[1] : b[0];
    N = trans_b_ ? b[0] : b[1];
    if (kb != K)
      error("inner dimensions differ: op(A) is [", M, ",", K, "], op(B) is [", kb, ",", N, "]");
  }
  void check_c(const Shape& c, const Shape& y) const {
    bool ok = c.rank() <= 2;
    if (ok && exact_c_) ok = c == y;
    if (ok) {
      try {
        ok = broadcast_shapes(y, c) == y;
      } catch (const Error&) {
        ok = false;
      }
    }
    if (!ok) error("C of shape ", c.str(), " does not broadcast to the output ", y.str());
  }
  // B (or C) is a runtime tensor: the same computation from differentiable engine ops.
  Var composed(const std::vector<Var>& in, bool has_c) const {
    int64_t M, N, K;
    dims(in[0].shape(), in[1].shape(), M, N, K);
    const bool last_is_product = !has_c && alpha_ == 1.f;
    Var a = trans_a_ ? transpose(in[0], {1, 0}, {names_[0], "Transpose"}) : in[0];
    Var b = trans_b_ ? transpose(in[1], {1, 0}, {names_[1], "Transpose"}) : in[1];
    Var y = matmul(a, b, last_is_product ? info() : NodeInfo{names_[2], "MatMul"});
    if (alpha_ != 1.f) y = scale(y, alpha_, has_c ? NodeInfo{names_[3], "Mul"} : info());
    if (!has_c) return y;
    check_c(in[2].shape(), y.shape());
    if (!c_.empty()) return add(y, tape_constant(in[2]), info(0, &bias_));
    Var c = beta_ != 1.f ? scale(in[2], beta_, {names_[4], "Mul"}) : in[2];
    return add(y, c, info());
  }
  // The constant C scaled by β, as a tape constant viewing the layer's own copy.
  Var tape_constant(const Var& c) const { return c.tape->constant(bias_, names_[4]); }

  float alpha_ = 1.f, beta_ = 1.f;
  bool trans_a_ = false, trans_b_ = false, exact_c_ = false;
  Tensor b_;     // α · B when B is constant
  Tensor c_;     // C when constant
  Tensor bias_;  // β · C
  std::string names_[5];
};

}  // namespace gradlens

GRADLENS_REGISTER_LAYER(Gemm, gradlens::Gemm)
