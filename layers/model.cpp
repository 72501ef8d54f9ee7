#include "layers/model.h"

#include <algorithm>
#include <set>
#include <unordered_map>

namespace gradlens {

namespace {
std::string supported_ops_list() {
  std::string s;
  for (const std::string& op : registered_ops()) s += (s.empty() ? "" : ", ") + op;
  return s;
}
}  // namespace

Model::Model(Graph graph) : graph_(std::move(graph)) {
  const std::string& src = graph_.source;
  // Producers of every tensor name.
  std::unordered_map<std::string, size_t> producer;
  std::set<std::string> available;
  for (const ValueInfo& v : graph_.inputs) available.insert(v.name);
  for (const auto& [name, t] : graph_.initializers) {
    (void)t;
    available.insert(name);
  }
  for (size_t i = 0; i < graph_.nodes.size(); ++i) {
    const NodeDef& n = graph_.nodes[i];
    for (const std::string& out : n.outputs) {
      if (out.empty()) continue;
      GL_CHECK(!producer.count(out) && !available.count(out), src, ": node '", n.name, "' (",
               n.op_type, "): tensor '", out, "' is produced twice");
      producer[out] = i;
    }
  }
  // Prune: keep nodes that reach a graph output.
  std::vector<bool> keep(graph_.nodes.size(), false);
  std::vector<std::string> stack;
  for (const ValueInfo& v : graph_.outputs) {
    GL_CHECK(producer.count(v.name) || available.count(v.name), src, ": graph output '", v.name,
             "' is produced by no node");
    stack.push_back(v.name);
  }
  while (!stack.empty()) {
    std::string t = stack.back();
    stack.pop_back();
    auto it = producer.find(t);
    if (it == producer.end() || keep[it->second]) continue;
    keep[it->second] = true;
    for (const std::string& in : graph_.nodes[it->second].inputs)
      if (!in.empty()) stack.push_back(in);
  }
  // Topological sort (Kahn), stable in file order; a leftover node means a cycle.
  std::vector<size_t> order;
  std::vector<bool> done(graph_.nodes.size(), false);
  std::set<std::string> ready = available;
  bool progress = true;
  size_t kept = size_t(std::count(keep.begin(), keep.end(), true));
  while (order.size() < kept && progress) {
    progress = false;
    for (size_t i = 0; i < graph_.nodes.size(); ++i) {
      if (!keep[i] || done[i]) continue;
      const NodeDef& n = graph_.nodes[i];
      bool ok = std::all_of(n.inputs.begin(), n.inputs.end(),
                            [&](const std::string& in) { return in.empty() || ready.count(in); });
      if (!ok) continue;
      done[i] = true;
      order.push_back(i);
      for (const std::string& out : n.outputs) ready.insert(out);
      progress = true;
    }
  }
  if (order.size() < kept) {
    for (size_t i = 0; i < graph_.nodes.size(); ++i) {
      if (!keep[i] || done[i]) continue;
      const NodeDef& n = graph_.nodes[i];
      for (const std::string& in : n.inputs)
        if (!in.empty() && !ready.count(in))
          fail(src, ": node '", n.name, "' (", n.op_type, "): input '", in, "' ",
               producer.count(in) ? "depends on a cycle" : "is neither produced nor an initializer");
    }
  }
  // Bind layers in order, folding nodes whose inputs are all constant.
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
      fail(src, ": ", e.what());
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
  auto all_ready = [&]() {
    for (const std::string& n : names)
      if (!values.count(n) && !constants_.count(n)) return false;
    return true;
  };
  std::vector<Var> in, out;
  for (const auto& layer : layers_) {
    if (all_ready()) break;
    const NodeDef& n = layer->node();
    in.assign(n.inputs.size(), Var{});
    for (size_t k = 0; k < n.inputs.size(); ++k)
      if (!n.inputs[k].empty()) in[k] = lookup(n.inputs[k], &n);
    out.assign(n.outputs.size(), Var{});
    layer->forward(tape, in, out);
    for (size_t k = 0; k < n.outputs.size(); ++k)
      if (!n.outputs[k].empty() && out[k].valid()) values[n.outputs[k]] = out[k];
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
    } catch (const Error& e) {
      fail(graph_.source, ": ", e.what());
    }
    for (size_t k = 0; k < n.outputs.size() && k < out.size(); ++k) {
      if (n.outputs[k].empty()) continue;
      shapes[n.outputs[k]] = out[k];
      ordered.emplace_back(n.outputs[k], out[k]);
    }
  }
  return ordered;
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
