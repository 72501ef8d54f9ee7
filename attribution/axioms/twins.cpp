#include "attribution/axioms/twins.h"

#include <algorithm>
#include <map>
#include <numeric>
#include <set>

#include "engine/random.h"

namespace gradlens {

namespace {

// Ops that act on each channel alone and commute with a positive per-channel scale once their
// additive parameters are scaled too (max/avg pooling, ReLU, LeakyReLU are positively homogeneous;
// BatchNormalization γ(z − μ)/√(v + ε) + β and a depthwise Conv w_c z_c + b_c are affine per channel).
const std::set<std::string> kPerChannel = {"Relu",          "LeakyRelu",         "MaxPool",           "AveragePool",
                                           "GlobalMaxPool", "GlobalAveragePool", "BatchNormalization",
                                           "Identity",      "Dropout"};
// Elementwise ops that are not positively homogeneous: a space through them can be permuted
// (every op acts on each value alone) but not rescaled or split.
const std::set<std::string> kElementwise = {"Sigmoid", "Tanh",  "HardSigmoid", "HardSwish", "Gelu",  "Elu",
                                            "Selu",    "Celu",  "Softplus",    "Softsign",  "Mish",  "Erf",
                                            "Exp",     "Log",   "Sqrt",        "Reciprocal", "Clip", "Floor",
                                            "Ceil",    "Round", "Abs",         "Neg"};
const std::set<std::string> kSpatialOnly = {"MaxPool", "AveragePool", "GlobalMaxPool", "GlobalAveragePool",
                                            "BatchNormalization"};

int64_t int_attribute(const NodeDef& node, const std::string& name, int64_t fallback) {
  auto it = node.attributes.find(name);
  return it == node.attributes.end() ? fallback : it->second.i;
}

bool is_graph_output(const Graph& g, const std::string& name) {
  return std::any_of(g.outputs.begin(), g.outputs.end(), [&](const ValueInfo& v) { return v.name == name; });
}

bool is_constant(const Graph& g, const std::string& name, int64_t numel) {
  auto it = g.initializers.find(name);
  return it != g.initializers.end() && it->second.value.numel() == numel;
}

// A linear layer on the channel axis: its weight initializer, where output and input channels lie
// in it, its bias, and its groups (a grouped Conv mixes channels only within a group).
struct Linear {
  size_t node = 0;
  std::string weight, bias;  // initializer names (bias "" when none)
  int out_axis = 0, in_axis = 1;
  int64_t groups = 1;
  bool features = false;  // Gemm/MatMul: channels on the last axis of a [..., C] activation
};

bool as_linear(const Graph& g, size_t k, Linear& lin) {
  const NodeDef& n = g.nodes[k];
  if (n.inputs.size() < 2 || !g.initializers.count(n.inputs[1]) || g.initializers.count(n.inputs[0])) return false;
  const Tensor& w = g.initializers.at(n.inputs[1]).value;
  if (w.rank() < 2) return false;
  if (n.op_type == "Conv") {
    lin = {k, n.inputs[1], "", 0, 1, int_attribute(n, "group", 1), false};
  } else if (n.op_type == "Gemm" && int_attribute(n, "transA", 0) == 0) {
    const bool tb = int_attribute(n, "transB", 0) != 0;
    lin = {k, n.inputs[1], "", tb ? 0 : 1, tb ? 1 : 0, 1, true};
  } else if (n.op_type == "MatMul" && w.rank() == 2) {
    lin = {k, n.inputs[1], "", 1, 0, 1, true};
  } else {
    return false;
  }
  if (n.op_type != "MatMul" && n.inputs.size() > 2 && !n.inputs[2].empty()) {
    if (!g.initializers.count(n.inputs[2])) return false;
    lin.bias = n.inputs[2];
  }
  return true;
}

int64_t out_channels(const Graph& g, const Linear& l) { return g.initializers.at(l.weight).value.dim(l.out_axis); }
int64_t in_channels(const Graph& g, const Linear& l) {
  return g.initializers.at(l.weight).value.dim(l.in_axis) * l.groups;
}

// A channel space: the tensors that carry the same C channels — entered through the output
// channels of its producers (linear layers), closed under per-channel ops and under Add (a
// residual connection joins two producers' channels), and left through the input channels of its
// consumers. Renumbering or rescaling its channels consistently everywhere leaves the function unchanged.
struct Space {
  int64_t channels = 0;
  std::vector<Linear> producers, consumers;
  std::vector<size_t> per_channel;  // BatchNormalization, depthwise Conv and bias Add nodes with parameters
  int64_t block = 0;                // permutations stay within blocks of this many channels (groups)
  bool homogeneous = true;          // every op inside commutes with a positive per-channel scale
  std::string not_homogeneous;      // the first op that does not
};

class SpaceFinder {
 public:
  explicit SpaceFinder(const Graph& g) : g_(g) {
    for (size_t k = 0; k < g.nodes.size(); ++k) {
      for (const std::string& t : g.nodes[k].outputs) producer_[t] = k;
      for (const std::string& t : g.nodes[k].inputs) readers_[t].push_back(k);
    }
  }

