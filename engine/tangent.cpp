// Forward-mode sweep (see tangent.h).
#include "engine/tangent.h"

#include "engine/error.h"

namespace gradlens {

TangentSweep::TangentSweep(Tape& tape, Var input, const Tensor& direction, Var output, bool curvature,
                           TangentObserver* observer)
    : tape_(tape), curvature_enabled_(curvature) {
  tape.check(output, "tangent sweep");
  tape.check(input, "tangent sweep");
  std::vector<Tape::Node>& nodes = tape.nodes_;
  const Tape::Node& in = nodes[size_t(input.id)];
  GL_CHECK(direction.shape() == in.value.shape(), "tangent sweep: direction shape ", direction.shape().str(),
           " differs from the input's ", in.value.shape().str());
  tangent_.assign(nodes.size(), Tensor());
  if (curvature) curvature_.assign(nodes.size(), Tensor());
  if (!in.requires_grad || input.id > output.id) return;
  tangent_[size_t(input.id)] = tape.alloc(direction.shape());
  tangent_[size_t(input.id)].copy_from(direction);
  for (int32_t i = input.id + 1; i <= output.id; ++i) {
    const Tape::Node& n = nodes[size_t(i)];
    if (!n.requires_grad) continue;
    bool reached = false;
    for (int k = 0; k < n.num_inputs && !reached; ++k)
      reached = !tangent_[size_t(tape.input_ids_[size_t(n.first_input + k)])].empty();
    if (!reached) continue;
    TangentContext ctx(*this, tape, i);
    if (observer) observer->reached(ctx);
    if (!n.differentiable) continue;
    GL_CHECK(bool(n.tangent_rule), "op ", n.info.op, " (node '", n.info.name, "') has no ",
             curvature ? "second-derivative rule" : "tangent rule (forward-mode derivative)");
    nodes[size_t(i)].tangent_rule(ctx);
    GL_CHECK(!tangent_[size_t(i)].empty(), "op ", n.info.op, " (node '", n.info.name,
             "'): its ", curvature ? "second-derivative" : "tangent", " rule set no tangent");
    if (observer) observer->computed(ctx);
  }
}

Tensor TangentSweep::tangent(Var v) const {
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
const Tensor& TangentContext::input_tangent(int k) const { return sweep_.tangent_[size_t(input_id(k))]; }
const Tensor& TangentContext::output_tangent() const { return sweep_.tangent_[size_t(node_)]; }
bool TangentContext::differentiable() const { return tape_.nodes_[size_t(node_)].differentiable; }

Tensor TangentContext::input_tangent_or_zero(int k) {
  const Tensor& t = input_tangent(k);
  return t.empty() ? tape_.alloc_zeroed(input(k).shape()) : t;
}

void TangentContext::set_tangent(const Tensor& t) {
  const Tape::Node& n = tape_.nodes_[size_t(node_)];
  GL_CHECK(t.shape() == n.value.shape(), "node '", n.info.name, "' (", n.info.op, "): tangent of shape ",
           t.shape().str(), " for an output of shape ", n.value.shape().str());
  sweep_.tangent_[size_t(node_)] = t;
}

void TangentContext::add_curvature(int k, const Tensor& s) {
  if (!sweep_.curvature_enabled_) return;
  const int32_t id = input_id(k);
  const Tape::Node& in = tape_.nodes_[size_t(id)];
  if (!in.requires_grad) return;
  const Tape::Node& n = tape_.nodes_[size_t(node_)];
  GL_CHECK(s.shape() == in.value.shape(), "node '", n.info.name, "' (", n.info.op, "): curvature term for input ",
           k, " has shape ", s.shape().str(), ", its value has ", in.value.shape().str());
  Tensor& g = sweep_.curvature_[size_t(id)];
  if (g.empty()) {
    g = tape_.alloc(s.shape());
    g.copy_from(s);
  } else {
    g.vec() += s.vec();
  }
}

}  // namespace gradlens
