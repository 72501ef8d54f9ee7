// Pow (ONNX operators §Pow, opsets 1/7/12/13/15): y = aᵇ, numpy broadcasting from opset 7 (legacy
// broadcast/axis attributes before, see binary_layer.h). The exponent may be a constant (e.g.
// the Pow(x, 2) of an exported LayerNorm) or a runtime tensor.
// Backward (engine op pow): ∂a = g·b·a^(b−1) (0 where b = 0), ∂b = g·aᵇ·ln a (0 where a <= 0),
// each summed over the axes it was broadcast along.
#include "layers/binary_layer.h"

namespace gradlens {

class Pow : public BinaryLayer {
 protected:
  Var apply(Var a, Var b, const NodeInfo& info) const override { return pow(a, b, info); }
};

}  // namespace gradlens

GRADLENS_REGISTER_LAYER(Pow, gradlens::Pow)
