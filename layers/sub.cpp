// Sub (ONNX operators §Sub, opsets 1/6/7/13/14): y = a − b, numpy broadcasting (legacy
// broadcasting before opset 7, see binary_layer.h). Backward: ∂a = g, ∂b = −g, each summed over
// the axes it was broadcast along.
// Bias: x − c adds −c (NodeInfo::bias = −c, precomputed); c − x adds c (bias = c).
#include "layers/binary_layer.h"

namespace gradlens {

class Sub : public BinaryLayer {
 protected:
  bool apply_int(int64_t a, int64_t b, int64_t& y) const override { return y = a - b, true; }
  Var apply(Var a, Var b, const NodeInfo& info) const override { return sub(a, b, info); }
  Tensor make_bias(const Tensor* a, const Tensor* b) const override {
    if (a) return a->clone();
    Tensor negated = b->clone();
    negated.vec() = -negated.vec();
    return negated;
  }
};

}  // namespace gradlens

GRADLENS_REGISTER_LAYER(Sub, gradlens::Sub)
