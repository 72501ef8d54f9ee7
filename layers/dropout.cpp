// Dropout (ONNX operators §Dropout, opsets 1/6/7/10/12/13/22), inference only: y = x, and the
// optional mask output is all ones (nothing is dropped). Backward: ∂x = g.
// `ratio` is an attribute before opset 12 and an optional input from 12 (in [0, 1) either way,
// checked when constant); `seed` (12+) is accepted and unused. training_mode (input 2, 12+) must
// be false: a constant true is rejected at load, a runtime true when the node runs. Before
// opset 7, an explicit is_test = 0 (training) is rejected.
#include "engine/ops.h"
#include "layers/op_util.h"

namespace gradlens {

class Dropout : public Layer {
 public:
  std::vector<Shape> infer(const std::vector<Shape>& in) const override {
    if (in.empty()) error("expected 1 input, got 0");
    std::vector<Shape> out(node_.outputs.size() > 1 ? 2 : 1, in[0]);
    return out;
  }

  void forward(Tape& tape, const std::vector<Var>& in, std::vector<Var>& out) const override {
    if (runtime_training_mode_ && in.size() > 2 && in[2].valid()) {
      float on = 0;
      if (!single_value(in[2].value(), on)) error("training_mode must be a scalar");
      if (on != 0.f) error("training_mode = true is not supported; only inference is");
    }
    out[0] = identity(in[0], info(0));
    if (out.size() > 1 && !node_.outputs[1].empty()) {
      Tensor mask = tape.alloc(in[0].shape());
      mask.fill(1.f);
      out[1] = tape.record(info(1), nullptr, 0, mask, BackwardFn());
    }
  }

 protected:
  void parse(AttributeReader& a, const std::vector<const Initializer*>& c) override {
    if (node_.outputs.size() > 2) error("expected at most 2 outputs, got ", node_.outputs.size());
    if (node_.opset < 12) {
      expect_inputs(1, 1);
      accept_consumed_inputs(a, node_);
      check_ratio(a.get_float("ratio", 0.5f));
      if (node_.opset < 7) {
        if (a.has("is_test") && a.get_int("is_test", 1) == 0)
          error("is_test = 0 asks for training mode; only inference is supported");
        a.ignore("is_test");
      }
      return;
    }
    expect_inputs(1, 3);
    a.ignore("seed");
    if (c.size() > 1 && c[1]) {
      float ratio = 0;
      if (!single_value(c[1]->value, ratio))
        error("ratio must be a scalar, got shape ", c[1]->value.shape().str());
      check_ratio(ratio);
    }
    if (node_.inputs.size() > 2 && !node_.inputs[2].empty()) {
      if (!c[2]) {
        runtime_training_mode_ = true;
      } else {
        float on = 0;
        if (!single_value(c[2]->value, on))
          error("training_mode must be a scalar, got shape ", c[2]->value.shape().str());
        if (on != 0.f) error("training_mode = true is not supported; only inference is");
      }
    }
  }

 private:
  void check_ratio(float ratio) const {
    if (!(ratio >= 0.f && ratio < 1.f)) error("ratio must be in [0, 1), got ", ratio);
  }

  bool runtime_training_mode_ = false;
};

}  // namespace gradlens

GRADLENS_REGISTER_LAYER(Dropout, gradlens::Dropout)
