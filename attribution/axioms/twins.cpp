#include "attribution/axioms/twins.h"

#include <algorithm>
#include <numeric>
#include <set>

#include "engine/random.h"

namespace gradlens {

namespace {

const std::set<std::string> kChannelwise = {"Relu",          "LeakyRelu",         "MaxPool",           "AveragePool",
                                            "GlobalMaxPool", "GlobalAveragePool", "BatchNormalization"};

int64_t int_attribute(const NodeDef& node, const std::string& name, int64_t fallback) {
  auto it = node.attributes.find(name);
  return it == node.attributes.end() ? fallback : it->second.i;
}

// The nodes reading tensor `name`.
std::vector<size_t> readers(const Graph& g, const std::string& name) {
  std::vector<size_t> out;
  for (size_t k = 0; k < g.nodes.size(); ++k)
    if (std::count(g.nodes[k].inputs.begin(), g.nodes[k].inputs.end(), name)) out.push_back(k);
  return out;
}

bool is_graph_output(const Graph& g, const std::string& name) {
  return std::any_of(g.outputs.begin(), g.outputs.end(), [&](const ValueInfo& v) { return v.name == name; });
}

// A linear layer's weight layout: which axis of its weight initializer holds output and input
// channels.
struct Linear {
  size_t node;
  std::string weight, bias;  // initializer names ("" when no bias)
  int out_axis, in_axis;
};

bool as_linear(const Graph& g, size_t k, Linear& lin) {
  const NodeDef& n = g.nodes[k];
  if (n.inputs.size() < 2 || !g.initializers.count(n.inputs[1])) return false;
  if (n.op_type == "Conv" && int_attribute(n, "group", 1) == 1) {
    lin = {k, n.inputs[1], "", 0, 1};
  } else if (n.op_type == "Gemm" && int_attribute(n, "transA", 0) == 0) {
    const bool tb = int_attribute(n, "transB", 0) != 0;
    lin = {k, n.inputs[1], "", tb ? 0 : 1, tb ? 1 : 0};
  } else {
    return false;
  }
  if (n.inputs.size() > 2 && !n.inputs[2].empty()) {
    if (!g.initializers.count(n.inputs[2])) return false;
    lin.bias = n.inputs[2];
  }
  return g.initializers.at(lin.weight).value.rank() >= 2;
}

// A pair A → chain → B.
struct Pair {
  Linear a, b;
  std::vector<size_t> chain;  // channelwise nodes between them
  bool batch_norm = false;
  int64_t channels = 0;
};

// Slices of w along `axis`, reordered / scaled / appended by `map`: out slice j = scale[j] · w slice src[j].
Tensor remap(const Tensor& w, int axis, const std::vector<int64_t>& src, const std::vector<float>& scale) {
  std::vector<int64_t> dims = w.shape().vec();
  int64_t outer = 1, inner = 1;
  for (int a = 0; a < axis; ++a) outer *= dims[size_t(a)];
  for (size_t a = size_t(axis) + 1; a < dims.size(); ++a) inner *= dims[a];
  const int64_t old_n = dims[size_t(axis)], new_n = int64_t(src.size());
  dims[size_t(axis)] = new_n;
  Tensor out{Shape(dims)};
  for (int64_t o = 0; o < outer; ++o)
    for (int64_t j = 0; j < new_n; ++j)
      for (int64_t i = 0; i < inner; ++i)
        out[(o * new_n + j) * inner + i] = scale[size_t(j)] * w[(o * old_n + src[size_t(j)]) * inner + i];
  return out;
}

void remap_initializer(Graph& g, const std::string& name, int axis, const std::vector<int64_t>& src,
                       const std::vector<float>& scale) {
  if (name.empty()) return;
  Initializer& init = g.initializers.at(name);
  init.value = remap(init.value, axis, src, scale);
}

bool find_partner(const Graph& g, const Linear& a, Pair& pair, std::string& why) {
  pair.a = a;
  pair.channels = g.initializers.at(a.weight).value.dim(a.out_axis);
  if (!a.bias.empty() && g.initializers.at(a.bias).value.numel() != pair.channels)
    return why = "its bias does not have one value per channel", false;
  std::string t = g.nodes[a.node].outputs[0];
  bool pooled = false;  // after a global pooling [N, C, 1, 1], Flatten(axis 1) keeps the channel order
  while (true) {
    if (is_graph_output(g, t)) return why = "its output '" + t + "' is a graph output", false;
    const std::vector<size_t> r = readers(g, t);
    if (r.size() != 1) return why = "'" + t + "' is read by " + std::to_string(r.size()) + " nodes", false;
    const NodeDef& n = g.nodes[r[0]];
    const bool flatten = n.op_type == "Flatten" && pooled && int_attribute(n, "axis", 1) == 1;
    if ((kChannelwise.count(n.op_type) || flatten) && n.inputs[0] == t) {
      if (n.op_type == "GlobalAveragePool" || n.op_type == "GlobalMaxPool") pooled = true;
      if (n.op_type == "BatchNormalization") {
        for (size_t i = 1; i < 5 && i < n.inputs.size(); ++i)
          if (!g.initializers.count(n.inputs[i]) || g.initializers.at(n.inputs[i]).value.numel() != pair.channels)
            return why = "BatchNormalization '" + n.name + "' has non-constant parameters", false;
        pair.batch_norm = true;
      }
      pair.chain.push_back(r[0]);
      t = n.outputs[0];
      continue;
    }
    Linear b;
    if (n.inputs[0] != t || !as_linear(g, r[0], b))
      return why = "'" + t + "' reaches " + n.op_type + " '" + n.name + "', not a Conv/Gemm through channelwise ops",
             false;
    if (g.initializers.at(b.weight).value.dim(b.in_axis) != pair.channels)
      return why = "the next layer '" + n.name + "' does not take one input per channel", false;
    if (std::count(g.nodes[a.node].inputs.begin(), g.nodes[a.node].inputs.end(), b.weight))
      return why = "the two layers share a weight", false;
    pair.b = b;
    return true;
  }
}

// A's output channels and everything per channel up to B's input, remapped by (src, scale_a),
// B's input channels by (src, scale_b).
Graph remapped(const Graph& g, const Pair& p, const std::vector<int64_t>& src, const std::vector<float>& scale_a,
               const std::vector<float>& scale_b) {
  Graph out = g;
  const std::vector<float> ones(src.size(), 1.f);
  remap_initializer(out, p.a.weight, p.a.out_axis, src, scale_a);
  remap_initializer(out, p.a.bias, 0, src, scale_a);
  for (size_t k : p.chain)
    if (g.nodes[k].op_type == "BatchNormalization")
      for (size_t i = 1; i < 5; ++i) remap_initializer(out, g.nodes[k].inputs[i], 0, src, ones);
  remap_initializer(out, p.b.weight, p.b.in_axis, src, scale_b);
  return out;
}

std::string pair_text(const Graph& g, const Pair& p) {
  return std::to_string(p.channels) + " channels between '" + g.nodes[p.a.node].name + "' and '" +
         g.nodes[p.b.node].name + "'";
}

}  // namespace

std::vector<Twin> functional_twins(const Graph& graph, uint64_t seed, std::vector<std::string>& skipped) {
  std::vector<Twin> twins;
  Rng rng(seed);
  bool identities = false;
  for (size_t k = 0; k < graph.nodes.size(); ++k) {
    Linear a;
    if (!as_linear(graph, k, a)) continue;
    Pair p;
    std::string why;
    if (!find_partner(graph, a, p, why)) {
      skipped.push_back("'" + graph.nodes[k].name + "' (" + graph.nodes[k].op_type + "): " + why);
      continue;
    }
    const int64_t C = p.channels;
    // Permutation: a seeded Fisher–Yates shuffle.
    std::vector<int64_t> perm(static_cast<size_t>(C));
    std::iota(perm.begin(), perm.end(), 0);
    for (int64_t i = C - 1; i > 0; --i) std::swap(perm[size_t(i)], perm[size_t(rng.below(i + 1))]);
    const std::vector<float> ones(size_t(C), 1.f);
    twins.push_back({"permute " + pair_text(graph, p), remapped(graph, p, perm, ones, ones)});
    if (!p.batch_norm) {
      std::vector<int64_t> same(static_cast<size_t>(C));
      std::iota(same.begin(), same.end(), 0);
      std::vector<float> alpha(static_cast<size_t>(C)), inverse(static_cast<size_t>(C));
      for (size_t c = 0; c < size_t(C); ++c) {
        alpha[c] = float(std::exp2(rng.uniform(-1.0, 1.0)));
        inverse[c] = 1.f / alpha[c];
      }
      twins.push_back({"rescale " + pair_text(graph, p) + " by α ∈ [0.5, 2]", remapped(graph, p, same, alpha, inverse)});
      std::vector<int64_t> split = same;
      split.push_back(C - 1);
      std::vector<float> half(size_t(C + 1), 1.f), keep(size_t(C + 1), 1.f);
      half[size_t(C - 1)] = half[size_t(C)] = 0.5f;
      twins.push_back({"split the last of " + pair_text(graph, p) + " into two halves", remapped(graph, p, split, half, keep)});
    }
    if (!identities) {
      identities = true;
      Graph g = graph;
      const std::string t = graph.nodes[k].outputs[0];
      const std::string id = t + ".twin_identity", mul = t + ".twin_mul", add = t + ".twin_add";
      g.initializers[t + ".twin_one"] = Initializer(Tensor(Shape{1}, {1.f}));
      g.initializers[t + ".twin_zero"] = Initializer(Tensor(Shape{1}, {0.f}));
      for (NodeDef& n : g.nodes)
        for (std::string& in : n.inputs)
          if (in == t) in = add;
      for (ValueInfo& o : g.outputs)
        if (o.name == t) o.name = add;
      NodeDef n1, n2, n3;
      n1.name = id, n1.op_type = "Identity", n1.inputs = {t}, n1.outputs = {id};
      n2.name = mul, n2.op_type = "Mul", n2.inputs = {id, t + ".twin_one"}, n2.outputs = {mul};
      n3.name = add, n3.op_type = "Add", n3.inputs = {mul, t + ".twin_zero"}, n3.outputs = {add};
      g.nodes.insert(g.nodes.begin() + long(k) + 1, {n1, n2, n3});
      twins.push_back({"Identity, Mul 1 and Add 0 after '" + graph.nodes[k].name + "'", std::move(g)});
    }
  }
  return twins;
}

}  // namespace gradlens
