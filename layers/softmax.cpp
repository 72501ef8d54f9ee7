// Softmax and LogSoftmax (ONNX operators §Softmax, §LogSoftmax, opsets 1/11/13):
// y = e^x / Σ e^x, and log y.
// From opset 13 the sum runs along `axis` (default −1). Before 13, x is coerced to 2-D
// [d0 · ... · d(axis−1), d(axis) · ... · d(r−1)] (default axis 1) and each row is normalised over
// the whole flattened tail; negative axes are allowed from opset 11.
// Backward: ∂x = y ⊙ (g − Σ g ⊙ y) (LogSoftmax: g − softmax(x)·Σ g), the sum over the same
// elements as the forward (through the reshapes of the 2-D coercion when it differs from a
// per-axis softmax).
#include <string>

#include "engine/ops.h"
#include "layers/layer.h"

namespace gradlens {

using NormalizeFn = Var (*)(Var, int, const NodeInfo&);

template <NormalizeFn Normalize>
class Softmax : public Layer {
 public:
  std::vector<Shape> infer(const std::vector<Shape>& in) const override {
    if (in.empty()) error("expected 1 input, got 0");
    axis(in[0]);
    return {in[0]};
  }

  void forward(Tape&, const std::vector<Var>& in, std::vector<Var>& out) const override {
    const Shape& s = in[0].shape();
    const int ax = axis(s);
    if (!coerce_2d_ || ax == s.rank() - 1) {  // one axis (a 2-D coercion at the last is the same)
      out[0] = Normalize(in[0], ax, info());
      return;
    }
    int64_t outer = 1, inner = 1;
    for (int i = 0; i < s.rank(); ++i) (i < ax ? outer : inner) *= s[i];
    Var rows = reshape(in[0], Shape{outer, inner}, {names_[0], "Reshape"});
    Var y = Normalize(rows, 1, {names_[1], node_.op_type});
    out[0] = reshape(y, s, info());
  }

 protected:
  void parse(AttributeReader& a, const std::vector<const Initializer*>&) override {
    expect_inputs(1, 1);
    coerce_2d_ = node_.opset < 13;
    axis_ = a.get_int("axis", coerce_2d_ ? 1 : -1);
    if (axis_ < 0 && node_.opset < 11)
      error("axis ", axis_, " is negative, which opset ", node_.opset, " does not allow");
    const std::string base = node_.outputs.empty() ? node_.name : node_.outputs[0];
    names_[0] = base + "/coerce_2d";
    names_[1] = base + "/normalized_2d";
  }

 private:
  int axis(const Shape& s) const {
    if (s.rank() == 0) error("input must have rank >= 1");
    const int64_t ax = axis_ < 0 ? axis_ + s.rank() : axis_;
    if (ax < 0 || ax >= s.rank()) error("axis ", axis_, " is out of range for rank ", s.rank());
    return int(ax);
  }

  int64_t axis_ = -1;
  bool coerce_2d_ = false;
  std::string names_[2];
};

}  // namespace gradlens

GRADLENS_REGISTER_LAYER(Softmax, gradlens::Softmax<gradlens::softmax>)
GRADLENS_REGISTER_LAYER(LogSoftmax, gradlens::Softmax<gradlens::log_softmax>)