  // The space entered by linear layer `a`'s outputs; false with `why` when it leaves through an op
  // that mixes channels or reaches a graph input or output.
  bool find(const Linear& a, Space& s, std::string& why) {
    s = Space{};
    s.channels = out_channels(g_, a);
    kind_.clear();
    nodes_.clear();
    std::vector<std::string> work;
    add_producer(a, s);
    const std::string& t0 = g_.nodes[a.node].outputs[0];
    kind_[t0] = a.features;
    work.push_back(t0);
    while (!work.empty()) {
      const std::string t = work.back();
      work.pop_back();
      if (!grow(t, s, work, why)) return false;
    }
    s.block = s.channels;
    for (const Linear& l : s.producers) s.block = std::gcd(s.block, s.channels / l.groups);
    for (const Linear& l : s.consumers) s.block = std::gcd(s.block, s.channels / l.groups);
    std::set<std::string> weights;  // a weight shared by two layers would be remapped twice
    for (const auto* list : {&s.producers, &s.consumers})
      for (const Linear& l : *list)
        if (!weights.insert(l.weight).second) return why = "layers share the weight '" + l.weight + "'", false;
    return true;
  }

 private:
  const Graph& g_;
  std::map<std::string, size_t> producer_;
  std::map<std::string, std::vector<size_t>> readers_;
  std::map<std::string, bool> kind_;  // tensor in the space → channels on the last axis
  std::set<size_t> nodes_;            // nodes already placed

  static std::string quoted(const NodeDef& n) { return n.op_type + " '" + n.name + "'"; }

  // An elementwise op (or a Pad that leaves the batch and channel axes alone): its other inputs
  // must be scalar constants. Abs and Neg are positively homogeneous; a Pad is when it pads with
  // 0 or copies values (reflect, edge); the others are not, so the space is only permuted.
  bool elementwise(const NodeDef& n, bool features, Space& s, std::string& why) {
    bool homogeneous = n.op_type == "Abs" || n.op_type == "Neg";
    if (n.op_type == "Pad") {
      std::vector<int64_t> pads;
      if (n.attributes.count("pads")) {
        pads = n.attributes.at("pads").ints;
      } else if (n.inputs.size() > 1 && g_.initializers.count(n.inputs[1])) {
        pads = g_.initializers.at(n.inputs[1]).as_ints();
      }
      const size_t rank = pads.size() / 2;
      if (features || rank < 2 || pads[0] || pads[1] || pads[rank] || pads[rank + 1] || n.inputs.size() > 3)
        return why = "pads the batch or channel axis, or pads that are not constant", false;
      float value = n.attributes.count("value") ? n.attributes.at("value").f : 0.f;
      if (n.inputs.size() > 2 && !n.inputs[2].empty()) {
        if (!is_constant(g_, n.inputs[2], 1)) return why = "has a constant_value that is not constant", false;
        value = g_.initializers.at(n.inputs[2]).value[0];
      }
      const auto mode = n.attributes.find("mode");
      homogeneous = value == 0.f || (mode != n.attributes.end() && mode->second.s != "constant");
    } else {
      for (size_t i = 1; i < n.inputs.size(); ++i)
        if (!n.inputs[i].empty() && !is_constant(g_, n.inputs[i], 1))
          return why = "takes an input that is not a scalar constant", false;
    }
    if (!homogeneous && s.homogeneous) {
      s.homogeneous = false;
      s.not_homogeneous = quoted(n);
    }
    return true;
  }

