// Concat (ONNX operators §Concat, opsets 1/4/11/13): joins the inputs along `axis`; every other
// extent must agree. `axis` defaults to 1 in opset 1, is required from opset 4, and may be
// negative (counted from the end) from opset 11.
// Backward: each input's gradient is its slice of g along axis.
// Folded at load time when every input is constant; when all of them are integer-typed (shape
// vectors being assembled for a Reshape or Expand) the result keeps their exact int64 values.
#include <algorithm>

#include "engine/ops.h"
#include "layers/shape_util.h"

namespace gradlens {

class Concat : public Layer {
 public:
  std::vector<Shape> infer(const std::vector<Shape>& in) const override {
    if (in.empty()) error("expected at least 1 input, got 0");
    const Shape& first = in[0];
    const int ax = axis(first);
    Shape out = first;
    out[ax] = 0;
    for (size_t k = 0; k < in.size(); ++k) {
      const Shape& s = in[k];
      bool ok = s.rank() == first.rank();
      for (int i = 0; ok && i < s.rank(); ++i) ok = i == ax || s[i] == first[i];
      if (!ok)
        error("input ", k, " of shape ", s.str(), " does not match input 0 of shape ", first.str(),
              " outside axis ", ax);
      out[ax] += s[ax];
    }
    return {out};
  }

  void forward(Tape&, const std::vector<Var>& in, std::vector<Var>& out) const override {
    std::vector<Shape> shapes;
    for (const Var& v : in) shapes.push_back(v.shape());
    const Shape& first = shapes[0];
    infer(shapes);  // validates with the node's name in the message
    out[0] = in.size() == 1 ? identity(in[0], info()) : concat(in, axis(first), info());
  }

  std::vector<Initializer> fold(const std::vector<const Initializer*>& in) const override {
    bool all_integer = true;
    std::vector<Shape> shapes;
    for (const Initializer* c : in) {
      all_integer &= c->is_integer;
      shapes.push_back(c->value.shape());
    }
    if (!all_integer) return Layer::fold(in);
    const Shape out = infer(shapes)[0];
    const int ax = axis(shapes[0]);
    // Output element → (input k, offset): walk the output in order, input by input along ax.
    int64_t outer = 1, inner = 1;
    for (int i = 0; i < ax; ++i) outer *= out[i];
    for (int i = ax + 1; i < out.rank(); ++i) inner *= out[i];
    std::vector<int64_t> values;
    values.reserve(size_t(out.numel()));
    for (int64_t o = 0; o < outer; ++o)
      for (const Initializer* c : in) {
        const int64_t row = c->value.shape()[ax] * inner;
        values.insert(values.end(), c->ints.begin() + o * row, c->ints.begin() + (o + 1) * row);
      }
    return {int_initializer(out, std::move(values))};
  }

 protected:
  void parse(AttributeReader& a, const std::vector<const Initializer*>&) override {
    expect_inputs(1, std::max<size_t>(1, node_.inputs.size()));
    for (size_t k = 0; k < node_.inputs.size(); ++k)
      if (node_.inputs[k].empty()) error("input ", k, " is missing");
    if (node_.opset >= 4 && !a.has("axis")) error("attribute 'axis' is required");
    axis_ = a.get_int("axis", 1);
    if (axis_ < 0 && node_.opset < 11)
      error("axis ", axis_, " is negative, which opset ", node_.opset, " does not allow");
  }

 private:
  int axis(const Shape& s) const {
    if (s.rank() == 0) error("cannot concatenate scalars");
    const int64_t ax = axis_ < 0 ? axis_ + s.rank() : axis_;
    if (ax < 0 || ax >= s.rank()) error("axis ", axis_, " is out of range for rank ", s.rank());
    return int(ax);
  }

  int64_t axis_ = 1;
};

}  // namespace gradlens

GRADLENS_REGISTER_LAYER(Concat, gradlens::Concat)
