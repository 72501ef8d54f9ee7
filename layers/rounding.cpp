// Floor, Ceil, Round (ONNX operators §Floor, §Ceil, §Round): elementwise rounding; Round rounds
// halves to even. Their derivative is zero almost everywhere, so no gradient flows through them.
#include "engine/ops.h"
#include "layers/unary_layer.h"

namespace gradlens {

template <Var (*Op)(Var, const NodeInfo&)>
class Rounding : public UnaryLayer {
 public:
  void forward(Tape&, const std::vector<Var>& in, std::vector<Var>& out) const override {
    out[0] = Op(in[0], info());
  }
};

}  // namespace gradlens

GRADLENS_REGISTER_LAYER(Floor, gradlens::Rounding<gradlens::floor>)
GRADLENS_REGISTER_LAYER(Ceil, gradlens::Rounding<gradlens::ceil>)
GRADLENS_REGISTER_LAYER(Round, gradlens::Rounding<gradlens::round>)
