// Builds small Graphs in C++ for tests: random seeded weights, auto-named tensors.
#pragma once
#include <string>
#include <vector>

#include "engine/random.h"
#include "layers/model.h"

namespace gradlens::test {

class GraphBuilder {
 public:
  explicit GraphBuilder(uint64_t seed = 7) : rng_(seed) {}

  GraphBuilder& input(const std::string& name, std::vector<int64_t> dims) {
    graph_.inputs.push_back({name, std::move(dims)});
    return *this;
  }
  // A constant with uniform random values in [lo, hi).
  std::string weight(const std::string& name, const Shape& shape, float lo = -0.5f, float hi = 0.5f) {
    Tensor t(shape);
    rng_.fill_uniform(t, lo, hi);
    return constant(name, t);
  }
  std::string constant(const std::string& name, const Tensor& t) {
    graph_.initializers[name] = Initializer(t);
    return name;
  }
  // Adds a node; its single output is named `out` (or op + counter).
  std::string node(const std::string& op, std::vector<std::string> inputs,
                   std::map<std::string, Attribute> attributes = {}, std::string out = "") {
    if (out.empty()) out = op + "_" + std::to_string(graph_.nodes.size());
    NodeDef n;
    n.name = out;
    n.op_type = op;
    n.inputs = std::move(inputs);
    n.outputs = {out};
    n.attributes = std::move(attributes);
    graph_.nodes.push_back(std::move(n));
    return out;
  }
  GraphBuilder& output(const std::string& name) {
    graph_.outputs.push_back({name, {}});
    return *this;
  }
  Graph build() const { return graph_; }
  Rng& rng() { return rng_; }

  // Conv with weights [cout, cin/groups, k, k] and a bias.
  std::string conv(const std::string& x, int64_t cin, int64_t cout, int64_t k,
                   std::map<std::string, Attribute> attrs = {}, int64_t groups = 1) {
    const std::string base = "conv" + std::to_string(graph_.nodes.size());
    attrs["group"] = Attribute::of(groups);
    return node("Conv",
                {x, weight(base + ".weight", Shape{cout, cin / groups, k, k}),
                 weight(base + ".bias", Shape{cout})},
                attrs, base);
  }
  // BatchNormalization with random statistics (variance kept positive).
  std::string batch_norm(const std::string& x, int64_t c) {
    const std::string base = "bn" + std::to_string(graph_.nodes.size());
    return node("BatchNormalization",
                {x, weight(base + ".gamma", Shape{c}, 0.5f, 1.5f),
                 weight(base + ".beta", Shape{c}), weight(base + ".mean", Shape{c}),
                 weight(base + ".var", Shape{c}, 0.5f, 2.f)},
                {{"epsilon", Attribute::of(1e-5f)}}, base);
  }
  // Gemm y = x·Wᵀ + b (a torch Linear).
  std::string linear(const std::string& x, int64_t in, int64_t out) {
    const std::string base = "fc" + std::to_string(graph_.nodes.size());
    return node("Gemm",
                {x, weight(base + ".weight", Shape{out, in}), weight(base + ".bias", Shape{out})},
                {{"transB", Attribute::of(int64_t(1))}}, base);
  }

 private:
  Graph graph_;
  Rng rng_;
};

inline std::vector<int64_t> ints(std::initializer_list<int64_t> v) { return v; }

}  // namespace gradlens::test
