// Not (ONNX operators §Not, opset 1): logical negation of a boolean tensor, y = (x = 0) as 0/1.
// Not differentiable (recorded with no backward). Folded exactly.
#include "layers/shape_util.h"
#include "layers/unary_layer.h"

namespace gradlens {

class Not : public UnaryLayer {
 public:
  void forward(Tape& tape, const std::vector<Var>& in, std::vector<Var>& out) const override {
    const Tensor& x = in[0].value();
    Tensor y(x.shape());
    for (int64_t i = 0; i < x.numel(); ++i) y[i] = x[i] == 0.f ? 1.f : 0.f;
    out[0] = record_values(tape, y, info());
  }

  std::vector<bool> integer_outputs() const override { return {true}; }
  std::vector<Initializer> fold(const std::vector<const Initializer*>& in) const override {
    const Initializer& x = *in[0];
    std::vector<int64_t> y(size_t(x.value.numel()));
    for (size_t i = 0; i < y.size(); ++i)
      y[i] = x.is_integer ? x.ints[i] == 0 : x.value[int64_t(i)] == 0.f;
    return {int_initializer(x.value.shape(), std::move(y))};
  }
};

}  // namespace gradlens

GRADLENS_REGISTER_LAYER(Not, gradlens::Not)
