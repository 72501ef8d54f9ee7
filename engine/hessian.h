// Hessian-vector products (forward-over-reverse, Pearlmutter 1994), on a tape whose first-order
// core knows nothing of them: after tape.backward(f) has left g = ∂f/∂node on every node,
// HessianVector(tape, f, x, v) differentiates every g along x + εv:
//   1. tangent sweep, in tape order: ẏ = J ẋ for each node (its TangentFn, recorded beside its
//      backward), starting from ẋ = v;
//   2. second reverse sweep: ġ_x = Jᵀ ġ_y + S_x, where Jᵀ ġ_y is the node's own backward rule
//      fed ġ_y instead of g_y, and S_x = ∂/∂ε (Jᵀ(x(ε)) g_y) is the curvature term that the
//      TangentFn adds while it computes ẏ (0 for linear and piecewise-linear ops).
// Then ġ at the input is H v, the Hessian of f times v. A node reached by a tangent whose op has
// no TangentFn fails naming the op and node; nodes recorded without a backward (non-differentiable
// outputs) get a zero tangent.
#pragma once
#include <vector>

#include "engine/tape.h"

namespace gradlens {

class HessianVector {
 public:
  // After tape.backward(output, seed) (standard rules, nothing recorded since): ġ and ẏ along
  // `direction` at `input`. Its tensors live in the tape's arena: valid until the tape's next
  // backward, reset, or HessianVector (each starts afresh from the same backward).
  HessianVector(Tape& tape, Var output, Var input, const Tensor& direction);
  HessianVector(const HessianVector&) = delete;
  HessianVector& operator=(const HessianVector&) = delete;

  // Owning copies: ġ(v) (H·direction at the input), ẏ(v); zeros when none.
  Tensor grad_tangent(Var v) const;
  Tensor tangent(Var v) const;

 private:
  friend class TangentContext;
  Tape& tape_;
  std::vector<Tensor> tangent_, grad_tangent_;  // by node id; empty: zero
};

// What a node's TangentFn sees: values, input tangents ẋ_k (empty when zero), the node's
// gradient g_y from the preceding backward (empty when none reached it).
class TangentContext {
 public:
  const NodeInfo& info() const;
  const Tensor& output() const;
  const Tensor& grad_output() const;
  int num_inputs() const;
  const Tensor& input(int k) const;
  const Tensor& input_tangent(int k) const;
  bool has_tangent(int k) const { return !input_tangent(k).empty(); }
  // ẋ_k, or a zero tensor of input k's shape when it has none.
  Tensor input_tangent_or_zero(int k);

  Tensor alloc(const Shape& shape) { return tape_.alloc(shape); }
  Tensor alloc_zeroed(const Shape& shape) { return tape_.alloc_zeroed(shape); }
  // Sets ẏ (the output's shape; tape memory or a view of it, adopted as is).
  void set_tangent(const Tensor& t);
  // ġ(input k) += s, s shaped like input k (copied, may alias anything).
  void add_curvature(int k, const Tensor& s);

 private:
  friend class HessianVector;
  TangentContext(HessianVector& hv, Tape& tape, int32_t node) : hv_(hv), tape_(tape), node_(node) {}
  int32_t input_id(int k) const;
  HessianVector& hv_;
  Tape& tape_;
  int32_t node_;
};

}  // namespace gradlens
