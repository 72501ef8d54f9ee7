// Base for elementwise layers with one input and one output of the same shape.
#pragma once
#include "layers/layer.h"

namespace gradlens {

class UnaryLayer : public Layer {
 public:
  std::vector<Shape> infer(const std::vector<Shape>& inputs) const override {
    if (inputs.empty()) error("expected 1 input, got 0");
    return {inputs[0]};
  }

 protected:
  void parse(AttributeReader&, const std::vector<const Initializer*>&) override { expect_inputs(1, 1); }
};

}  // namespace gradlens
