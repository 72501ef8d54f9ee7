// Range (ONNX operators §Range, opset 11): the 1-D tensor start, start + delta, ... of
// max(⌈(limit − start)/delta⌉, 0) elements; start, limit and delta are scalars (one-element
// tensors are accepted), delta ≠ 0. Integer constants give an exact int64 result; otherwise the
// values are computed in double as start + i·delta. Runtime inputs are read when the node runs.
// Not differentiable (as torch.arange): recorded with no backward.
#include <cmath>

#include "layers/shape_util.h"

namespace gradlens {

class Range : public Layer {
 public:
  std::vector<Shape> infer(const std::vector<Shape>&) const override {
    if (!constant_) error("the range is computed at run time");
    return {folded_.value.shape()};
  }

  void forward(Tape& tape, const std::vector<Var>& in, std::vector<Var>& out) const override {
    if (constant_) {
      out[0] = record_values(tape, folded_.value, info());
      return;
    }
    double v[3];
    for (int k = 0; k < 3; ++k) v[k] = scalar(in[size_t(k)].value());
    out[0] = record_values(tape, float_range(v[0], v[1], v[2]), info());
  }

  std::vector<Initializer> fold(const std::vector<const Initializer*>&) const override {
    return {folded_};
  }

 protected:
  void parse(AttributeReader&, const std::vector<const Initializer*>& c) override {
    expect_inputs(3, 3);
    constant_ = c[0] && c[1] && c[2];
    if (!constant_) return;
    for (int k = 0; k < 3; ++k) scalar(c[size_t(k)]->value);
    if (c[0]->is_integer && c[1]->is_integer && c[2]->is_integer) {
      folded_ = int_range(c[0]->ints[0], c[1]->ints[0], c[2]->ints[0]);
    } else {
      folded_ = Initializer(float_range(c[0]->value[0], c[1]->value[0], c[2]->value[0]));
    }
  }

 private:
  double scalar(const Tensor& t) const {
    if (t.numel() != 1 || t.rank() > 1)
      error("start, limit and delta must be scalars, got a tensor of shape ", t.shape().str());
    return t[0];
  }
  void check_count(double n) const {
    if (!(n <= double(kMaxTensorElements))) error("range of ", n, " elements is too large");
  }

  Initializer int_range(int64_t start, int64_t limit, int64_t delta) const {
    if (delta == 0) error("delta is 0");
    const __int128 span = __int128(limit) - __int128(start);
    __int128 n = 0;
    if (delta > 0 && span > 0) n = (span + delta - 1) / delta;
    if (delta < 0 && span < 0) n = (-span + (-__int128(delta)) - 1) / (-__int128(delta));
    check_count(double(n));
    check_memory(int64_t(n) * int64_t(sizeof(int64_t)), "integer range");
    std::vector<int64_t> v(static_cast<size_t>(n));
    for (size_t i = 0; i < v.size(); ++i) v[i] = int64_t(__int128(start) + __int128(i) * delta);
    return int_initializer(Shape{int64_t(n)}, std::move(v));
  }

  Tensor float_range(double start, double limit, double delta) const {
    if (delta == 0) error("delta is 0");
    if (!std::isfinite(start) || !std::isfinite(limit) || !std::isfinite(delta))
      error("start, limit and delta must be finite");
    const double n = std::max(std::ceil((limit - start) / delta), 0.0);
    check_count(n);
    Tensor t(Shape{int64_t(n)});
    for (int64_t i = 0; i < int64_t(n); ++i) t[i] = float(start + double(i) * delta);
    return t;
  }

  bool constant_ = false;
  Initializer folded_;
};

}  // namespace gradlens

GRADLENS_REGISTER_LAYER(Range, gradlens::Range)
