// HardSwish (ONNX operators §HardSwish, opset 14): y = x · max(0, min(1, x/6 + 1/2)).
// Backward: ∂x = 0 for x ≤ −3, g · (x/3 + 1/2) on (−3, 3), g for x ≥ 3.
#include "engine/ops.h"
#include "layers/unary_layer.h"

namespace gradlens {

class HardSwish : public UnaryLayer {
 public:
  void forward(Tape&, const std::vector<Var>& in, std::vector<Var>& out) const override {
    out[0] = hard_swish(in[0], info());
  }
};

}  // namespace gradlens

GRADLENS_REGISTER_LAYER(HardSwish, gradlens::HardSwish)
