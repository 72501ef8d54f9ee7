#include "engine/hessian.h"

#include <utility>

#include "engine/error.h"

namespace gradlens {

HessianVector::HessianVector(Tape& tape, Var output, Var input, const Tensor& direction) : tape_(tape) {
  tape.check(output, "hessian_vector");
  tape.check(input, "hessian_vector");
  GL_CHECK(tape.backward_output_ == output.id,
           "hessian_vector: run backward() of the same output first (and record nothing after it)");
  GL_CHECK(tape.backward_rules_standard_, "hessian_vector: the backward must use the standard rules");
  std::vector<Tape::Node>& nodes = tape.nodes_;
  const Tape::Node& in = nodes[size_t(input.id)];
  GL_CHECK(direction.shape() == in.value.shape(), "hessian_vector: direction shape ", direction.shape().str(),
           " differs from the input's ", in.value.shape().str());
  tape.arena_.rewind(tape.backward_end_);
  tangent_.assign(nodes.size(), Tensor());
  grad_tangent_.assign(nodes.size(), Tensor());
  if (!in.requires_grad || input.id > output.id) return;
  tangent_[size_t(input.id)] = tape.alloc(direction.shape());
  tangent_[size_t(input.id)].copy_from(direction);
  // 1. Tangents in tape order, with the curvature terms each node adds to its inputs' ġ.
  for (int32_t i = input.id + 1; i <= output.id; ++i) {
    const Tape::Node& n = nodes[size_t(i)];
    if (!n.requires_grad || !n.differentiable) continue;
    bool reached = false;
    for (int k = 0; k < n.num_inputs && !reached; ++k)
      reached = !tangent_[size_t(tape.input_ids_[size_t(n.first_input + k)])].empty();
    if (!reached) continue;
    GL_CHECK(bool(n.tangent_rule), "op ", n.info.op, " (node '", n.info.name, "') has no second-derivative rule");
    TangentContext ctx(*this, tape, i);
    nodes[size_t(i)].tangent_rule(ctx);
    GL_CHECK(!tangent_[size_t(i)].empty(), "op ", n.info.op, " (node '", n.info.name,
             "'): its second-derivative rule set no tangent");
  }
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
  } swapped(nodes, grad_tangent_);
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
  const Tensor& g = grad_tangent_[size_t(v.id)];
  return g.empty() ? Tensor(tape_.value(v).shape()) : g.clone();
}

Tensor HessianVector::tangent(Var v) const {
  tape_.check(v, "tangent");
  const Tensor& t = tangent_[size_t(v.id)];
  return t.empty() ? Tensor(tape_.value(v).shape()) : t.clone();
}

int32_t TangentContext::input_id(int k) const {
  const Tape::Node& n = tape_.nodes_[size_t(node_)];
  GL_CHECK(k >= 0 && k < n.num_inputs, "node '", n.info.name, "' (", n.info.op, "): tangent rule asked for input ",
           k, " of ", n.num_inputs);
  return tape_.input_ids_[size_t(n.first_input + k)];
}

const NodeInfo& TangentContext::info() const { return tape_.nodes_[size_t(node_)].info; }
const Tensor& TangentContext::output() const { return tape_.nodes_[size_t(node_)].value; }
const Tensor& TangentContext::grad_output() const { return tape_.nodes_[size_t(node_)].grad; }
int TangentContext::num_inputs() const { return tape_.nodes_[size_t(node_)].num_inputs; }
const Tensor& TangentContext::input(int k) const { return tape_.nodes_[size_t(input_id(k))].value; }
const Tensor& TangentContext::input_tangent(int k) const { return hv_.tangent_[size_t(input_id(k))]; }

Tensor TangentContext::input_tangent_or_zero(int k) {
  const Tensor& t = input_tangent(k);
  return t.empty() ? tape_.alloc_zeroed(input(k).shape()) : t;
}

void TangentContext::set_tangent(const Tensor& t) {
  const Tape::Node& n = tape_.nodes_[size_t(node_)];
  GL_CHECK(t.shape() == n.value.shape(), "node '", n.info.name, "' (", n.info.op, "): tangent of shape ",
           t.shape().str(), " for an output of shape ", n.value.shape().str());
  hv_.tangent_[size_t(node_)] = t;
}

void TangentContext::add_curvature(int k, const Tensor& s) {
  const int32_t id = input_id(k);
  const Tape::Node& in = tape_.nodes_[size_t(id)];
  if (!in.requires_grad) return;
  const Tape::Node& n = tape_.nodes_[size_t(node_)];
  GL_CHECK(s.shape() == in.value.shape(), "node '", n.info.name, "' (", n.info.op, "): curvature term for input ",
           k, " has shape ", s.shape().str(), ", its value has ", in.value.shape().str());
  Tensor& g = hv_.grad_tangent_[size_t(id)];
  if (g.empty()) {
    g = tape_.alloc(s.shape());
    g.copy_from(s);
  } else {
    g.vec() += s.vec();
  }
}

}  // namespace gradlens
