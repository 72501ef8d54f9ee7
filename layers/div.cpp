// Div (ONNX operators §Div, opsets 1/6/7/13/14): y = a / b, numpy broadcasting (legacy
// broadcasting before opset 7, see binary_layer.h). Backward: ∂a = g / b, ∂b = −g · a / b², each
// summed over the axes it was broadcast along. No bias. Integer operands (shape arithmetic)
// divide with truncation toward zero and carry no gradient.
#include "layers/binary_layer.h"

namespace gradlens {

class Div : public BinaryLayer {
 protected:
  // Integer division truncates toward zero (C semantics, as onnxruntime).
  bool apply_int(int64_t a, int64_t b, int64_t& y) const override {
    if (b == 0) return false;
    y = a / b;
    return true;
  }
  Var apply(Var a, Var b, const NodeInfo& info) const override {
    if (!integer_operands()) return div(a, b, info);
    // Integer tensors travel as floats at run time: divide, then truncate.
    return trunc(div(a, b, NodeInfo{real_quotient_, "Div"}), info);
  }
  void parse(AttributeReader& attributes, const std::vector<const Initializer*>& c) override {
    BinaryLayer::parse(attributes, c);
    real_quotient_ = (node_.outputs.empty() ? node_.name : node_.outputs[0]) + "/real_quotient";
  }

 private:
  std::string real_quotient_;
};

}  // namespace gradlens

GRADLENS_REGISTER_LAYER(Div, gradlens::Div)
