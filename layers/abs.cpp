// Abs (ONNX operators §Abs, opsets 1/6/13): y = |x|. Backward: ∂x = g · sign x (0 at x = 0,
// as PyTorch). Opset 1 carried the legacy consumed_inputs attribute (accepted, unused).
#include "engine/ops.h"
#include "layers/op_util.h"
#include "layers/unary_layer.h"

namespace gradlens {

class Abs : public UnaryLayer {
 public:
  void forward(Tape&, const std::vector<Var>& in, std::vector<Var>& out) const override {
    out[0] = abs(in[0], info());
  }

 protected:
  void parse(AttributeReader& a, const std::vector<const Initializer*>& c) override {
    UnaryLayer::parse(a, c);
    accept_consumed_inputs(a, node_);
  }
};

}  // namespace gradlens

GRADLENS_REGISTER_LAYER(Abs, gradlens::Abs)
