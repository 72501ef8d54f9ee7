#include "engine/hessian.h"

#include <utility>

#include "engine/error.h"

namespace gradlens {

Tape& HessianVector::after_backward(Tape& tape, Var output, Var input) {
  tape.check(output, "hessian_vector");
  tape.check(input, "hessian_vector");
  GL_CHECK(tape.backward_output_ == output.id,
           "hessian_vector: run backward() of the same output first (and record nothing after it)");
  GL_CHECK(tape.backward_rules_standard_, "hessian_vector: the backward must use the standard rules");
  tape.arena_.rewind(tape.backward_end_);
  return tape;
}

HessianVector::HessianVector(Tape& tape, Var output, Var input, const Tensor& direction)
    // 1. Tangents in tape order, with the curvature terms each node adds to its inputs' ġ.
    : tape_(after_backward(tape, output, input)), sweep_(tape, input, direction, output, true) {
  std::vector<Tape::Node>& nodes = tape.nodes_;
  if (!nodes[size_t(input.id)].requires_grad || input.id > output.id) return;
  // 2. ġ_x = Jᵀ ġ_y + S_x: the backward rules run on ġ, swapped into the grad slots (and swapped
  // back however the sweep ends).
  struct SwapGrads {
    std::vector<Tape::Node>& nodes;
    std::vector<Tensor>& other;
    SwapGrads(std::vector<Tape::Node>& n, std::vector<Tensor>& o) : nodes(n), other(o) { swap_all(); }
    ~SwapGrads() { swap_all(); }
    void swap_all() {
      for (size_t i = 0; i < nodes.size(); ++i) std::swap(nodes[i].grad, other[i]);
    }
  } swapped(nodes, sweep_.curvature_);
  const GradRules standard;
  for (int32_t i = output.id; i >= 0; --i) {
    Tape::Node& n = nodes[size_t(i)];
    if (n.grad.empty() || !n.backward) continue;
    BackwardContext ctx(tape, n, standard);
    n.backward(ctx);
  }
}

Tensor HessianVector::grad_tangent(Var v) const {
  tape_.check(v, "grad_tangent");
  const Tensor& g = sweep_.curvature_[size_t(v.id)];
  return g.empty() ? Tensor(tape_.value(v).shape()) : g.clone();
}

Tensor HessianVector::tangent(Var v) const { return sweep_.tangent(v); }

}  // namespace gradlens
