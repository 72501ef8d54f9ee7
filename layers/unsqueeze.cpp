// Unsqueeze (ONNX operators §Unsqueeze, opsets 1/11/13/21): inserts unit axes at `axes`, which
// index the output (rank r + len(axes)); negative axes count from the output's end from opset 11.
// `axes` is an attribute before opset 13 and input 1 (1-D int64, constant or runtime) from 13;
// it is required and may not repeat an axis.
// Backward: ∂x = g reshaped to x's shape (the output is a view of x). Folded exactly when x is an
// integer constant (a scalar extent becoming a 1-element shape vector).
#include <algorithm>

#include "engine/ops.h"
#include "layers/shape_util.h"

namespace gradlens {

class Unsqueeze : public Layer {
 public:
  std::vector<Shape> infer(const std::vector<Shape>& in) const override {
    if (in.empty()) error("expected an input");
    if (!axes_.constant) error("the axes are computed at run time");
    return {output_shape(in[0], axes_.values)};
  }

  void forward(Tape&, const std::vector<Var>& in, std::vector<Var>& out) const override {
    out[0] = reshape(in[0], output_shape(in[0].shape(), axes_.get(in, 1)), info());
  }

  std::vector<Initializer> fold(const std::vector<const Initializer*>& in) const override {
    Initializer r = *in[0];
    r.value = in[0]->value.clone().reshaped(output_shape(in[0]->value.shape(), axes_.values));
    return {r};
  }

 protected:
  void parse(AttributeReader& a, const std::vector<const Initializer*>& c) override {
    if (node_.opset < 13) {
      expect_inputs(1, 1);
      if (!a.has("axes")) error("attribute 'axes' is required");
      axes_.present = axes_.constant = true;
      axes_.values = a.get_ints("axes", {});
      axes_.shape = Shape{int64_t(axes_.values.size())};
    } else {
      expect_inputs(2, 2);
      axes_.load(node_, c, 1);
    }
    if (axes_.constant && axes_.shape.rank() != 1)
      error("axes must be 1-D, got a tensor of shape ", axes_.shape.str());
  }

 private:
  Shape output_shape(const Shape& x, const std::vector<int64_t>& axes) const {
    const int r = x.rank() + int(axes.size());
    if (r > kMaxRank) error("output rank ", r, " exceeds the maximum ", kMaxRank);
    std::vector<bool> unit(size_t(r), false);
    for (int64_t a : axes) {
      if (a < 0 && node_.opset < 11)
        error("axis ", a, " is negative, which opset ", node_.opset, " does not allow");
      const int n = normalize_axis(*this, a, r);
      if (unit[size_t(n)]) error("axis ", a, " is repeated");
      unit[size_t(n)] = true;
    }
    Shape out;
    int k = 0;
    for (int i = 0; i < r; ++i) out.push_back(unit[size_t(i)] ? 1 : x[k++]);
    return out;
  }

  IntInput axes_;
};

}  // namespace gradlens

GRADLENS_REGISTER_LAYER(Unsqueeze, gradlens::Unsqueeze)
