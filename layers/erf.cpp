// Erf (ONNX operators §Erf, opsets 9/13): y = erf x = (2/√π) ∫₀ˣ e^(−t²) dt.
// Backward: ∂x = g · (2/√π) · e^(−x²) (engine op erf).
#include "engine/ops.h"
#include "layers/unary_layer.h"

namespace gradlens {

class Erf : public UnaryLayer {
 public:
  void forward(Tape&, const std::vector<Var>& in, std::vector<Var>& out) const override {
    out[0] = erf(in[0], info());
  }
};

}  // namespace gradlens

GRADLENS_REGISTER_LAYER(Erf, gradlens::Erf)
