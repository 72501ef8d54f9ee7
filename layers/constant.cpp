// Constant (ONNX operators §Constant, opsets 1/9/11/12/13/19/21): a node without inputs whose
// output is the constant given by exactly one attribute: `value` (a tensor; integer-typed when
// the file's tensor is), or from opset 12 `value_float` / `value_int` (scalars) or
// `value_floats` / `value_ints` (1-D). `sparse_value` (opset 11) and the string forms are not
// supported. Always folded at load time (integer values stay exact); forward(), for a Constant
// run outside a Model, records the value with no backward.
#include "layers/shape_util.h"

namespace gradlens {

class Constant : public Layer {
 public:
  std::vector<Shape> infer(const std::vector<Shape>&) const override {
    return {value_.value.shape()};
  }

  void forward(Tape& tape, const std::vector<Var>&, std::vector<Var>& out) const override {
    out[0] = record_values(tape, value_.value, info());
  }

  std::vector<bool> integer_outputs() const override { return {value_.is_integer}; }
  std::vector<Initializer> fold(const std::vector<const Initializer*>&) const override {
    Initializer v = value_;
    v.value = value_.value.clone();
    return {v};
  }

 protected:
  void parse(AttributeReader& a, const std::vector<const Initializer*>&) override {
    expect_inputs(0, 0);
    for (const char* unsupported : {"sparse_value", "value_string", "value_strings"})
      if (a.has(unsupported)) error("attribute '", unsupported, "' is not supported");
    int given = 0;
    if (a.has("value")) {
      value_ = tensor_attribute(node_, "value", a.get_tensor("value"));
      ++given;
    }
    if (node_.opset < 12)
      for (const char* later : {"value_float", "value_floats", "value_int", "value_ints"})
        if (a.has(later)) error("attribute '", later, "' needs opset 12, the node has ", node_.opset);
    if (node_.opset >= 12) {
      if (a.has("value_float")) {
        value_ = Initializer(Tensor(Shape{}, {a.get_float("value_float", 0.f)}));
        ++given;
      }
      if (a.has("value_floats")) {
        const std::vector<float> v = a.get_floats("value_floats", {});
        Tensor t(Shape{int64_t(v.size())});
        std::copy(v.begin(), v.end(), t.data());
        value_ = Initializer(t);
        ++given;
      }
      if (a.has("value_int")) {
        value_ = int_initializer(Shape{}, {a.get_int("value_int", 0)});
        ++given;
      }
      if (a.has("value_ints")) {
        const std::vector<int64_t> v = a.get_ints("value_ints", {});
        value_ = int_initializer(Shape{int64_t(v.size())}, v);
        ++given;
      }
    }
    if (given != 1) error("exactly one value attribute must be given, got ", given);
  }

 private:
  Initializer value_;
};

}  // namespace gradlens

GRADLENS_REGISTER_LAYER(Constant, gradlens::Constant)
