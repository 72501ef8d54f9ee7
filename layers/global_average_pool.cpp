// GlobalAveragePool (ONNX operators §GlobalAveragePool): X [N, C, D1, ..., Dk] (k >= 1) →
// Y [N, C, 1, ..., 1], y[n, c] = mean over the spatial axes of x[n, c]. ∂x = g / (D1·...·Dk).
// It is the engine's mean over axes 2.. with kept axes.
#include "engine/ops.h"
#include "layers/layer.h"

namespace gradlens {

class GlobalAveragePool : public Layer {
 public:
  std::vector<Shape> infer(const std::vector<Shape>& inputs) const override {
    if (inputs.empty()) error("expected input X");
    check_rank(inputs[0]);
    Shape y = inputs[0];
    for (int i = 2; i < y.rank(); ++i) y[i] = 1;
    return {y};
  }

  void forward(Tape&, const std::vector<Var>& in, std::vector<Var>& out) const override {
    const Shape& x = in[0].shape();
    check_rank(x);
    std::vector<int> spatial;
    for (int i = 2; i < x.rank(); ++i) spatial.push_back(i);
    out[0] = mean(in[0], spatial, /*keepdims=*/true, info());
  }

 protected:
  void parse(AttributeReader&, const std::vector<const Initializer*>&) override {
    expect_inputs(1, 1);
  }

 private:
  void check_rank(const Shape& x) const {
    if (x.rank() < 3) error("input X must be [N, C, D1, ...] with spatial axes, got ", x.str());
    for (int i = 2; i < x.rank(); ++i)
      if (x[i] == 0) error("input X has an empty spatial axis: ", x.str());
  }
};

}  // namespace gradlens

GRADLENS_REGISTER_LAYER(GlobalAveragePool, gradlens::GlobalAveragePool)
