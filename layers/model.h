// Model: a graph of layers run on a tape. Built from a Graph (the ONNX reader's output, or a
// graph assembled in C++): nodes are checked to form a DAG, sorted, pruned to those that reach an
// output, and bound to registered layers that parse and validate their own attributes.
#pragma once
#include <atomic>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "engine/tape.h"
#include "layers/layer.h"
#include "layers/node.h"

namespace gradlens {

struct ValueInfo {
  std::string name;
  std::vector<int64_t> dims;  // -1 for a symbolic or unknown extent
  bool is_integer = false;    // declared element type is integer or bool (integer Div truncates)
};

struct Graph {
  std::string name;
  std::vector<ValueInfo> inputs;   // graph inputs that are not initializers
  std::vector<ValueInfo> outputs;
  std::map<std::string, Initializer> initializers;
  std::vector<NodeDef> nodes;
  std::string source = "graph";    // for error messages: the file it came from
};

class Model {
 public:
  explicit Model(Graph graph);

  // Runs the graph on the tape. inputs bind in order to graph().inputs; returns the outputs in
  // graph order. Every intermediate tensor is recorded under its ONNX name. The first axis is the
  // batch: it may differ from the declared one (path and noise samples run as larger batches).
  std::vector<Var> forward(Tape& tape, const std::vector<Var>& inputs) const;
  // Convenience: one input tensor (requires_grad as given), first output.
  Var forward(Tape& tape, const Tensor& input, bool requires_grad = true) const;

  // Runs the graph until the named tensors (outputs, intermediates or constants) are computed and
  // returns them in the order asked; layers after the last one needed are not run.
  std::vector<Var> forward_named(Tape& tape, const std::vector<Var>& inputs,
                                 const std::vector<std::string>& names) const;
  // The tensor that holds the class scores: the first output, or — when that output comes from a
  // Softmax or LogSoftmax — that node's input (attribution explains logits by default).
  std::string logits_name() const;
  // An Error when `shape` does not fit graph input k as declared (its rank and every declared
  // extent but the first, the batch), naming `source`, the shape given and the one expected.
  void check_input_shape(size_t k, const Shape& shape, const std::string& source) const;

  // Shapes of every tensor for inputs of these shapes, in execution order: graph inputs first,
  // then each layer's outputs. Static (each layer's infer()) when every shape follows from
  // constants; when one depends on a value computed at run time (a transformer's Slice bounds or
  // Reshape target from Shape -> Gather -> Concat arithmetic), from one forward pass on zeros.
  std::vector<std::pair<std::string, Shape>> infer_shapes(const std::vector<Shape>& inputs) const;
  // Multiply-accumulates of one forward pass for inputs of these shapes: the sum of each layer's
  // Layer::macs over its inferred input shapes (convolutions, Gemm, MatMul; elementwise layers 0).
  int64_t macs(const std::vector<Shape>& inputs) const;

  // The batch the graph is fixed to, or 0 when it runs any batch. A model exported without
  // dynamic axes declares its batch B as a number, and torch.onnx.export bakes B into the
  // constants of some shape ops (a transformer's attention Reshape to [T, B*heads, d]): such a
  // graph is fixed when its shapes cannot be inferred for B + 1 rows (or its first output then
  // has no leading axis of B + 1). Chunked passes run these models in chunks of exactly B rows.
  // Computed once, on first use; single-input models with every other extent declared.
  int64_t fixed_batch() const;

  const Graph& graph() const { return graph_; }
  // Constants after load-time folding: the graph's initializers plus folded node outputs.
  const std::map<std::string, Initializer>& constants() const { return constants_; }
  int folded_nodes() const { return folded_; }
  const std::vector<std::unique_ptr<Layer>>& layers() const { return layers_; }  // sorted
  // Every tensor name a layer produces, in execution order.
  std::vector<std::string> tensor_names() const;
  bool has_tensor(const std::string& name) const;

 private:
  void bind(const std::vector<size_t>& order);  // layers and folded constants, in this order
  // infer_shapes by one forward pass on zeros of these shapes.
  std::vector<std::pair<std::string, Shape>> run_shapes(const std::vector<Shape>& inputs) const;

  Graph graph_;
  std::map<std::string, Initializer> constants_;
  std::vector<std::unique_ptr<Layer>> layers_;
  int folded_ = 0;
  // fixed_batch(), −1 until computed (behind a pointer: Model stays movable).
  std::unique_ptr<std::atomic<int64_t>> fixed_batch_ = std::make_unique<std::atomic<int64_t>>(-1);
};

}  // namespace gradlens
