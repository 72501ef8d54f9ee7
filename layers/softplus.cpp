// Softplus (ONNX operators §Softplus, opset 1): y = ln(1 + eˣ) (computed as x where x > 20, where
// the two agree to float precision). Backward: ∂x = g · σ(x).
#include "engine/ops.h"
#include "layers/unary_layer.h"

namespace gradlens {

class Softplus : public UnaryLayer {
 public:
  void forward(Tape&, const std::vector<Var>& in, std::vector<Var>& out) const override {
    out[0] = softplus(in[0], 1.f, info());
  }
};

}  // namespace gradlens

GRADLENS_REGISTER_LAYER(Softplus, gradlens::Softplus)
