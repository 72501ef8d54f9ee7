// Base for the comparison layers Equal, Less, Greater (ONNX operators §Equal etc.): a boolean
// (0/1) tensor of a ∘ b with numpy broadcasting from opset 7; opsets 1-6 used legacy
// broadcasting (`broadcast` = 1 lets b broadcast to a with its axes aligned from `axis`, default
// the trailing ones; without it the shapes must be equal). Not differentiable: recorded with no
// backward. Folded exactly when both operands are integer constants.
#pragma once
#include "layers/op_util.h"
#include "layers/shape_util.h"

namespace gradlens {

class CompareLayer : public Layer {
 public:
  std::vector<Shape> infer(const std::vector<Shape>& in) const override {
    if (in.size() != 2) error("expected 2 inputs, got ", in.size());
    return {output_shape(in[0], b_shape(in[0], in[1]))};
  }

  void forward(Tape& tape, const std::vector<Var>& in, std::vector<Var>& out) const override {
    const Tensor& a = in[0].value();
    const Tensor& b = in[1].value();
    const Shape bs = b_shape(a.shape(), b.shape());
    const Shape os = output_shape(a.shape(), bs);
    const auto sa = strides_of(a.shape()), sb = strides_of(bs);
    Tensor y(os);
    for_each_index(os, [&](int64_t i, const int64_t* o) {
      y[i] = compare(double(a[broadcast_offset(o, os.rank(), a.shape(), sa)]),
                     double(b[broadcast_offset(o, os.rank(), bs, sb)]));
    });
    out[0] = record_values(tape, y, info());
  }

  std::vector<bool> integer_outputs() const override { return {true}; }
  std::vector<Initializer> fold(const std::vector<const Initializer*>& in) const override {
    const Initializer &a = *in[0], &b = *in[1];
    const Shape bs = b_shape(a.value.shape(), b.value.shape());
    const Shape os = output_shape(a.value.shape(), bs);
    const auto sa = strides_of(a.value.shape()), sb = strides_of(bs);
    const bool exact = a.is_integer && b.is_integer;
    std::vector<int64_t> y(size_t(os.numel()));
    for_each_index(os, [&](int64_t i, const int64_t* o) {
      const int64_t ia = broadcast_offset(o, os.rank(), a.value.shape(), sa);
      const int64_t ib = broadcast_offset(o, os.rank(), bs, sb);
      y[size_t(i)] = exact ? compare_ints(a.ints[size_t(ia)], b.ints[size_t(ib)])
                           : compare(double(a.value[ia]), double(b.value[ib]));
    });
    return {int_initializer(os, std::move(y))};
  }

 protected:
  virtual bool compare(double a, double b) const = 0;
  virtual bool compare_ints(int64_t a, int64_t b) const = 0;

  void parse(AttributeReader& a, const std::vector<const Initializer*>&) override {
    expect_inputs(2, 2);
    if (node_.opset < 7) {
      legacy_ = true;
      broadcast_ = a.get_int("broadcast", 0) != 0;
      has_axis_ = a.has("axis");
      axis_ = a.get_int("axis", 0);
      if (has_axis_ && !broadcast_) error("attribute 'axis' needs broadcast = 1");
    }
  }

 private:
  Shape b_shape(const Shape& a, const Shape& b) const {
    if (!legacy_) return b;
    if (!broadcast_) {
      if (a != b) error("shapes ", a.str(), " and ", b.str(), " differ and broadcast = 0");
      return b;
    }
    const int64_t axis = has_axis_ ? (axis_ < 0 ? axis_ + a.rank() : axis_) : a.rank() - b.rank();
    if (axis < 0 || axis + b.rank() > a.rank())
      error("B of shape ", b.str(), " cannot broadcast to A of shape ", a.str(), " at axis ", axis_);
    Shape s = b;
    while (s.rank() < a.rank() - axis) s.push_back(1);
    return s;
  }
  Shape output_shape(const Shape& a, const Shape& b) const {
    try {
      return broadcast_shapes(a, b);
    } catch (const Error& e) {
      error(e.what());
    }
  }

  bool legacy_ = false, broadcast_ = false, has_axis_ = false;
  int64_t axis_ = 0;
};

}  // namespace gradlens
