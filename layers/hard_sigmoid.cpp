// HardSigmoid (ONNX operators §HardSigmoid, opsets 1/6): y = max(0, min(1, α x + β)),
// α = `alpha` (default 0.2), β = `beta` (default 0.5).
// Backward: ∂x = g · α where 0 < α x + β < 1, else 0.
#include "engine/ops.h"
#include "layers/op_util.h"
#include "layers/unary_layer.h"

namespace gradlens {

class HardSigmoid : public UnaryLayer {
 public:
  void forward(Tape&, const std::vector<Var>& in, std::vector<Var>& out) const override {
    out[0] = hard_sigmoid(in[0], alpha_, beta_, info());
  }

 protected:
  void parse(AttributeReader& a, const std::vector<const Initializer*>& c) override {
    UnaryLayer::parse(a, c);
    accept_consumed_inputs(a, node_);
    alpha_ = a.get_float("alpha", 0.2f);
    beta_ = a.get_float("beta", 0.5f);
  }

 private:
  float alpha_ = 0.2f, beta_ = 0.5f;
};

}  // namespace gradlens

GRADLENS_REGISTER_LAYER(HardSigmoid, gradlens::HardSigmoid)
