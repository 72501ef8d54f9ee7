// Reverse-mode tape (Stan Math's stack of nodes): nodes are pushed in execution order as the
// forward runs, so the recording already is a topological order and backward is a plain reverse
// loop. Values and gradients live in an arena rewound between runs.
//
// Attribution treats weights as constants: only inputs created with requires_grad (and tensors an
// observer asks for) propagate "needs gradient", and a node's backward runs only when its output
// needs one — no weight gradient is ever computed.
//
// A node may be recorded with a second-order rule (TangentFn) beside its backward; the tape only
// keeps it: the forward-mode sweep lives in engine/tangent.h, Hessian-vector products in
// engine/hessian.h.
#pragma once
#include <cstdint>
#include <initializer_list>
#include <string_view>
#include <vector>

#include "engine/arena.h"
#include "engine/inline_function.h"
#include "engine/rules.h"
#include "engine/tensor.h"

namespace gradlens {

class Tape;
class BackwardContext;
class TangentContext;  // engine/tangent.h
class TangentSweep;
class HessianVector;

// What a node is, for observers. `name` and `op` must outlive the run (layers own their strings;
// engine ops use literals). `bias`, when set, is a constant tensor that this node adds to its
// output, broadcast to the output's shape by numpy rules (FullGrad's bias-gradient term).
struct NodeInfo {
  std::string_view name;
  std::string_view op;
  const Tensor* bias = nullptr;
};

// A handle to a value on a tape.
struct Var {
  Tape* tape = nullptr;
  int32_t id = -1;
  bool valid() const { return tape != nullptr && id >= 0; }
  const Shape& shape() const;
  const Tensor& value() const;  // view into the tape, valid until the tape is reset
};

using BackwardFn = InlineFunction<void(BackwardContext&), 160>;
// Forward tangent ẏ and curvature terms S_x of a node (engine/tangent.h, engine/hessian.h).
using TangentFn = InlineFunction<void(TangentContext&), 160>;

// Sees every node's value as it is computed and every gradient as it is completed.
class Observer {
 public:
  virtual ~Observer() = default;
  // Return true to make the tape compute the gradient of this node's output even when no input
  // of the run requires one (Grad-CAM needs a layer's gradient, not the input's).
  virtual bool wants_gradient(const NodeInfo&) { return false; }
  virtual void on_forward(const NodeInfo&, const Tensor& /*value*/) {}
  // Interventions (Ablation-CAM): may change a node's value in place right after it is computed,
  // before later nodes read it. Meant for forward-only runs; values that share memory with others
  // (Reshape and Identity outputs are views of their inputs) change together.
  virtual void edit_forward(const NodeInfo&, Tensor& /*value*/) {}
  // Called once per node whose output received a gradient, after it is complete and before the
  // node's own backward rule runs.
  virtual void on_backward(const NodeInfo&, const Tensor& /*value*/, const Tensor& /*grad*/) {}
};

class Tape {
 public:
  Tape();
  Tape(const Tape&) = delete;
  Tape& operator=(const Tape&) = delete;

  // A leaf holding a copy of x.
  Var input(const Tensor& x, bool requires_grad = true, std::string_view name = "input");
  // A leaf viewing x without copying (weights, constants): x must outlive the run.
  Var constant(const Tensor& x, std::string_view name = "constant");
  // Records a computed node. `output` is normally from alloc(); `backward` may be empty for
  // non-differentiable outputs. The backward is dropped when no input needs a gradient.
  // `tangent` (optional) is the node's second-order rule (engine/hessian.h).
  Var record(const NodeInfo& info, std::initializer_list<Var> inputs, const Tensor& output,
             BackwardFn backward, TangentFn tangent = TangentFn());
  Var record(const NodeInfo& info, const Var* inputs, int num_inputs, const Tensor& output,
             BackwardFn backward, TangentFn tangent = TangentFn());

  Tensor alloc(const Shape& shape);  // arena memory, uninitialised
  Tensor alloc_zeroed(const Shape& shape);

  // Vector-Jacobian product: seeds `output` with `seed` (same shape) and accumulates gradients
  // of every node on a path from a gradient-requiring input. Each call starts afresh, so one
  // recorded forward can be replayed under several rule sets.
  void backward(Var output, const Tensor& seed, const GradRules& rules = {});

  // While > 0, relu (and every rectifier without an upper bound) records
  // softplus(x; β) = ln(1 + e^(βx))/β instead: a smooth stand-in with a Hessian
  // (Integrated Hessians' treatment of ReLU networks, Janizek et al. 2021). Kept across reset().
  void set_relu_softplus_beta(float beta);
  float relu_softplus_beta() const { return relu_softplus_beta_; }

  const Tensor& value(Var v) const;
  // Owning copy of v's gradient; zeros when no gradient reached v.
  Tensor grad(Var v) const;
  // View of v's gradient (empty when none reached it); valid until the next backward or reset.
  const Tensor& grad_view(Var v) const;
  bool requires_grad(Var v) const;
  const NodeInfo& info(Var v) const;
  int32_t size() const { return int32_t(nodes_.size()); }
  Var var(int32_t id) { return Var{this, id}; }

  void observe(Observer* observer);
  void unobserve(Observer* observer);

  // Forgets every node and rewinds the arena; capacity is kept for the next run.
  void reset();
  const Arena& arena() const { return arena_; }

 private:
  friend class BackwardContext;
  friend class HessianVector;  // reads the recorded nodes and the last backward
  friend class TangentSweep;
  friend class TangentContext;
  struct Node {
    NodeInfo info;
    Tensor value;
    Tensor grad;
    int32_t first_input = 0;
    int32_t num_inputs = 0;
    bool requires_grad = false;
    bool differentiable = false;  // recorded with a backward rule
    BackwardFn backward;
    TangentFn tangent_rule;
  };
  void check(Var v, const char* what) const;

  Arena arena_;
  std::vector<Node> nodes_;
  std::vector<int32_t> input_ids_;
  std::vector<Observer*> observers_;
  Arena::Mark forward_end_;
  bool has_forward_end_ = false;
  Arena::Mark backward_end_;       // the arena after the last backward
  int32_t backward_output_ = -1;  // output of the last backward, -1 when none
  bool backward_rules_standard_ = true;
  float relu_softplus_beta_ = 0.f;
};

// What a node's backward rule sees.
class BackwardContext {
 public:
  const GradRules& rules() const { return rules_; }
  const NodeInfo& info() const { return node_.info; }
  const Tensor& output() const { return node_.value; }
  const Tensor& grad_output() const { return node_.grad; }
  int num_inputs() const { return node_.num_inputs; }
  const Tensor& input(int k) const;
  bool needs_grad(int k) const;

  Tensor alloc(const Shape& shape) { return tape_.alloc(shape); }
  Tensor alloc_zeroed(const Shape& shape) { return tape_.alloc_zeroed(shape); }
  // grad(input k) += g. The shape must equal input k's; g is copied, so it may alias anything.
  void accumulate(int k, const Tensor& g);
  // As accumulate, but g was allocated by this rule for this purpose and may be adopted as is.
  void accumulate_fresh(int k, const Tensor& g);
  // The gradient buffer of input k (zero-filled on first use) for rules that scatter-add into it.
  Tensor& grad_buffer(int k);

 private:
  friend class Tape;
  friend class HessianVector;
  BackwardContext(Tape& tape, Tape::Node& node, const GradRules& rules)
      : tape_(tape), node_(node), rules_(rules) {}
  Tape::Node& input_node(int k) const;
  Tape& tape_;
  Tape::Node& node_;
  const GradRules& rules_;
};

}  // namespace gradlens
