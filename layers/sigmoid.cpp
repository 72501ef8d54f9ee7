// Sigmoid (ONNX operators §Sigmoid, opsets 1/6/13): y = 1 / (1 + e^−x).
// Backward: ∂x = g · y (1 − y).
#include "engine/ops.h"
#include "layers/op_util.h"
#include "layers/unary_layer.h"

namespace gradlens {

class Sigmoid : public UnaryLayer {
 public:
  void forward(Tape&, const std::vector<Var>& in, std::vector<Var>& out) const override {
    out[0] = sigmoid(in[0], info());
  }

 protected:
  void parse(AttributeReader& a, const std::vector<const Initializer*>& c) override {
    UnaryLayer::parse(a, c);
    accept_consumed_inputs(a, node_);
  }
};

}  // namespace gradlens

GRADLENS_REGISTER_LAYER(Sigmoid, gradlens::Sigmoid)
