// LayerNormalization (ONNX operators §LayerNormalization, opset 17): X is normalised over its
// trailing axes [axis, rank) (axis default −1, may be negative):
//   y = (x − μ) / √(σ² + ε) · Scale + B,   μ, σ² over the normalised axes, ε = epsilon (1e-5)
// Scale and the optional B broadcast (numpy rules) to the normalised shape X.shape[axis:]; here
// they must be constants (weights). stash_type (1 = float, the default, or 11 = double) names the
// precision of the statistics; they are computed in double either way.
// Backward, input only (layers/normalization.h): with d = g ⊙ Scale and x̂ the normalised input,
//   ∂x = r·(d − mean(d) − x̂ ⊙ mean(d ⊙ x̂)),  r = 1/√(σ² + ε).
// B is a constant added to the output: reported as NodeInfo::bias (FullGrad).
// The optional Mean and InvStdDev outputs (training by-products) are not supported.
// Exporters at opsets < 17 decompose the op into ReduceMean, Sub, Pow, ReduceMean, Add, Sqrt, Div,
// Mul, Add, which run through those layers.
#include "engine/broadcast.h"
#include "layers/layer.h"
#include "layers/normalization.h"

namespace gradlens {

class LayerNormalization : public Layer {
 public:
  std::vector<Shape> infer(const std::vector<Shape>& in) const override {
    if (in.empty()) error("expected input X");
    normalized_shape(in[0]);
    return {in[0]};
  }

  void forward(Tape& tape, const std::vector<Var>& in, std::vector<Var>& out) const override {
    const Shape& xs = in[0].shape();
    const Shape norm = normalized_shape(xs);
    const int64_t inner = norm.numel();
    const int64_t rows = inner ? xs.numel() / inner : 0;
    // Scale and B expanded to the normalised shape, in the arena (alive for the run).
    Tensor gamma = expand(tape, scale_, norm);
    Tensor beta = bias_.empty() ? Tensor() : expand(tape, bias_, norm);
    RowAffine affine;
    affine.gamma = gamma.data();
    affine.beta = beta.empty() ? nullptr : beta.data();
    affine.rows = 1;
    affine.row_stride = 0;
    affine.col_stride = 1;
    out[0] = normalize_rows(in[0], rows, inner, epsilon_, affine,
                            info(0, bias_.empty() ? nullptr : &bias_));
  }

 protected:
  void parse(AttributeReader& a, const std::vector<const Initializer*>& c) override {
    expect_inputs(2, 3);
    axis_ = a.get_int("axis", -1);
    epsilon_ = a.get_float("epsilon", 1e-5f);
    if (!(epsilon_ >= 0.f)) error("epsilon must be >= 0, got ", epsilon_);
    const int64_t stash = a.get_int("stash_type", 1);
    if (stash != 1 && stash != 11)
      error("stash_type must be 1 (float) or 11 (double), got ", stash);
    for (size_t k = 1; k < node_.outputs.size(); ++k)
      if (!node_.outputs[k].empty())
        error("output ", k, " ('", node_.outputs[k], "', ", k == 1 ? "Mean" : "InvStdDev",
              ") is not supported");
    scale_ = constant_input(c, 1, "Scale").value.clone();
    if (node_.inputs.size() > 2 && !node_.inputs[2].empty())
      bias_ = constant_input(c, 2, "B").value.clone();
  }

 private:
  Shape normalized_shape(const Shape& x) const {
    const int64_t ax = axis_ < 0 ? axis_ + x.rank() : axis_;
    if (ax < 0 || ax >= x.rank())
      error("axis ", axis_, " is out of range for input X of shape ", x.str());
    Shape norm;
    for (int i = int(ax); i < x.rank(); ++i) norm.push_back(x[i]);
    const Tensor* params[2] = {&scale_, &bias_};
    const char* names[2] = {"Scale", "B"};
    for (int k = 0; k < 2; ++k) {
      if (params[k]->empty()) continue;
      bool ok;
      try {
        ok = broadcast_shapes(norm, params[k]->shape()) == norm;
      } catch (const Error&) {
        ok = false;
      }
      if (!ok)
        error(names[k], " of shape ", params[k]->shape().str(),
              " does not broadcast to the normalized shape ", norm.str(), " (input X ", x.str(),
              ", axis ", axis_, ")");
    }
    return norm;
  }

  static Tensor expand(Tape& tape, const Tensor& p, const Shape& norm) {
    Tensor t = tape.alloc(norm);
    float* pt = t.data();
    const float* pp = p.data();
    BroadcastPlan(norm, p.shape(), norm)
        .for_each([&](int64_t o, int64_t, int64_t ib, int64_t n, int64_t, int64_t sb) {
          for (int64_t j = 0; j < n; ++j) pt[o + j] = pp[ib + j * sb];
        });
    return t;
  }

  int64_t axis_ = -1;
  float epsilon_ = 1e-5f;
  Tensor scale_, bias_;
};

}  // namespace gradlens

GRADLENS_REGISTER_LAYER(LayerNormalization, gradlens::LayerNormalization)
