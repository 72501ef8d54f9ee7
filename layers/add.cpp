// Add (ONNX operators §Add, opsets 1/6/7/13/14): y = a + b, numpy broadcasting (legacy broadcasting
// before opset 7, see binary_layer.h). Backward: ∂a = g, ∂b = g, each summed over the axes it was
// broadcast along.
// Bias: with one constant operand c (a Linear layer exported as MatMul + Add), the node adds c:
// NodeInfo::bias = c.
#include "layers/binary_layer.h"

namespace gradlens {

class Add : public BinaryLayer {
 protected:
  bool apply_int(int64_t a, int64_t b, int64_t& y) const override { return y = a + b, true; }
  Var apply(Var a, Var b, const NodeInfo& info) const override { return add(a, b, info); }
  Tensor make_bias(const Tensor* a, const Tensor* b) const override {
    return (a ? a : b)->clone();
  }
};

}  // namespace gradlens

GRADLENS_REGISTER_LAYER(Add, gradlens::Add)
