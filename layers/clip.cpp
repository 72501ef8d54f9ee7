// Clip (ONNX operators §Clip, opsets 1/6/11/12/13): y = min(max(x, lo), hi).
// Before opset 11 the bounds are attributes `min`/`max` (defaults: lowest and largest float);
// from opset 11 they are optional scalar inputs 1 and 2 (absent: −inf / +inf). Bounds given as
// runtime tensors are read when the node runs; they receive no gradient.
// Backward: ∂x = g · [lo < x < hi]; with lo = 0 (ReLU6) it is a rectifier and follows the tape's
// ReLU rules (engine/rules.h).
#include <limits>

#include "engine/ops.h"
#include "layers/op_util.h"
#include "layers/unary_layer.h"

namespace gradlens {

class Clip : public UnaryLayer {
 public:
  void forward(Tape&, const std::vector<Var>& in, std::vector<Var>& out) const override {
    float lo = lo_, hi = hi_;
    if (lo_runtime_) lo = bound(in[1], "min");
    if (hi_runtime_) hi = bound(in[2], "max");
    if (lo > hi) error("min ", lo, " exceeds max ", hi);
    out[0] = clip(in[0], lo, hi, info());
  }

 protected:
  void parse(AttributeReader& a, const std::vector<const Initializer*>& c) override {
    if (node_.opset < 11) {
      expect_inputs(1, 1);
      accept_consumed_inputs(a, node_);
      lo_ = a.get_float("min", std::numeric_limits<float>::lowest());
      hi_ = a.get_float("max", std::numeric_limits<float>::max());
    } else {
      expect_inputs(1, 3);
      load_bound(c, 1, "min", lo_, lo_runtime_);
      load_bound(c, 2, "max", hi_, hi_runtime_);
    }
    if (!lo_runtime_ && !hi_runtime_ && lo_ > hi_) error("min ", lo_, " exceeds max ", hi_);
  }

 private:
  void load_bound(const std::vector<const Initializer*>& c, size_t k, const char* what,
                  float& value, bool& runtime) {
    if (k >= node_.inputs.size() || node_.inputs[k].empty()) return;  // absent: ±inf
    if (!c[k]) {
      runtime = true;
      return;
    }
    if (!single_value(c[k]->value, value))
      error(what, " (input ", k, ") must be a scalar, got shape ", c[k]->value.shape().str());
  }
  float bound(const Var& v, const char* what) const {
    float value = 0;
    if (!single_value(v.value(), value))
      error(what, " must be a scalar, got shape ", v.shape().str());
    return value;
  }

  float lo_ = -std::numeric_limits<float>::infinity();
  float hi_ = std::numeric_limits<float>::infinity();
  bool lo_runtime_ = false, hi_runtime_ = false;
};

}  // namespace gradlens

GRADLENS_REGISTER_LAYER(Clip, gradlens::Clip)
