// MatMul (ONNX operators §MatMul, opsets 1/9/13): numpy matmul. A 1-D A is a row [1,K] and a 1-D
// B a column [K,1] (the promoted axis is dropped from the result); leading batch axes broadcast.
//   forward   Y[..., M, N] = A[..., M, K] · B[..., K, N]
//   backward  ∂A = g · Bᵀ, ∂B = Aᵀ · g, each summed over the batch axes it was broadcast along
// (engine matmul). A constant operand is a tape constant and gets no gradient.
#include "engine/ops.h"
#include "layers/layer.h"

namespace gradlens {

class MatMul : public Layer {
 public:
  std::vector<Shape> infer(const std::vector<Shape>& in) const override {
    if (in.size() != 2) error("expected 2 inputs, got ", in.size());
    int64_t M, N, K, batch;
    return {plan(in[0], in[1], M, N, K, batch)};
  }

  int64_t macs(const std::vector<Shape>& in) const override {
    if (in.size() != 2) return 0;
    int64_t M, N, K, batch;
    plan(in[0], in[1], M, N, K, batch);
    return batch * M * N * K;
  }

  void forward(Tape&, const std::vector<Var>& in, std::vector<Var>& out) const override {
    out[0] = matmul(in[0], in[1], info());
  }

 protected:
  void parse(AttributeReader&, const std::vector<const Initializer*>&) override {
    expect_inputs(2, 2);
  }

 private:
  // Output shape with the extents M, N, K and the number of broadcast batch matrices.
  Shape plan(const Shape& a, const Shape& b, int64_t& M, int64_t& N, int64_t& K,
             int64_t& batch) const {
    if (a.rank() < 1 || b.rank() < 1)
      error("operands must have rank >= 1, got ", a.str(), " and ", b.str());
    M = a.rank() == 1 ? 1 : a.dim(-2);
    K = a.dim(-1);
    const int64_t kb = b.rank() == 1 ? b[0] : b.dim(-2);
    N = b.rank() == 1 ? 1 : b.dim(-1);
    if (kb != K) error("inner dimensions of ", a.str(), " and ", b.str(), " differ");
    Shape ba, bb;
    for (int i = 0; i < a.rank() - 2; ++i) ba.push_back(a[i]);
    for (int i = 0; i < b.rank() - 2; ++i) bb.push_back(b[i]);
    Shape out;
    try {
      out = broadcast_shapes(ba, bb);
    } catch (const Error& e) {
      error("batch axes: ", e.what());
    }
    batch = out.numel();
    if (a.rank() > 1) out.push_back(M);
    if (b.rank() > 1) out.push_back(N);
    return out;
  }
};

}  // namespace gradlens

GRADLENS_REGISTER_LAYER(MatMul, gradlens::MatMul)
