// LayerNormalization (ONNX operators §LayerNormalization, opset 17): X is normalised over its
// trailing axes [axis, rank) (axis default −1, may be negative):
//   y = (x − μ) / √(σ² + ε) · Scale + B,   μ, σ² over the normalised axes, ε = epsilon (1e-5)
// Scale and the optional B broadcast (numpy rules) to the normalised shape X.shape[axis:]; here
// they must be constants (weights). stash_type (1 = float, the default, or 11 = double) names the
// precision of the statistics; they are computed in double either way.
// Backward, input only (layers/normalization.h): with d = g ⊙ Scale and x̂ the normalised input,
//   ∂x = r·(d − mean(d) − x̂ ⊙ mean(d ⊙ x̂)),  r = 1/√(σ² + ε).
// B is a constant added to the output: reported as NodeInfo::bias (FullGrad).
// The optional outputs Mean = μ and InvStdDev = 1/√(σ² + ε) have X's shape with the normalised
// axes reduced to 1; they are statistics, not differentiated (no gradient flows back through them).
// Exporters at opsets < 17 decompose the op into ReduceMean, Sub, Pow, ReduceMean, Add, Sqrt, Div,
// Mul, Add, which run through those layers.
#include <cmath>

#include "engine/broadcast.h"
#include "layers/layer.h"
#include "layers/normalization.h"

namespace gradlens {

class LayerNormalization : public Layer {
 public:
  std::vector<Shape> infer(const std::vector<Shape>& in) const override {
    if (in.empty()) error("expected input X");
    const Shape norm = normalized_shape(in[0]);
    std::vector<Shape> out = {in[0]};
    if (node_.outputs.size() > 1) out.resize(node_.outputs.size(), statistics_shape(in[0], norm));
    return out;
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
    if (node_.outputs.size() > 1) record_statistics(tape, in[0], rows, inner, statistics_shape(xs, norm), out);
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
    if (node_.outputs.size() > 3) error("expected at most 3 outputs, got ", node_.outputs.size());
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

  // X's shape with the normalised axes reduced to 1.
  static Shape statistics_shape(const Shape& x, const Shape& norm) {
    Shape s = x;
    for (int i = x.rank() - norm.rank(); i < x.rank(); ++i) s[i] = 1;
    return s;
  }

  // Mean and InvStdDev of each row (in double), recorded without a backward.
  void record_statistics(Tape& tape, Var x, int64_t rows, int64_t inner, const Shape& shape,
                         std::vector<Var>& out) const {
    Tensor mean = tape.alloc(shape), inv_std = tape.alloc(shape);
    const float* px = x.value().data();
    for (int64_t r = 0; r < rows; ++r) {
      const float* row = px + r * inner;
      double sum = 0;
      for (int64_t j = 0; j < inner; ++j) sum += row[j];
      const double mu = inner ? sum / double(inner) : 0.0;
      double squares = 0;
      for (int64_t j = 0; j < inner; ++j) squares += (row[j] - mu) * (row[j] - mu);
      const double var = inner ? squares / double(inner) : 0.0;
      mean[r] = float(mu);
      inv_std[r] = float(1.0 / std::sqrt(var + double(epsilon_)));
    }
    if (!node_.outputs[1].empty()) out[1] = tape.record(info(1), {x}, mean, {});
    if (node_.outputs.size() > 2 && !node_.outputs[2].empty())
      out[2] = tape.record(info(2), {x}, inv_std, {});
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
