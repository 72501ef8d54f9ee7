#include "attribution/metrics/randomized_model.h"

#include <cmath>
#include <map>
#include <set>

#include "engine/error.h"
#include "engine/random.h"

namespace gradlens {

namespace {
// Input positions of each op's learned tensors (MatMul: either operand that is a constant).
const std::map<std::string, std::vector<size_t>>& learned_inputs() {
  static const std::map<std::string, std::vector<size_t>> table = {
      {"Conv", {1, 2}},
      {"ConvTranspose", {1, 2}},
      {"Gemm", {1, 2}},
      {"MatMul", {0, 1}},
      {"BatchNormalization", {1, 2}},
      {"InstanceNormalization", {1, 2}},
      {"LayerNormalization", {1, 2}},
      {"PRelu", {1}},
  };
  return table;
}
}  // namespace

std::vector<ParametrisedLayer> parametrised_layers(const Model& model) {
  const auto& initializers = model.graph().initializers;
  std::vector<ParametrisedLayer> out;
  std::set<std::string> taken;
  const auto& layers = model.layers();
  for (auto it = layers.rbegin(); it != layers.rend(); ++it) {
    const NodeDef& node = (*it)->node();
    const auto entry = learned_inputs().find(node.op_type);
    if (entry == learned_inputs().end()) continue;
    ParametrisedLayer p{node.name, node.op_type, {}};
    for (size_t k : entry->second) {
      if (k >= node.inputs.size() || node.inputs[k].empty()) continue;
      const auto init = initializers.find(node.inputs[k]);
      if (init == initializers.end() || init->second.is_integer || init->second.value.numel() == 0) continue;
      if (taken.insert(node.inputs[k]).second) p.tensors.push_back(node.inputs[k]);
    }
    if (!p.tensors.empty()) out.push_back(p);
  }
  return out;
}

Tensor redrawn_weights(const Tensor& trained, uint64_t seed, int64_t layer, int64_t tensor) {
  const int64_t n = trained.numel();
  double mean = 0, var = 0;
  for (int64_t i = 0; i < n; ++i) mean += trained[i];
  mean /= double(n);
  for (int64_t i = 0; i < n; ++i) var += (trained[i] - mean) * (trained[i] - mean);
  const double sd = std::sqrt(var / double(n));
  Tensor out = trained.clone();
  if (!(sd > 0)) return out;
  Rng rng(seed * 1000003u + uint64_t(layer) * 1009u + uint64_t(tensor));
  for (int64_t i = 0; i < n; ++i) out[i] = float(mean + sd * rng.normal());
  return out;
}

std::unique_ptr<Model> randomized_model(const Model& model, const std::vector<ParametrisedLayer>& layers,
                                        const std::vector<int64_t>& chosen, uint64_t seed) {
  Graph g = model.graph();
  for (int64_t l : chosen) {
    GL_CHECK(l >= 0 && l < int64_t(layers.size()), "randomized_model: no parametrised layer ", l);
    for (size_t t = 0; t < layers[size_t(l)].tensors.size(); ++t) {
      Initializer& init = g.initializers.at(layers[size_t(l)].tensors[t]);
      init.value = redrawn_weights(init.value, seed, l, int64_t(t));
    }
  }
  return std::make_unique<Model>(std::move(g));
}

}  // namespace gradlens
