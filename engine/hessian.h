// Hessian-vector products (forward-over-reverse, Pearlmutter 1994), on a tape whose first-order
// core knows nothing of them: after tape.backward(f) has left g = ∂f/∂node on every node,
// HessianVector(tape, f, x, v) differentiates every g along x + εv:
//   1. tangent sweep (tangent.h), in tape order: ẏ = J ẋ for each node (its TangentFn, recorded
//      beside its backward), starting from ẋ = v;
//   2. second reverse sweep: ġ_x = Jᵀ ġ_y + S_x, where Jᵀ ġ_y is the node's own backward rule
//      fed ġ_y instead of g_y, and S_x = ∂/∂ε (Jᵀ(x(ε)) g_y) is the curvature term that the
//      TangentFn adds while it computes ẏ (0 for linear and piecewise-linear ops).
// Then ġ at the input is H v, the Hessian of f times v. A node reached by a tangent whose op has
// no TangentFn fails naming the op and node; nodes recorded without a backward (non-differentiable
// outputs) get a zero tangent.
#pragma once
#include "engine/tangent.h"
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
  // Checks that `tape` ran backward(output) last and rewinds its arena to the end of it.
  static Tape& after_backward(Tape& tape, Var output, Var input);
  Tape& tape_;
  TangentSweep sweep_;  // ẏ, and ġ in its curvature slots after step 2
};

}  // namespace gradlens