  void add_producer(const Linear& l, Space& s) {
    nodes_.insert(l.node);
    s.producers.push_back(l);
  }

  // Places tensor t's producer and readers, queueing the tensors they join to the space.
  bool grow(const std::string& t, Space& s, std::vector<std::string>& work, std::string& why) {
    if (is_graph_output(g_, t)) return why = "'" + t + "' is a graph output", false;
    const bool features = kind_.at(t);
    auto join = [&](const std::string& u, bool f) {
      auto [it, fresh] = kind_.emplace(u, f);
      if (fresh) work.push_back(u);
      return it->second == f;
    };
    auto p = producer_.find(t);
    if (p == producer_.end()) return why = "'" + t + "' is a graph input", false;
    if (!nodes_.count(p->second) && !place(p->second, t, true, features, s, join, why)) return false;
    for (size_t k : readers_[t])
      if (!nodes_.count(k) && !place(k, t, false, features, s, join, why)) return false;
    return true;
  }

  // Node k meets the space at tensor t (as its output when `upstream`, else as an input).
  template <class Join>
  bool place(size_t k, const std::string& t, bool upstream, bool features, Space& s, Join& join, std::string& why) {
    const NodeDef& n = g_.nodes[k];
    const int64_t C = s.channels;
    nodes_.insert(k);
    Linear lin;
    if (as_linear(g_, k, lin)) {
      if (upstream) {
        if (lin.features != features || out_channels(g_, lin) != C)
          return why = quoted(n) + " adds to the channels with another layout or count", false;
        s.producers.push_back(lin);
        return true;
      }
      // A depthwise Conv maps channel c to channel c: per channel, like BatchNormalization.
      const Tensor& w = g_.initializers.at(lin.weight).value;
      const bool depthwise = n.op_type == "Conv" && !features && lin.groups == C && w.dim(0) == C && w.dim(1) == 1;
      if (depthwise && n.inputs[0] == t) {
        s.per_channel.push_back(k);
        return join(n.outputs[0], false) || (why = quoted(n) + " changes the layout", false);
      }
      if (n.inputs[0] == t && lin.features == features && in_channels(g_, lin) == C) {
        s.consumers.push_back(lin);
        return true;
      }
      return why = "'" + t + "' reaches " + quoted(n) + " as its weight or with another channel count", false;
    }
    if (kPerChannel.count(n.op_type)) {
      if (features && kSpatialOnly.count(n.op_type))
        return why = quoted(n) + " on channels of the last axis", false;
      if (n.op_type == "BatchNormalization") {
        for (size_t i = 1; i < 5; ++i)
          if (i >= n.inputs.size() || !is_constant(g_, n.inputs[i], C))
            return why = quoted(n) + " has non-constant parameters", false;
        s.per_channel.push_back(k);
      }
      return (join(n.inputs[0], features) && join(n.outputs[0], features)) ||
             (why = quoted(n) + " changes the layout", false);
    }
    if (kElementwise.count(n.op_type) || n.op_type == "Pad") {
      std::string why_not;
      if (!elementwise(n, features, s, why_not)) return why = quoted(n) + " " + why_not, false;
      return (join(n.inputs[0], features) && join(n.outputs[0], features)) ||
             (why = quoted(n) + " changes the layout", false);
    }
    if (n.op_type == "Add" && n.inputs.size() == 2) {
      const int constants = int(g_.initializers.count(n.inputs[0])) + int(g_.initializers.count(n.inputs[1]));
      if (constants == 0)  // a residual connection: both summands carry the same channels
        return (join(n.inputs[0], features) && join(n.inputs[1], features) && join(n.outputs[0], features)) ||
               (why = quoted(n) + " adds two layouts", false);
      // A bias added to channels on the last axis (an exported Linear is MatMul + Add).
      const std::string& c = g_.initializers.count(n.inputs[0]) ? n.inputs[0] : n.inputs[1];
      if (!features || constants != 1 || !is_constant(g_, c, C) || g_.initializers.at(c).value.rank() != 1)
        return why = quoted(n) + " adds a constant that is not one value per channel", false;
      s.per_channel.push_back(k);
      return (join(n.inputs[0] == c ? n.inputs[1] : n.inputs[0], true) && join(n.outputs[0], true)) ||
             (why = quoted(n) + " changes the layout", false);
    }
    // Flatten(axis 1) of a globally pooled [N, C, 1, 1] keeps the channel order, now on the last axis.
    if (n.op_type == "Flatten" && int_attribute(n, "axis", 1) == 1) {
      const std::string& in = n.inputs[0];
      auto p = producer_.find(in);
      const bool pooled = p != producer_.end() && (g_.nodes[p->second].op_type == "GlobalAveragePool" ||
                                                   g_.nodes[p->second].op_type == "GlobalMaxPool");
      if (pooled) return join(in, false) && join(n.outputs[0], true);
    }
    return why = "'" + t + "' reaches " + quoted(n) + ", which is neither a linear layer nor a per-channel op", false;
  }
};

// Slices of w along `axis`, reordered / scaled / appended: out slice j = scale[j] · w slice src[j].
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

// A grouped Conv's weight [Cout, Cin/g, ...] with its input channels renumbered: input channel n
// of output o's group sits at local index n mod (Cin/g); src keeps every channel in its group.
Tensor remap_grouped_inputs(const Tensor& w, int64_t groups, const std::vector<int64_t>& src,
                            const std::vector<float>& scale) {
  Tensor out{w.shape()};  // a new tensor: copies of a Tensor share its values
  const int64_t cout = w.dim(0), per = w.dim(1), inner = w.numel() / (cout * per);
  for (int64_t o = 0; o < cout; ++o) {
    const int64_t group = o / (cout / groups);
    for (int64_t j = 0; j < per; ++j) {
      const int64_t n = group * per + j;
      for (int64_t i = 0; i < inner; ++i)
        out[(o * per + j) * inner + i] = scale[size_t(n)] * w[(o * per + src[size_t(n)] % per) * inner + i];
    }
  }
  return out;
}

void remap_initializer(Graph& g, const std::string& name, int axis, const std::vector<int64_t>& src,
                       const std::vector<float>& scale) {
  if (name.empty()) return;
  Initializer& init = g.initializers.at(name);
  init.value = remap(init.value, axis, src, scale);
}

// The space's channels renumbered by src (new channel j is old channel src[j]) and scaled by
// `scale` (> 0): producers' outputs and every additive per-channel parameter × scale, consumers'
// inputs × 1/scale, multiplicative parameters (BatchNorm's γ and variance, depthwise weights) only renumbered.
Graph remapped(const Graph& g, const Space& s, const std::vector<int64_t>& src, const std::vector<float>& scale) {
  Graph out = g;
  const std::vector<float> ones(src.size(), 1.f);
  // Consumers undo the scale; a channel copied m times (a split) is read m times, so each copy
  // counts 1/(m · scale): relu(z) = Σ_copies relu(z/m) for positive homogeneity.
  std::vector<float> consumer_scale(src.size());
  for (size_t j = 0; j < src.size(); ++j)
    consumer_scale[j] = 1.f / (scale[j] * float(std::count(src.begin(), src.end(), src[j])));
  for (const Linear& l : s.producers) {
    remap_initializer(out, l.weight, l.out_axis, src, scale);
    remap_initializer(out, l.bias, 0, src, scale);
  }
  for (size_t k : s.per_channel) {
    const NodeDef& n = g.nodes[k];
    if (n.op_type == "BatchNormalization") {
      remap_initializer(out, n.inputs[1], 0, src, ones);   // γ
      remap_initializer(out, n.inputs[2], 0, src, scale);  // β
      remap_initializer(out, n.inputs[3], 0, src, scale);  // running mean
      remap_initializer(out, n.inputs[4], 0, src, ones);   // running variance
    } else if (n.op_type == "Conv") {                      // depthwise
      remap_initializer(out, n.inputs[1], 0, src, ones);
      if (n.inputs.size() > 2) remap_initializer(out, n.inputs[2], 0, src, scale);
      out.nodes[k].attributes["group"] = Attribute::of(int64_t(src.size()));
    } else {  // Add of a per-channel bias
      remap_initializer(out, g.initializers.count(n.inputs[0]) ? n.inputs[0] : n.inputs[1], 0, src, scale);
    }
  }
  for (const Linear& l : s.consumers) {
    Initializer& w = out.initializers.at(l.weight);
    w.value = l.groups == 1 ? remap(w.value, l.in_axis, src, consumer_scale)
                            : remap_grouped_inputs(w.value, l.groups, src, consumer_scale);
  }
  return out;
}

std::string space_text(const Graph& g, const Space& s) {
  auto names = [&](const std::vector<Linear>& list) {
    std::string out = "'" + g.nodes[list[0].node].name + "'";
    if (list.size() > 1) out += " and " + std::to_string(list.size() - 1) + " more";
    return out;
  };
  return std::to_string(s.channels) + " channels from " + names(s.producers) + " to " + names(s.consumers);
}

// PyTorch's exporter stores equal initializers once and hands them to each user through an Identity
// node (an untrained network's folded-BatchNorm biases are all zero, for one). Each such Identity
// becomes an initializer of its own, so a layer's parameters can be remapped without touching
// another's; the function is unchanged.
Graph with_identity_constants_folded(const Graph& g) {
  Graph out = g;
  out.nodes.clear();
  for (const NodeDef& n : g.nodes) {
    auto it = n.op_type == "Identity" && n.inputs.size() == 1 ? g.initializers.find(n.inputs[0]) : g.initializers.end();
    if (it == g.initializers.end() || is_graph_output(g, n.outputs[0])) {
      out.nodes.push_back(n);
      continue;
    }
    Initializer copy = it->second;
    copy.value = it->second.value.clone();
    out.initializers[n.outputs[0]] = std::move(copy);
  }
  return out;
}

}  // namespace

std::vector<Twin> functional_twins(const Graph& original, uint64_t seed, std::vector<std::string>& skipped) {
  const Graph graph = with_identity_constants_folded(original);
  std::vector<Twin> twins;
  Rng rng(seed);
  SpaceFinder finder(graph);
  std::set<size_t> covered;  // producers already in a space
  bool identities = false;
  for (size_t k = 0; k < graph.nodes.size(); ++k) {
    Linear a;
    if (covered.count(k) || !as_linear(graph, k, a)) continue;
    Space s;
    std::string why;
    if (!finder.find(a, s, why)) {
      skipped.push_back("'" + graph.nodes[k].name + "' (" + graph.nodes[k].op_type + "): " + why);
      continue;
    }
    for (const Linear& l : s.producers) covered.insert(l.node);
    for (size_t n : s.per_channel) covered.insert(n);  // a depthwise Conv inside is no producer
    if (s.consumers.empty()) {
      skipped.push_back("'" + graph.nodes[k].name + "' (" + graph.nodes[k].op_type + "): its channels reach no layer");
      continue;
    }
    const int64_t C = s.channels, block = s.block;
    std::vector<int64_t> same(static_cast<size_t>(C));
    std::iota(same.begin(), same.end(), 0);
    const std::vector<float> ones(size_t(C), 1.f);
    // Permutation: a seeded Fisher–Yates shuffle within each block of channels.
    std::vector<int64_t> perm = same;
    for (int64_t b = 0; b < C; b += block)
      for (int64_t i = block - 1; i > 0; --i) std::swap(perm[size_t(b + i)], perm[size_t(b + rng.below(i + 1))]);
    const std::string grouped = block < C ? " (within groups of " + std::to_string(block) + ")" : "";
    if (block > 1) twins.push_back({"permute " + space_text(graph, s) + grouped, remapped(graph, s, perm, ones)});
    if (!s.homogeneous) {
      skipped.push_back("'" + graph.nodes[k].name + "' (" + graph.nodes[k].op_type + "): permuted only, " +
                        s.not_homogeneous + " is not positively homogeneous (no rescaled or split twin)");
    } else {
      std::vector<float> alpha(static_cast<size_t>(C));
      for (float& v : alpha) v = float(std::exp2(rng.uniform(-1.0, 1.0)));
      twins.push_back({"rescale " + space_text(graph, s) + " by α ∈ [0.5, 2]", remapped(graph, s, same, alpha)});
    }
    if (block == C && s.homogeneous) {  // relu(z) = relu(z/2) + relu(z/2): the last channel split into two halves
      std::vector<int64_t> split = same;
      split.push_back(C - 1);
      std::vector<float> half(size_t(C + 1), 1.f);
      half[size_t(C - 1)] = half[size_t(C)] = 0.5f;
      twins.push_back({"split the last of " + space_text(graph, s) + " into two halves", remapped(graph, s, split, half)});
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
