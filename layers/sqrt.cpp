// Sqrt (ONNX operators §Sqrt, opsets 1/6/13): y = √x (NaN for x < 0).
// Backward: ∂x = g / (2y). Opset 1 carried the legacy consumed_inputs attribute (accepted, unused).
#include "engine/ops.h"
#include "layers/op_util.h"
#include "layers/unary_layer.h"

namespace gradlens {

class Sqrt : public UnaryLayer {
 public:
  void forward(Tape&, const std::vector<Var>& in, std::vector<Var>& out) const override {
    out[0] = sqrt(in[0], info());
  }

 protected:
  void parse(AttributeReader& a, const std::vector<const Initializer*>& c) override {
    UnaryLayer::parse(a, c);
    accept_consumed_inputs(a, node_);
  }
};

}  // namespace gradlens

GRADLENS_REGISTER_LAYER(Sqrt, gradlens::Sqrt)
