// Div (ONNX operators §Div, opsets 1/6/7/13/14): y = a / b, numpy broadcasting (legacy
// broadcasting before opset 7, see binary_layer.h). Backward: ∂a = g / b, ∂b = −g · a / b², each
// summed over the axes it was broadcast along. No bias.
#include "layers/binary_layer.h"

namespace gradlens {

class Div : public BinaryLayer {
 protected:
  Var apply(Var a, Var b, const NodeInfo& info) const override { return div(a, b, info); }
};

}  // namespace gradlens

GRADLENS_REGISTER_LAYER(Div, gradlens::Div)
