// Tanh (ONNX operators §Tanh, opsets 1/6/13): y = tanh x.
// Backward: ∂x = g · (1 − y²).
#include "engine/ops.h"
#include "layers/op_util.h"
#include "layers/unary_layer.h"

namespace gradlens {

class Tanh : public UnaryLayer {
 public:
  void forward(Tape&, const std::vector<Var>& in, std::vector<Var>& out) const override {
    out[0] = tanh(in[0], info());
  }

 protected:
  void parse(AttributeReader& a, const std::vector<const Initializer*>& c) override {
    UnaryLayer::parse(a, c);
    accept_consumed_inputs(a, node_);
  }
};

}  // namespace gradlens

GRADLENS_REGISTER_LAYER(Tanh, gradlens::Tanh)
