// Reshape (ONNX operators §Reshape, opsets 1/5/13/14/19/21): y has x's elements under a new shape.
// Before opset 5 the target is the `shape` attribute; from 5 it is input 1 (1-D int64, normally a
// constant; a runtime tensor is read when the node runs). In the target, one −1 is inferred from
// the remaining extents, and 0 copies x's extent at the same index — unless `allowzero` = 1
// (opset 14), when 0 is a zero extent (and −1 may then not appear alongside a 0).
// Backward: ∂x = g reshaped to x's shape.
// Folded at load time when x and the target are constants; integer x keeps its exact values.
#include <cmath>

#include "engine/memory.h"
#include "engine/ops.h"
#include "layers/op_util.h"

namespace gradlens {

class Reshape : public Layer {
 public:
  std::vector<Shape> infer(const std::vector<Shape>& in) const override {
    if (in.empty()) error("expected 2 inputs, got 0");
    if (!constant_target_) error("the target shape is computed at run time");
    return {resolve(in[0], target_)};
  }

  void forward(Tape&, const std::vector<Var>& in, std::vector<Var>& out) const override {
    if (constant_target_) {
      out[0] = reshape(in[0], resolve(in[0].shape(), target_), info());
      return;
    }
    const Tensor& t = in[1].value();
    std::vector<int64_t> target(size_t(t.numel()));
    for (int64_t i = 0; i < t.numel(); ++i) target[size_t(i)] = int64_t(std::llround(t[i]));
    check_target(target, t.shape());
    out[0] = reshape(in[0], resolve(in[0].shape(), target), info());
  }

  std::vector<Initializer> fold(const std::vector<const Initializer*>& in) const override {
    Initializer r = *in[0];  // all inputs are constants, so the target was read at load time
    r.value = in[0]->value.clone().reshaped(resolve(in[0]->value.shape(), target_));
    return {r};
  }

 protected:
  void parse(AttributeReader& a, const std::vector<const Initializer*>& c) override {
    if (node_.opset < 5) {
      expect_inputs(1, 1);
      accept_consumed_inputs(a, node_);
      if (!a.has("shape")) error("attribute 'shape' is required");
      target_ = a.get_ints("shape", {});
      check_target(target_, Shape{int64_t(target_.size())});
      constant_target_ = true;
      return;
    }
    expect_inputs(2, 2);
    if (node_.opset >= 14) {
      const int64_t v = a.get_int("allowzero", 0);
      if (v != 0 && v != 1) error("attribute 'allowzero' must be 0 or 1, got ", v);
      allow_zero_ = v == 1;
    }
    if (c[1]) {
      target_ = c[1]->as_ints();
      check_target(target_, c[1]->value.shape());
      constant_target_ = true;
    }
  }

 private:
  void check_target(const std::vector<int64_t>& target, const Shape& shape) const {
    if (shape.rank() != 1) error("shape must be 1-D, got a tensor of shape ", shape.str());
    if (int(target.size()) > kMaxRank)
      error("target rank ", target.size(), " exceeds the maximum ", kMaxRank);
    int inferred = 0;
    bool zero = false;
    for (int64_t d : target) {
      if (d < -1) error("shape entry ", d, " is invalid (extents are >= 0, or -1 to infer)");
      inferred += d == -1;
      zero |= d == 0;
    }
    if (inferred > 1) error("shape has ", inferred, " entries of -1, at most one is allowed");
    if (allow_zero_ && zero && inferred)
      error("shape has both 0 and -1, which allowzero = 1 does not allow");
  }

  Shape resolve(const Shape& x, const std::vector<int64_t>& target) const {
    Shape out;
    int infer_at = -1;
    int64_t known = 1;
    for (size_t i = 0; i < target.size(); ++i) {
      int64_t d = target[i];
      if (d == -1) {
        infer_at = int(i);
        d = 1;
      } else if (d == 0 && !allow_zero_) {
        if (int(i) >= x.rank())
          error("shape entry ", i, " is 0 (copy the input's extent) but the input ", x.str(),
                " has rank ", x.rank());
        d = x[int(i)];
      }
      out.push_back(d);
      if (int(i) != infer_at && !checked_mul(known, d, known))
        error("shape ", out.str(), "...: the element count overflows int64");
    }
    if (infer_at >= 0) {
      if (known == 0 || x.numel() % known != 0)
        error("cannot infer the -1 extent: ", x.numel(), " elements of ", x.str(),
              " do not divide into extents of product ", known);
      out[infer_at] = x.numel() / known;
    }
    if (out.numel() != x.numel())
      error("cannot reshape ", x.str(), " (", x.numel(), " elements) to ", out.str(), " (",
            out.numel(), " elements)");
    return out;
  }

  std::vector<int64_t> target_;
  bool constant_target_ = false, allow_zero_ = false;
};

}  // namespace gradlens

GRADLENS_REGISTER_LAYER(Reshape, gradlens::Reshape)
