#include "attribution/axioms/dummy_channel.h"

#include <algorithm>

namespace gradlens {

namespace {
// w with a zero slice appended along `axis`.
Tensor append_zero_slice(const Tensor& w, int axis) {
  std::vector<int64_t> dims = w.shape().vec();
  int64_t outer = 1, inner = 1;
  for (int a = 0; a < axis; ++a) outer *= dims[size_t(a)];
  for (size_t a = size_t(axis) + 1; a < dims.size(); ++a) inner *= dims[a];
  const int64_t old_extent = dims[size_t(axis)];
  dims[size_t(axis)] += 1;
  Tensor out(Shape(dims), 0.f);
  for (int64_t o = 0; o < outer; ++o)
    std::copy(w.data() + o * old_extent * inner, w.data() + (o + 1) * old_extent * inner,
              out.data() + o * (old_extent + 1) * inner);
  return out;
}

int64_t int_attribute(const NodeDef& node, const std::string& name, int64_t fallback) {
  auto it = node.attributes.find(name);
  return it == node.attributes.end() ? fallback : it->second.i;
}
}  // namespace

bool add_dummy_input_channel(const Graph& graph, Graph& out, std::string& why) {
  if (graph.inputs.size() != 1) return why = "the model has " + std::to_string(graph.inputs.size()) + " inputs", false;
  const ValueInfo& input = graph.inputs[0];
  if (input.dims.size() < 2 || input.dims[1] <= 0)
    return why = "the input has no known channel axis", false;
  std::vector<size_t> readers;
  for (size_t k = 0; k < graph.nodes.size(); ++k)
    if (std::count(graph.nodes[k].inputs.begin(), graph.nodes[k].inputs.end(), input.name)) readers.push_back(k);
  if (readers.size() != 1) return why = "the input is read by " + std::to_string(readers.size()) + " nodes", false;
  const NodeDef& node = graph.nodes[readers[0]];
  const std::string reader = "the input's reader '" + node.name + "' (" + node.op_type + ")";
  if (node.inputs.size() < 2 || node.inputs[0] != input.name || !graph.initializers.count(node.inputs[1]))
    return why = reader + " does not take it as data with a weight initializer", false;
  const Tensor& w = graph.initializers.at(node.inputs[1]).value;
  int axis = -1;  // the weight's input-channel axis
  if (node.op_type == "Conv") {
    if (int_attribute(node, "group", 1) != 1) return why = reader + " is grouped", false;
    axis = 1;
  } else if (node.op_type == "Gemm" && input.dims.size() == 2 && int_attribute(node, "transA", 0) == 0) {
    axis = int_attribute(node, "transB", 0) ? 1 : 0;
  } else if (node.op_type == "MatMul" && input.dims.size() == 2 && w.rank() == 2) {
    axis = 0;
  } else {
    return why = reader + " is not a Conv, Gemm or MatMul on [N, C] / [N, C, ...]", false;
  }
  if (w.rank() <= axis || w.dim(axis) != input.dims[1])
    return why = reader + ": weight " + w.shape().str() + " does not match the input's channels", false;
  out = graph;
  out.inputs[0].dims[1] += 1;
  const std::string name = node.inputs[1] + ".with_dummy_channel";
  out.initializers[name] = Initializer(append_zero_slice(w, axis));
  out.nodes[readers[0]].inputs[1] = name;
  return true;
}

Tensor with_dummy_channel(const Tensor& x) {
  std::vector<int64_t> dims = x.shape().vec();
  const int64_t N = dims[0], C = dims[1], inner = x.numel() / (N * C);
  dims[1] += 1;
  Tensor out{Shape(dims)};
  for (int64_t n = 0; n < N; ++n) {
    const float* src = x.data() + n * C * inner;
    float* dst = out.data() + n * (C + 1) * inner;
    std::copy(src, src + C * inner, dst);
    std::copy(src, src + inner, dst + C * inner);
  }
  return out;
}

std::vector<int64_t> dummy_channel_features(const std::vector<int64_t>& example) {
  int64_t inner = 1;
  for (size_t a = 1; a < example.size(); ++a) inner *= example[a];
  std::vector<int64_t> f;
  for (int64_t k = 0; k < inner; ++k) f.push_back((example[0] - 1) * inner + k);
  return f;
}

}  // namespace gradlens
