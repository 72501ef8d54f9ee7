// Identity (ONNX operators §Identity, opsets 1/13/14/16): y = x (shares the input's memory).
// Backward: ∂x = g.
#include "engine/ops.h"
#include "layers/unary_layer.h"

namespace gradlens {

class Identity : public UnaryLayer {
 public:
  void forward(Tape&, const std::vector<Var>& in, std::vector<Var>& out) const override {
    out[0] = identity(in[0], info());
  }
  // A constant passes through unchanged (torch emits Identity for shared weights), integers exact.
  std::vector<Initializer> fold(const std::vector<const Initializer*>& in) const override {
    Initializer c = *in[0];
    c.value = c.value.clone();
    return {c};
  }
};

}  // namespace gradlens

GRADLENS_REGISTER_LAYER(Identity, gradlens::Identity)
