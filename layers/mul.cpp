// Mul (ONNX operators §Mul, opsets 1/6/7/13/14): y = a · b, numpy broadcasting (legacy
// broadcasting before opset 7, see binary_layer.h). Backward: ∂a = g · b, ∂b = g · a, each summed
// over the axes it was broadcast along. Scaling adds nothing: no bias.
#include "layers/binary_layer.h"

namespace gradlens {

class Mul : public BinaryLayer {
 protected:
  bool apply_int(int64_t a, int64_t b, int64_t& y) const override { return y = a * b, true; }
  Var apply(Var a, Var b, const NodeInfo& info) const override { return mul(a, b, info); }
};

}  // namespace gradlens

GRADLENS_REGISTER_LAYER(Mul, gradlens::Mul)
