// Flatten (ONNX operators §Flatten, opsets 1/9/11/13/21): x of rank r becomes
// [d0 · ... · d(axis−1), d(axis) · ... · d(r−1)] (an empty product is 1). `axis` defaults to 1,
// lies in [0, r], and from opset 11 may be negative (counted from the end, in [−r, r]).
// Backward: ∂x = g reshaped to x's shape.
#include "engine/ops.h"
#include "layers/layer.h"

namespace gradlens {

class Flatten : public Layer {
 public:
  std::vector<Shape> infer(const std::vector<Shape>& in) const override {
    if (in.empty()) error("expected 1 input, got 0");
    return {flattened(in[0])};
  }

  void forward(Tape&, const std::vector<Var>& in, std::vector<Var>& out) const override {
    out[0] = reshape(in[0], flattened(in[0].shape()), info());
  }

 protected:
  void parse(AttributeReader& a, const std::vector<const Initializer*>&) override {
    expect_inputs(1, 1);
    axis_ = a.get_int("axis", 1);
    if (axis_ < 0 && node_.opset < 11)
      error("axis ", axis_, " is negative, which opset ", node_.opset, " does not allow");
  }

 private:
  Shape flattened(const Shape& x) const {
    const int r = x.rank();
    const int64_t axis = axis_ < 0 ? axis_ + r : axis_;
    if (axis < 0 || axis > r) error("axis ", axis_, " is out of range for rank ", r);
    int64_t outer = 1, inner = 1;
    for (int i = 0; i < r; ++i) (i < axis ? outer : inner) *= x[i];
    return Shape{outer, inner};
  }

  int64_t axis_ = 1;
};

}  // namespace gradlens

GRADLENS_REGISTER_LAYER(Flatten, gradlens::Flatten)
