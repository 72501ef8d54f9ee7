// Helpers for the layer tests: build a NodeDef, load it through the registry, run it on a tape
// with constants in their input slots, and check its gradients.
#pragma once
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "engine/gradcheck.h"
#include "layers/layer.h"
#include "support.h"

namespace gradlens::test {

struct NodeBuilder {
  NodeDef def;
  NodeBuilder(const std::string& op, std::vector<std::string> inputs, const std::string& name = "n") {
    def.op_type = op;
    def.name = name;
    def.inputs = std::move(inputs);
    def.outputs = {name + "_out"};
  }
  NodeBuilder& attr(const std::string& key, const Attribute& a) {
    def.attributes[key] = a;
    return *this;
  }
  NodeBuilder& opset(int64_t v) {
    def.opset = v;
    return *this;
  }
  NodeBuilder& outputs(std::vector<std::string> names) {
    def.outputs = std::move(names);
    return *this;
  }
  operator const NodeDef&() const { return def; }
};

inline std::unique_ptr<Layer> load_layer(const NodeDef& node,
                                         const std::vector<const Initializer*>& constants) {
  std::unique_ptr<Layer> layer = create_layer(node.op_type);
  REQUIRE(layer);
  layer->load(node, constants);
  return layer;
}

// Every input a runtime tensor.
inline std::unique_ptr<Layer> load_layer(const NodeDef& node) {
  return load_layer(node, std::vector<const Initializer*>(node.inputs.size(), nullptr));
}

// Runs the layer: input slot k is constants[k] (as a tape constant) when non-null, absent when its
// name is empty, and otherwise the next of `runtime`.
inline std::vector<Var> run_all(const Layer& layer, Tape& tape, const std::vector<Var>& runtime,
                                const std::vector<const Initializer*>& constants) {
  const NodeDef& n = layer.node();
  std::vector<Var> in(n.inputs.size());
  size_t next = 0;
  for (size_t k = 0; k < n.inputs.size(); ++k) {
    if (k < constants.size() && constants[k])
      in[k] = tape.constant(constants[k]->value, n.inputs[k]);
    else if (!n.inputs[k].empty())
      in[k] = runtime.at(next++);
  }
  REQUIRE(next == runtime.size());
  std::vector<Var> out(n.outputs.size());
  layer.forward(tape, in, out);
  return out;
}

inline Var run(const Layer& layer, Tape& tape, const std::vector<Var>& runtime,
               const std::vector<const Initializer*>& constants = {}) {
  return run_all(layer, tape, runtime, constants)[0];
}

// Forward value (owning copy) of the layer on runtime inputs xs.
inline Tensor evaluate(const Layer& layer, const std::vector<Tensor>& xs,
                       const std::vector<const Initializer*>& constants = {}) {
  Tape tape;
  std::vector<Var> vars;
  for (const Tensor& x : xs) vars.push_back(tape.input(x, false));
  return run(layer, tape, vars, constants).value().clone();
}

inline GradCheckResult gradcheck_layer(const Layer& layer, const std::vector<Tensor>& xs,
                                       const std::vector<const Initializer*>& constants = {}) {
  return check_gradients(
      [&](Tape& tape, const std::vector<Var>& vars) { return run(layer, tape, vars, constants); },
      xs);
}

// x with every value within `margin` of `kink` pushed to kink ± margin (gradient checks with a
// step of 1e-2 must not straddle a kink).
inline Tensor away_from(Tensor x, float kink, float margin = 0.1f) {
  for (int64_t i = 0; i < x.numel(); ++i)
    if (std::fabs(x[i] - kink) < margin) x[i] = x[i] < kink ? kink - margin : kink + margin;
  return x;
}

}  // namespace gradlens::test

// Checks a gradient check passed, printing the worst element when it did not.
#define CHECK_GRADIENTS(result)                                                   \
  do {                                                                            \
    const ::gradlens::GradCheckResult r_ = (result);                              \
    INFO("relative error " << r_.relative_error << "; worst " << r_.worst);       \
    CHECK(r_.relative_error < 1e-3);                                              \
  } while (0)
