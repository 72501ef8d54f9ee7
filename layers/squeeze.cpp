// Squeeze (ONNX operators §Squeeze, opsets 1/11/13/21): removes the unit axes listed in `axes`
// (every unit axis when `axes` is absent); listing an axis whose extent is not 1 is an error.
// Negative axes count from the end from opset 11. `axes` is an attribute before opset 13 and the
// optional input 1 (1-D int64, constant or runtime) from 13.
// Backward: ∂x = g reshaped to x's shape (the output is a view of x). Folded exactly when x is an
// integer constant.
#include "engine/ops.h"
#include "layers/shape_util.h"

namespace gradlens {

class Squeeze : public Layer {
 public:
  std::vector<Shape> infer(const std::vector<Shape>& in) const override {
    if (in.empty()) error("expected an input");
    if (axes_.present && !axes_.constant) error("the axes are computed at run time");
    return {output_shape(in[0], axes_.values)};
  }

  void forward(Tape&, const std::vector<Var>& in, std::vector<Var>& out) const override {
    const std::vector<int64_t> axes = axes_.present ? axes_.get(in, 1) : std::vector<int64_t>{};
    out[0] = reshape(in[0], output_shape(in[0].shape(), axes), info());
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
      if (a.has("axes")) {
        axes_.present = axes_.constant = true;
        axes_.values = a.get_ints("axes", {});
        axes_.shape = Shape{int64_t(axes_.values.size())};
      }
    } else {
      expect_inputs(1, 2);
      axes_.load(node_, c, 1);
    }
    if (axes_.constant && axes_.shape.rank() != 1)
      error("axes must be 1-D, got a tensor of shape ", axes_.shape.str());
  }

 private:
  Shape output_shape(const Shape& x, const std::vector<int64_t>& axes) const {
    const int r = x.rank();
    std::vector<bool> drop(size_t(r), false);
    if (!axes_.present) {
      for (int i = 0; i < r; ++i) drop[size_t(i)] = x[i] == 1;
    }
    for (int64_t a : axes) {
      if (a < 0 && node_.opset < 11)
        error("axis ", a, " is negative, which opset ", node_.opset, " does not allow");
      const int n = normalize_axis(*this, a, r);
      if (drop[size_t(n)]) error("axis ", a, " is repeated");
      if (x[n] != 1) error("axis ", a, " has extent ", x[n], ", not 1, in ", x.str());
      drop[size_t(n)] = true;
    }
    Shape out;
    for (int i = 0; i < r; ++i)
      if (!drop[size_t(i)]) out.push_back(x[i]);
    return out;
  }

  IntInput axes_;
};

}  // namespace gradlens

GRADLENS_REGISTER_LAYER(Squeeze, gradlens::Squeeze)
