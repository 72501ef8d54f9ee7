// InstanceNormalization (ONNX operators §InstanceNormalization, opsets 1/6/22): for input
// [N, C, D1, ...] each (n, c) plane is normalised over its spatial elements:
//   y = scale[c] · (x − μ) / √(σ² + ε) + B[c],   ε = epsilon (1e-5)
// scale and B are constant [C] tensors. Opset 1 carried the legacy consumed_inputs attribute
// (accepted, unused).
// Backward, input only (layers/normalization.h): with d = g·scale[c] and x̂ the normalised input,
//   ∂x = r·(d − mean(d) − x̂ ⊙ mean(d ⊙ x̂)) per plane.
// B is a constant added to the output: reported as NodeInfo::bias shaped [C, 1, ..., 1] for the
// input's rank (FullGrad).
#include <array>

#include "layers/normalization.h"
#include "layers/op_util.h"

namespace gradlens {

class InstanceNormalization : public Layer {
 public:
  std::vector<Shape> infer(const std::vector<Shape>& in) const override {
    if (in.empty()) error("expected 3 inputs, got 0");
    check_input(in[0]);
    return {in[0]};
  }

  void forward(Tape&, const std::vector<Var>& in, std::vector<Var>& out) const override {
    const Shape& xs = in[0].shape();
    check_input(xs);
    const int64_t rows = xs[0] * xs[1];
    const int64_t inner = rows ? xs.numel() / rows : 0;
    RowAffine affine;
    affine.gamma = scale_.data();
    affine.beta = bias_.data();
    affine.rows = scale_.numel();
    affine.row_stride = 1;
    affine.col_stride = 0;
    out[0] = normalize_rows(in[0], rows, inner, epsilon_, affine,
                            info(0, &bias_views_[size_t(xs.rank())]));
  }

 protected:
  void parse(AttributeReader& a, const std::vector<const Initializer*>& c) override {
    expect_inputs(3, 3);
    accept_consumed_inputs(a, node_);
    epsilon_ = a.get_float("epsilon", 1e-5f);
    if (!(epsilon_ >= 0.f)) error("epsilon must be >= 0, got ", epsilon_);
    scale_ = constant_input(c, 1, "scale").value.clone();
    bias_ = constant_input(c, 2, "B").value.clone();
    if (scale_.rank() != 1) error("scale must be 1-D [C], got shape ", scale_.shape().str());
    if (bias_.shape() != scale_.shape())
      error("B has shape ", bias_.shape().str(), ", scale has ", scale_.shape().str());
    const int64_t C = scale_.numel();
    for (int r = 3; r <= kMaxRank; ++r) {
      Shape s{C};
      while (s.rank() < r - 1) s.push_back(1);
      bias_views_[size_t(r)] = bias_.reshaped(s);
    }
  }

 private:
  void check_input(const Shape& x) const {
    if (x.rank() < 3) error("input must be [N, C, D1, ...] (rank >= 3), got shape ", x.str());
    if (x[1] != scale_.numel())
      error("input ", x.str(), " has ", x[1], " channels, scale and B have ", scale_.numel());
  }

  float epsilon_ = 1e-5f;
  Tensor scale_, bias_;
  std::array<Tensor, kMaxRank + 1> bias_views_;
};

}  // namespace gradlens

GRADLENS_REGISTER_LAYER(InstanceNormalization, gradlens::InstanceNormalization)
