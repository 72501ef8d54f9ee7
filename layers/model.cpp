#include "layers/model.h"

#include <algorithm>
#include <functional>
#include <map>
#include <queue>
#include <unordered_map>
#include <unordered_set>

#include "engine/memory.h"

namespace gradlens {

namespace {
std::string supported_ops_list() {
  std::string s;
  for (const std::string& op : registered_ops()) s += (s.empty() ? "" : ", ") + op;
  return s;
}

std::string node_label(const NodeDef& n) { return "node '" + n.name + "' (" + n.op_type + ")"; }

// e, prefixed with the node's label unless its message already names a node (layer errors do;
// engine errors such as an overflowing shape do not).
Error naming_node(const Error& e, const NodeDef& n) {
  const std::string msg = e.what();
  return Error(msg.rfind("node '", 0) == 0 ? msg : node_label(n) + ": " + msg);
}

// Who makes every tensor: the node producing it, or the graph (inputs and initializers).
struct TensorIndex {
  std::unordered_map<std::string, size_t> producer;
  std::unordered_set<std::string> available;
};

TensorIndex index_tensors(const Graph& g) {
  TensorIndex ix;
  for (const ValueInfo& v : g.inputs) ix.available.insert(v.name);
  for (const auto& entry : g.initializers) ix.available.insert(entry.first);
  for (size_t i = 0; i < g.nodes.size(); ++i) {
    const NodeDef& n = g.nodes[i];
    for (const std::string& out : n.outputs) {
      if (out.empty()) continue;
      GL_CHECK(!ix.available.count(out) && ix.producer.emplace(out, i).second, g.source, ": ",
               node_label(n), ": tensor '", out, "' is produced twice");
    }
  }
  return ix;
}

// Prune: the nodes that some graph output depends on.
std::vector<bool> nodes_reaching_outputs(const Graph& g, const TensorIndex& ix) {
  std::vector<bool> keep(g.nodes.size(), false);
  std::vector<const std::string*> stack;
  for (const ValueInfo& v : g.outputs) {
    GL_CHECK(ix.producer.count(v.name) || ix.available.count(v.name), g.source, ": graph output '",
             v.name, "' is produced by no node");
    stack.push_back(&v.name);
  }
  while (!stack.empty()) {
    const std::string& t = *stack.back();
    stack.pop_back();
    auto it = ix.producer.find(t);
    if (it == ix.producer.end() || keep[it->second]) continue;
    keep[it->second] = true;
    for (const std::string& in : g.nodes[it->second].inputs)
      if (!in.empty()) stack.push_back(&in);
  }
  return keep;
}

// Kahn's algorithm over the kept nodes, O((nodes + edges) log nodes): a ready node with the
// smallest file index goes first, so a graph already in order keeps its order. Nodes left over
// lie on or behind a cycle; the error names one that lies on it.
std::vector<size_t> topological_order(const Graph& g, const TensorIndex& ix,
                                      const std::vector<bool>& keep) {
  const size_t N = g.nodes.size();
  std::vector<size_t> pending(N, 0);             // inputs still to be produced
  std::vector<std::vector<size_t>> consumers(N);  // one entry per input edge
  for (size_t i = 0; i < N; ++i) {
    if (!keep[i]) continue;
    const NodeDef& n = g.nodes[i];
    for (const std::string& in : n.inputs) {
      if (in.empty() || ix.available.count(in)) continue;
      auto it = ix.producer.find(in);
      GL_CHECK(it != ix.producer.end(), g.source, ": ", node_label(n), ": input '", in,
               "' is neither produced nor an initializer");
      consumers[it->second].push_back(i);
      ++pending[i];
    }
  }
  std::priority_queue<size_t, std::vector<size_t>, std::greater<size_t>> ready;
  size_t kept = 0;
  for (size_t i = 0; i < N; ++i) {
    if (!keep[i]) continue;
    ++kept;
    if (pending[i] == 0) ready.push(i);
  }
  std::vector<size_t> order;
  order.reserve(kept);
  while (!ready.empty()) {
    const size_t i = ready.top();
    ready.pop();
    order.push_back(i);
    for (size_t c : consumers[i])
      if (--pending[c] == 0) ready.push(c);
  }
  if (order.size() == kept) return order;
  // Walk from a blocked node to a blocked producer of one of its inputs until a node repeats:
  // that node is on a cycle.
  size_t at = N;
  for (size_t i = 0; i < N && at == N; ++i)
    if (keep[i] && pending[i] > 0) at = i;
  std::vector<bool> seen(N, false);
  std::string via;
  while (!seen[at]) {
    seen[at] = true;
    for (const std::string& in : g.nodes[at].inputs) {
      auto it = in.empty() ? ix.producer.end() : ix.producer.find(in);
      if (it != ix.producer.end() && pending[it->second] > 0) {
        at = it->second;
        via = in;
        break;
      }
    }
  }
  fail(g.source, ": ", node_label(g.nodes[at]), " is on a cycle (its output '", via,
       "' depends on itself)");
}

}  // namespace

Model::Model(Graph graph) : graph_(std::move(graph)) {
  const TensorIndex index = index_tensors(graph_);
  bind(topological_order(graph_, index, nodes_reaching_outputs(graph_, index)));
}

// Binds each node (in execution order) to its layer, folding nodes whose inputs are all constant.
void Model::bind(const std::vector<size_t>& order) {
  const std::string& src = graph_.source;
  constants_ = graph_.initializers;
  std::unordered_map<std::string, bool> integer;  // element type of every tensor known so far
  for (const auto& [name, c] : constants_) integer[name] = c.is_integer;
  for (const ValueInfo& v : graph_.inputs) integer[v.name] = v.is_integer;
  for (size_t i : order) {
    NodeDef n = graph_.nodes[i];
    for (const std::string& in : n.inputs) n.integer_inputs.push_back(!in.empty() && integer[in]);
    std::unique_ptr<Layer> layer = create_layer(n.op_type);
    GL_CHECK(layer, src, ": node '", n.name, "': unsupported op '", n.op_type,
             "' (supported: ", supported_ops_list(), ")");
    std::vector<const Initializer*> constants;
    bool all_constant = true;
    for (const std::string& in : n.inputs) {
      auto it = in.empty() ? constants_.end() : constants_.find(in);
      constants.push_back(it == constants_.end() ? nullptr : &it->second);
      all_constant &= in.empty() || it != constants_.end();
    }
    try {
      MemoryScope scope(node_label(n));
      layer->load(n, constants);
      if (all_constant && layer->foldable()) {
        std::vector<Initializer> values = layer->fold(constants);
        for (size_t k = 0; k < n.outputs.size() && k < values.size(); ++k) {
          if (n.outputs[k].empty()) continue;
          integer[n.outputs[k]] = values[k].is_integer;
          constants_[n.outputs[k]] = std::move(values[k]);
        }
        ++folded_;
        continue;
      }
    } catch (const Error& e) {
      fail(src, ": ", naming_node(e, n).what());
    }
    const std::vector<bool> integer_out = layer->integer_outputs();
    for (size_t k = 0; k < n.outputs.size() && k < integer_out.size(); ++k)
      if (!n.outputs[k].empty()) integer[n.outputs[k]] = integer_out[k];
    layers_.push_back(std::move(layer));
  }
}

std::vector<Var> Model::forward(Tape& tape, const std::vector<Var>& inputs) const {
  std::vector<std::string> names;
  for (const ValueInfo& o : graph_.outputs) names.push_back(o.name);
  return forward_named(tape, inputs, names);
}

std::vector<Var> Model::forward_named(Tape& tape, const std::vector<Var>& inputs,
                                      const std::vector<std::string>& names) const {
  GL_CHECK(inputs.size() == graph_.inputs.size(), graph_.source, ": model takes ",
           graph_.inputs.size(), " inputs, given ", inputs.size());
  std::unordered_map<std::string_view, Var> values;
  for (size_t k = 0; k < inputs.size(); ++k) {
    const ValueInfo& vi = graph_.inputs[k];
    const Shape& s = inputs[k].shape();
    bool ok = vi.dims.empty() || int(vi.dims.size()) == s.rank();
    for (size_t d = 1; ok && d < vi.dims.size(); ++d) ok = vi.dims[d] < 0 || vi.dims[d] == s[int(d)];
    if (!ok) {
      std::string want = "[";
      for (size_t d = 0; d < vi.dims.size(); ++d)
        want += (d ? "," : "") + (vi.dims[d] < 0 ? std::string("?") : std::to_string(vi.dims[d]));
      fail(graph_.source, ": input '", vi.name, "' expects shape ", want + "]", ", given ", s.str(),
           " (the first axis, the batch, may differ)");
    }
    values[vi.name] = inputs[k];
  }
  auto lookup = [&](const std::string& name, const NodeDef* consumer) -> Var {
    auto it = values.find(name);
    if (it != values.end()) return it->second;
    auto c = constants_.find(name);
    if (c == constants_.end()) {
      if (consumer)
        fail(graph_.source, ": node '", consumer->name, "' (", consumer->op_type, "): input '",
             name, "' was not computed");
      fail(graph_.source, ": tensor '", name, "' is not in the model");
    }
    Var v = tape.constant(c->second.value, c->first);
    values.emplace(c->first, v);
    return v;
  };
  // Names still to compute; layers after the one that makes the last of them are not run.
  std::unordered_set<std::string_view> missing;
  for (const std::string& n : names)
    if (!values.count(n) && !constants_.count(n)) missing.insert(n);
  std::vector<Var> in, out;
  for (const auto& layer : layers_) {
    if (missing.empty()) break;
    const NodeDef& n = layer->node();
    in.assign(n.inputs.size(), Var{});
    for (size_t k = 0; k < n.inputs.size(); ++k)
      if (!n.inputs[k].empty()) in[k] = lookup(n.inputs[k], &n);
    out.assign(n.outputs.size(), Var{});
    try {
      MemoryScope scope(node_label(n));
      layer->forward(tape, in, out);
    } catch (const Error& e) {
      throw naming_node(e, n);
    }
    for (size_t k = 0; k < n.outputs.size(); ++k) {
      if (n.outputs[k].empty() || !out[k].valid()) continue;
      values[n.outputs[k]] = out[k];
      missing.erase(n.outputs[k]);
    }
  }
  std::vector<Var> result;
  for (const std::string& name : names) result.push_back(lookup(name, nullptr));
  return result;
}

std::vector<std::pair<std::string, Shape>> Model::infer_shapes(const std::vector<Shape>& inputs) const {
  GL_CHECK(inputs.size() == graph_.inputs.size(), graph_.source, ": model takes ",
           graph_.inputs.size(), " inputs, given ", inputs.size());
  std::unordered_map<std::string, Shape> shapes;
  std::vector<std::pair<std::string, Shape>> ordered;
  for (size_t k = 0; k < inputs.size(); ++k) {
    shapes[graph_.inputs[k].name] = inputs[k];
    ordered.emplace_back(graph_.inputs[k].name, inputs[k]);
  }
  for (const auto& [name, c] : constants_) shapes[name] = c.value.shape();
  for (const auto& layer : layers_) {
    const NodeDef& n = layer->node();
    std::vector<Shape> in;
    for (const std::string& i : n.inputs) {
      auto it = i.empty() ? shapes.end() : shapes.find(i);
      in.push_back(it == shapes.end() ? Shape{} : it->second);
    }
    std::vector<Shape> out;
    try {
      out = layer->infer(in);
    } catch (const Error&) {
      // A shape that depends on a value computed at run time (Slice bounds, a Reshape target from
      // Shape -> Gather -> Concat), or one that does not fit: the forward pass decides, and its
      // error names the node.
      return run_shapes(inputs);
    }
    for (size_t k = 0; k < n.outputs.size() && k < out.size(); ++k) {
      if (n.outputs[k].empty()) continue;
      shapes[n.outputs[k]] = out[k];
      ordered.emplace_back(n.outputs[k], out[k]);
    }
  }
  return ordered;
}

std::vector<std::pair<std::string, Shape>> Model::run_shapes(const std::vector<Shape>& inputs) const {
  Tape tape;
  std::vector<Var> in;
  for (size_t k = 0; k < inputs.size(); ++k) in.push_back(tape.input(Tensor(inputs[k]), false, graph_.inputs[k].name));
  // Every tensor some node reads or the graph returns (an optional output nobody reads, such as a
  // Dropout mask, may not be computed at all).
  std::unordered_set<std::string> read;
  for (const auto& layer : layers_) read.insert(layer->node().inputs.begin(), layer->node().inputs.end());
  for (const ValueInfo& o : graph_.outputs) read.insert(o.name);
  std::vector<std::string> names;
  for (const std::string& name : tensor_names())
    if (read.count(name)) names.push_back(name);
  std::vector<Var> values;
  try {
    values = forward_named(tape, in, names);
  } catch (const Error& e) {
    const std::string msg = e.what();
    if (msg.rfind(graph_.source + ": ", 0) == 0) throw;
    fail(graph_.source, ": ", msg);
  }
  std::vector<std::pair<std::string, Shape>> ordered;
  for (size_t k = 0; k < inputs.size(); ++k) ordered.emplace_back(graph_.inputs[k].name, inputs[k]);
  for (size_t i = 0; i < names.size(); ++i) ordered.emplace_back(names[i], values[i].shape());
  return ordered;
}

int64_t Model::fixed_batch() const {
  const int64_t known = fixed_batch_->load();
  if (known >= 0) return known;
  int64_t fixed = 0;
  const std::vector<int64_t>& dims = graph_.inputs.size() == 1 ? graph_.inputs[0].dims : std::vector<int64_t>{};
  const bool declared = !dims.empty() && std::all_of(dims.begin(), dims.end(), [](int64_t d) { return d > 0; });
  if (declared) {
    const int64_t B = dims[0];
    std::vector<int64_t> other = dims;
    other[0] = B + 1;
    const Shape probe(other);
    try {
      const std::string& output = graph_.outputs.at(0).name;
      for (const auto& [name, shape] : infer_shapes({probe}))
        if (name == output && (shape.rank() == 0 || shape[0] != B + 1)) fixed = B;
    } catch (const Error&) {
      fixed = B;  // B + 1 rows do not fit the graph's shape constants
    }
  }
  fixed_batch_->store(fixed);
  return fixed;
}

int64_t Model::macs(const std::vector<Shape>& inputs) const {
  std::map<std::string, Shape> shapes;
  for (const auto& [name, s] : infer_shapes(inputs)) shapes[name] = s;
  for (const auto& [name, c] : constants_) shapes[name] = c.value.shape();
  int64_t total = 0;
  for (const auto& layer : layers_) {
    std::vector<Shape> in;
    for (const std::string& i : layer->node().inputs) in.push_back(i.empty() ? Shape{} : shapes[i]);
    total += layer->macs(in);
  }
  return total;
}

std::string Model::logits_name() const {
  GL_CHECK(!graph_.outputs.empty(), graph_.source, ": the model has no outputs");
  const std::string& out = graph_.outputs[0].name;
  for (const auto& layer : layers_) {
    const NodeDef& n = layer->node();
    if (!n.outputs.empty() && n.outputs[0] == out &&
        (n.op_type == "Softmax" || n.op_type == "LogSoftmax") && !n.inputs.empty())
      return n.inputs[0];
  }
  return out;
}

void Model::check_input_shape(size_t k, const Shape& shape, const std::string& source) const {
  const auto& inputs = graph_.inputs;
  GL_CHECK(k < inputs.size(), source, ": the model has only ", inputs.size(), " inputs");
  const auto& dims = inputs[k].dims;
  bool fits = dims.empty() || int(dims.size()) == shape.rank();
  for (size_t d = 1; fits && d < dims.size(); ++d) fits = dims[d] < 0 || dims[d] == shape[int(d)];
  if (fits) return;
  std::string want = "[";
  for (size_t d = 0; d < dims.size(); ++d)
    want += (d ? "," : "") + (dims[d] < 0 ? std::string("?") : std::to_string(dims[d]));
  fail(source, ": shape ", shape.str(), " does not fit input '", inputs[k].name, "' of ", graph_.source,
       ", which expects ", want, "] (the first axis, the batch, may differ)");
}

Var Model::forward(Tape& tape, const Tensor& input, bool requires_grad) const {
  GL_CHECK(graph_.inputs.size() == 1, graph_.source, ": model takes ", graph_.inputs.size(),
           " inputs, given 1");
  Var x = tape.input(input, requires_grad, graph_.inputs[0].name);
  return forward(tape, {x})[0];
}

std::vector<std::string> Model::tensor_names() const {
  std::vector<std::string> names;
  for (const auto& layer : layers_)
    for (const std::string& o : layer->node().outputs)
      if (!o.empty()) names.push_back(o);
  return names;
}

bool Model::has_tensor(const std::string& name) const {
  for (const auto& layer : layers_)
    for (const std::string& o : layer->node().outputs)
      if (o == name) return true;
  return false;
}

}  // namespace gradlens
