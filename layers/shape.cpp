// Shape (ONNX operators §Shape, opsets 1/13/15/19/21): the 1-D int64 tensor of x's extents. From
// opset 15 the optional `start` / `end` attributes select dims[start:end] (negative values count
// from the end; both are clamped into [0, rank], an empty range gives an empty tensor).
// For a runtime x it runs when the node runs (a batch size other than the exported one gives the
// actual extent). Not differentiable: the output is recorded with no backward. Folded exactly
// (int64) when x is a constant.
#include <algorithm>

#include "layers/shape_util.h"

namespace gradlens {

class ShapeOp : public Layer {
 public:
  std::vector<Shape> infer(const std::vector<Shape>& in) const override {
    if (in.empty()) error("expected 1 input, got 0");
    int64_t b, e;
    range(in[0].rank(), b, e);
    return {Shape{e - b}};
  }

  void forward(Tape& tape, const std::vector<Var>& in, std::vector<Var>& out) const override {
    const std::vector<int64_t> dims = extents(in[0].shape());
    Tensor t(Shape{int64_t(dims.size())});
    for (size_t i = 0; i < dims.size(); ++i) t[int64_t(i)] = float(dims[i]);
    out[0] = record_values(tape, t, info());
  }

  std::vector<bool> integer_outputs() const override { return {true}; }
  std::vector<Initializer> fold(const std::vector<const Initializer*>& in) const override {
    const std::vector<int64_t> dims = extents(in[0]->value.shape());
    return {int_initializer(Shape{int64_t(dims.size())}, dims)};
  }

 protected:
  void parse(AttributeReader& a, const std::vector<const Initializer*>&) override {
    expect_inputs(1, 1);
    if (node_.opset >= 15) {
      start_ = a.get_int("start", 0);
      if (a.has("end")) end_ = a.get_int("end", 0), has_end_ = true;
    }
  }

 private:
  void range(int r, int64_t& b, int64_t& e) const {
    b = start_ < 0 ? start_ + r : start_;
    e = has_end_ ? (end_ < 0 ? end_ + r : end_) : r;
    b = std::clamp<int64_t>(b, 0, r);
    e = std::clamp<int64_t>(e, 0, r);
    if (e < b) e = b;
  }
  std::vector<int64_t> extents(const Shape& s) const {
    int64_t b, e;
    range(s.rank(), b, e);
    return std::vector<int64_t>(s.begin() + b, s.begin() + e);
  }

  int64_t start_ = 0, end_ = 0;
  bool has_end_ = false;
};

}  // namespace gradlens

GRADLENS_REGISTER_LAYER(Shape, gradlens::ShapeOp)
