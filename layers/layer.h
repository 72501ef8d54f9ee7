// Layer: one ONNX op. Each op lives in its own file in layers/ and owns its attribute parsing
// (with ONNX defaults and validation), shape inference, forward kernel and backward closure, and
// registers itself under its ONNX op name (ncnn / onnx2c style).
//
//   class Sigmoid : public Layer { ... };
//   GRADLENS_REGISTER_LAYER(Sigmoid, Sigmoid)
#pragma once
#include <memory>
#include <string>
#include <vector>

#include "engine/error.h"
#include "engine/tape.h"
#include "layers/node.h"

namespace gradlens {

// Reads a node's attributes with defaults; finish() rejects any attribute that was not read.
class AttributeReader {
 public:
  explicit AttributeReader(const NodeDef& node) : node_(node) {}
  bool has(const std::string& name) const { return node_.attributes.count(name) > 0; }
  int64_t get_int(const std::string& name, int64_t fallback);
  float get_float(const std::string& name, float fallback);
  std::string get_string(const std::string& name, const std::string& fallback);
  std::vector<int64_t> get_ints(const std::string& name, const std::vector<int64_t>& fallback);
  std::vector<float> get_floats(const std::string& name, const std::vector<float>& fallback);
  Tensor get_tensor(const std::string& name);
  // Marks attributes as understood but unused (e.g. Dropout's seed).
  void ignore(const std::string& name) { read_.push_back(name); }
  void finish() const;

 private:
  const Attribute* find(const std::string& name, Attribute::Type type);
  const NodeDef& node_;
  std::vector<std::string> read_;
};

class Layer {
 public:
  virtual ~Layer() = default;

  // Binds the layer to its node. constants[k] is non-null when input k is known at load time (an
  // initializer or a folded constant); layers read their weights from there and keep them.
  void load(const NodeDef& node, const std::vector<const Initializer*>& constants);
  // Output shapes for these input shapes; throws Error naming the node when they do not fit.
  virtual std::vector<Shape> infer(const std::vector<Shape>& inputs) const = 0;
  // Records the outputs on the tape. inputs[k] is invalid (id < 0) for absent optional inputs;
  // constant inputs arrive as tape constants. outputs has node().outputs.size() entries.
  virtual void forward(Tape& tape, const std::vector<Var>& inputs,
                       std::vector<Var>& outputs) const = 0;
  // Load-time constant folding (shape subgraphs that exporters emit). When every input is a
  // constant, the Model calls fold() and replaces the node by its outputs. Layers that compute on
  // integers (Shape, Gather, Concat of shapes, Slice ends of INT64_MAX...) override this to keep
  // values exact; the default runs forward() on a scratch tape, in float. Every op is
  // deterministic, so any node whose inputs are all constant folds.
  virtual bool foldable() const { return true; }
  virtual std::vector<Initializer> fold(const std::vector<const Initializer*>& inputs) const;
  // Whether each output's element type is integer (or bool). Default: integer when every given
  // input is (data movement and arithmetic keep their type); Shape, Cast, comparisons override.
  virtual std::vector<bool> integer_outputs() const;
  // Multiply-accumulates of one forward for these input shapes (for `gradlens info`).
  virtual int64_t macs(const std::vector<Shape>& /*inputs*/) const { return 0; }

  // Piecewise-linear layers whose linear piece is not the sign of one element (MaxPool: the
  // arg-max of each window) locate where that piece ends, for exact integrated gradients
  // (attribution/linear_pieces.h): fed x + s·ẋ (input 0 and its tangent), the layer stays on the
  // piece it is on at s = 0 for s in [below, above] (below ≤ 0 ≤ above), which this narrows.
  // Returns false when the layer has no such rule.
  virtual bool narrow_linear_piece(const Tensor& /*x*/, const Tensor& /*x_tangent*/, double& /*below*/,
                                   double& /*above*/) const {
    return false;
  }

  const NodeDef& node() const { return node_; }
  // Tape identity of output k: named after the ONNX tensor, as users pass it to --layer.
  NodeInfo info(int output = 0, const Tensor* bias = nullptr) const;

  template <class... Parts>
  [[noreturn]] void error(const Parts&... parts) const {
    fail("node '", node_.name, "' (", node_.op_type, "): ", parts...);
  }

 protected:
  // Parse attributes and constants; called by load() after the node is stored.
  virtual void parse(AttributeReader& attributes, const std::vector<const Initializer*>& constants) = 0;
  // Checks the number of inputs (absent optional ones count) against [min, max].
  void expect_inputs(size_t min, size_t max) const;
  // Constant input k, or an error saying it must be one.
  const Initializer& constant_input(const std::vector<const Initializer*>& constants, size_t k,
                                    const char* what) const;

  NodeDef node_;
};

using LayerFactory = std::unique_ptr<Layer> (*)();

bool register_layer(const char* op_type, LayerFactory factory);
std::unique_ptr<Layer> create_layer(const std::string& op_type);  // nullptr when unknown
bool layer_registered(const std::string& op_type);
std::vector<std::string> registered_ops();  // sorted

}  // namespace gradlens

#define GRADLENS_REGISTER_LAYER(OP, CLASS)                                             \
  namespace {                                                                          \
  const bool registered_##OP = ::gradlens::register_layer(                             \
      #OP, []() -> std::unique_ptr<::gradlens::Layer> { return std::make_unique<CLASS>(); }); \
  }
