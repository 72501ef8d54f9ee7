// ConstantOfShape (ONNX operators §ConstantOfShape, opsets 9/20/21): a tensor of the shape given
// by input 0 (1-D int64; empty gives a scalar; extents must be >= 0) filled with `value`, a
// one-element tensor attribute (default: float 0). The result is integer-typed when `value` is.
// A runtime shape is read when the node runs. Not differentiable (no backward). Folded exactly.
#include "layers/shape_util.h"

namespace gradlens {

class ConstantOfShape : public Layer {
 public:
  std::vector<Shape> infer(const std::vector<Shape>&) const override {
    if (!shape_.constant) error("the shape is computed at run time");
    return {make_shape(shape_.values, shape_.shape)};
  }

  void forward(Tape& tape, const std::vector<Var>& in, std::vector<Var>& out) const override {
    Shape s;
    const std::vector<int64_t> dims = shape_.get(in, 0, &s);
    out[0] = record_values(tape, Tensor(make_shape(dims, s), value_.value[0]), info());
  }

  std::vector<bool> integer_outputs() const override { return {value_.is_integer}; }
  std::vector<Initializer> fold(const std::vector<const Initializer*>&) const override {
    const Shape s = make_shape(shape_.values, shape_.shape);
    if (value_.is_integer) {
      check_memory(s.numel() * int64_t(sizeof(int64_t)), ("constant " + s.str()).c_str());
      return {int_initializer(s, std::vector<int64_t>(size_t(s.numel()), value_.ints[0]))};
    }
    return {Initializer(Tensor(s, value_.value[0]))};
  }

 protected:
  void parse(AttributeReader& a, const std::vector<const Initializer*>& c) override {
    expect_inputs(1, 1);
    if (a.has("value")) {
      value_ = tensor_attribute(node_, "value", a.get_tensor("value"));
      if (value_.value.numel() != 1)
        error("attribute 'value' must hold one element, got shape ", value_.value.shape().str());
    } else {
      value_ = Initializer(Tensor(Shape{1}, 0.f));
    }
    shape_.load(node_, c, 0);
  }

 private:
  Shape make_shape(const std::vector<int64_t>& dims, const Shape& s) const {
    if (s.rank() != 1) error("the shape input must be 1-D, got a tensor of shape ", s.str());
    if (dims.size() > size_t(kMaxRank))
      error("output rank ", dims.size(), " exceeds the maximum ", kMaxRank);
    Shape out;
    double n = 1;
    for (int64_t d : dims) {
      if (d < 0) error("extent ", d, " is negative");
      out.push_back(d);
      n *= double(d);
    }
    if (n > double(kMaxTensorElements)) error("output of ", n, " elements is too large");
    return out;
  }

  Initializer value_;
  IntInput shape_;
};

}  // namespace gradlens

GRADLENS_REGISTER_LAYER(ConstantOfShape, gradlens::ConstantOfShape)
