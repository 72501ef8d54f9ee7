#include "engine/tape.h"

#include <algorithm>
#include <cmath>
#include <utility>

#include "engine/error.h"

namespace gradlens {

const Shape& Var::shape() const { return tape->value(*this).shape(); }
const Tensor& Var::value() const { return tape->value(*this); }

Tape::Tape() { nodes_.reserve(256); }

Tensor Tape::alloc(const Shape& shape) {
  return Tensor::view(shape, arena_.allocate(shape.numel()));
}

Tensor Tape::alloc_zeroed(const Shape& shape) {
  return Tensor::view(shape, arena_.allocate_zeroed(shape.numel()));
}

Var Tape::input(const Tensor& x, bool requires_grad, std::string_view name) {
  Tensor v = alloc(x.shape());
  v.copy_from(x);
  Node n;
  n.info.name = name;
  n.info.op = "Input";
  n.value = v;
  n.first_input = int32_t(input_ids_.size());
  n.requires_grad = requires_grad;
  for (Observer* o : observers_) n.requires_grad |= o->wants_gradient(n.info);
  nodes_.push_back(std::move(n));
  for (Observer* o : observers_) o->on_forward(nodes_.back().info, v);
  has_forward_end_ = false;
  backward_output_ = -1;
  return Var{this, int32_t(nodes_.size() - 1)};
}

Var Tape::constant(const Tensor& x, std::string_view name) {
  Node n;
  n.info.name = name;
  n.info.op = "Constant";
  n.value = x;
  n.first_input = int32_t(input_ids_.size());
  nodes_.push_back(std::move(n));
  has_forward_end_ = false;
  backward_output_ = -1;
  return Var{this, int32_t(nodes_.size() - 1)};
}

Var Tape::record(const NodeInfo& info, std::initializer_list<Var> inputs, const Tensor& output,
                 BackwardFn backward, TangentFn tangent) {
  return record(info, inputs.begin(), int(inputs.size()), output, std::move(backward),
                std::move(tangent));
}

Var Tape::record(const NodeInfo& info, const Var* inputs, int num_inputs, const Tensor& output,
                 BackwardFn backward, TangentFn tangent) {
  Node n;
  n.info = info;
  n.value = output;
  n.first_input = int32_t(input_ids_.size());
  n.num_inputs = num_inputs;
  for (int k = 0; k < num_inputs; ++k) {
    const Var& in = inputs[k];
    GL_CHECK(in.tape == this && in.id >= 0 && in.id < size(), "node '", info.name, "' (",
             info.op, "): input ", k, " is not a value of this tape");
    input_ids_.push_back(in.id);
    n.requires_grad |= nodes_[size_t(in.id)].requires_grad;
  }
  for (Observer* o : observers_) n.requires_grad |= o->wants_gradient(info);
  n.differentiable = bool(backward);
  if (n.requires_grad && num_inputs > 0) {
    n.backward = std::move(backward);
    n.tangent_rule = std::move(tangent);
  }
  nodes_.push_back(std::move(n));
  for (Observer* o : observers_) o->edit_forward(nodes_.back().info, nodes_.back().value);
  for (Observer* o : observers_) o->on_forward(nodes_.back().info, output);
  has_forward_end_ = false;
  backward_output_ = -1;
  return Var{this, int32_t(nodes_.size() - 1)};
}

void Tape::check(Var v, const char* what) const {
  GL_CHECK(v.tape == this && v.id >= 0 && v.id < size(), what, ": variable is not on this tape");
}

const Tensor& Tape::value(Var v) const {
  check(v, "value");
  return nodes_[size_t(v.id)].value;
}

const Tensor& Tape::grad_view(Var v) const {
  check(v, "grad");
  return nodes_[size_t(v.id)].grad;
}

Tensor Tape::grad(Var v) const {
  const Tensor& g = grad_view(v);
  return g.empty() ? Tensor(value(v).shape()) : g.clone();
}

bool Tape::requires_grad(Var v) const {
  check(v, "requires_grad");
  return nodes_[size_t(v.id)].requires_grad;
}

const NodeInfo& Tape::info(Var v) const {
  check(v, "info");
  return nodes_[size_t(v.id)].info;
}

void Tape::observe(Observer* observer) {
  if (std::find(observers_.begin(), observers_.end(), observer) == observers_.end())
    observers_.push_back(observer);
}

void Tape::unobserve(Observer* observer) {
  observers_.erase(std::remove(observers_.begin(), observers_.end(), observer), observers_.end());
}

void Tape::reset() {
  nodes_.clear();
  input_ids_.clear();
  arena_.reset();
  has_forward_end_ = false;
  backward_output_ = -1;
}

void Tape::set_relu_softplus_beta(float beta) {
  GL_CHECK(beta >= 0.f && std::isfinite(beta), "softplus beta must be finite and >= 0, got ", beta);
  relu_softplus_beta_ = beta;
}

void Tape::backward(Var output, const Tensor& seed, const GradRules& rules) {
  check(output, "backward");
  Node& out = nodes_[size_t(output.id)];
  GL_CHECK(seed.shape() == out.value.shape(), "backward of '", out.info.name, "': seed shape ",
           seed.shape().str(), " differs from the output's ", out.value.shape().str());
  // Gradients of a previous backward are dropped: rewind to the end of the forward.
  if (has_forward_end_) arena_.rewind(forward_end_);
  forward_end_ = arena_.mark();
  has_forward_end_ = true;
  for (Node& n : nodes_) n.grad = Tensor();
  backward_output_ = -1;
  if (out.requires_grad) {
    out.grad = alloc(seed.shape());
    out.grad.copy_from(seed);
    for (int32_t i = output.id; i >= 0; --i) {
      Node& n = nodes_[size_t(i)];
      if (n.grad.empty()) continue;
      for (Observer* o : observers_) o->on_backward(n.info, n.value, n.grad);
      if (!n.backward) continue;
      BackwardContext ctx(*this, n, rules);
      n.backward(ctx);
    }
  }
  backward_end_ = arena_.mark();
  backward_output_ = output.id;
  backward_rules_standard_ = rules.relu == ReluRule::standard;
}

Tape::Node& BackwardContext::input_node(int k) const {
  GL_CHECK(k >= 0 && k < node_.num_inputs, "node '", node_.info.name, "' (", node_.info.op,
           "): backward asked for input ", k, " of ", node_.num_inputs);
  return tape_.nodes_[size_t(tape_.input_ids_[size_t(node_.first_input + k)])];
}

const Tensor& BackwardContext::input(int k) const { return input_node(k).value; }

bool BackwardContext::needs_grad(int k) const { return input_node(k).requires_grad; }

void BackwardContext::accumulate(int k, const Tensor& g) {
  Tape::Node& in = input_node(k);
  if (!in.requires_grad) return;
  GL_CHECK(g.shape() == in.value.shape(), "node '", node_.info.name, "' (", node_.info.op,
           "): gradient for input ", k, " has shape ", g.shape().str(), ", its value has ",
           in.value.shape().str());
  if (in.grad.empty()) {
    in.grad = tape_.alloc(g.shape());
    in.grad.copy_from(g);
  } else {
    in.grad.vec() += g.vec();
  }
}

void BackwardContext::accumulate_fresh(int k, const Tensor& g) {
  Tape::Node& in = input_node(k);
  if (!in.requires_grad) return;
  GL_CHECK(g.shape() == in.value.shape(), "node '", node_.info.name, "' (", node_.info.op,
           "): gradient for input ", k, " has shape ", g.shape().str(), ", its value has ",
           in.value.shape().str());
  if (in.grad.empty())
    in.grad = g;
  else
    in.grad.vec() += g.vec();
}

Tensor& BackwardContext::grad_buffer(int k) {
  Tape::Node& in = input_node(k);
  if (in.grad.empty()) in.grad = tape_.alloc_zeroed(in.value.shape());
  return in.grad;
}

}  // namespace gradlens
