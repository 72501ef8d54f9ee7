// LeakyRelu (ONNX operators §LeakyRelu, opsets 1/6/16): y = x for x > 0, α x otherwise, with
// α = `alpha` (default 0.01). Backward: ∂x = g for x > 0, α g otherwise (not subject to the ReLU
// rules of engine/rules.h).
#include "engine/ops.h"
#include "layers/op_util.h"
#include "layers/unary_layer.h"

namespace gradlens {

class LeakyRelu : public UnaryLayer {
 public:
  void forward(Tape&, const std::vector<Var>& in, std::vector<Var>& out) const override {
    out[0] = leaky_relu(in[0], alpha_, info());
  }

 protected:
  void parse(AttributeReader& a, const std::vector<const Initializer*>& c) override {
    UnaryLayer::parse(a, c);
    accept_consumed_inputs(a, node_);
    alpha_ = a.get_float("alpha", 0.01f);
  }

 private:
  float alpha_ = 0.01f;
};

}  // namespace gradlens

GRADLENS_REGISTER_LAYER(LeakyRelu, gradlens::LeakyRelu)
