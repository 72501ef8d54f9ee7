// Relu (ONNX operators §Relu): y = max(0, x).
// Backward follows the tape's rule set (engine/rules.h): standard g·[x>0], deconvnet, guided,
// rectgrad.
#include "engine/ops.h"
#include "layers/unary_layer.h"

namespace gradlens {

class Relu : public UnaryLayer {
 public:
  void forward(Tape&, const std::vector<Var>& in, std::vector<Var>& out) const override {
    out[0] = relu(in[0], info());
  }
};

}  // namespace gradlens

GRADLENS_REGISTER_LAYER(Relu, gradlens::Relu)
