// Observers that methods use; layers know nothing of them.
//   LayerTap  keeps the activation and the gradient of named tensors (Grad-CAM and relatives).
//   BiasTap   keeps grad ⊙ bias for every node that adds a bias (FullGrad): with b broadcast to
//             the output y, the map is ∂f/∂y ⊙ b. For a network that is piecewise linear with
//             biases, f(x) = Σ x ⊙ ∇f(x) + Σ_nodes Σ (∂f/∂y ⊙ b)   (Srinivas & Fleuret 2019, eq. 3).
#pragma once
#include <map>
#include <string>
#include <vector>

#include "engine/tape.h"

namespace gradlens {

class LayerTap : public Observer {
 public:
  explicit LayerTap(std::vector<std::string> names, bool capture_gradient = true);
  bool wants_gradient(const NodeInfo& info) override;
  void on_forward(const NodeInfo& info, const Tensor& value) override;
  void on_backward(const NodeInfo& info, const Tensor& value, const Tensor& grad) override;

  bool seen(const std::string& name) const { return activations_.count(name) > 0; }
  // Owning copies; Error when the name was never produced (or never received a gradient).
  const Tensor& activation(const std::string& name) const;
  const Tensor& gradient(const std::string& name) const;
  void clear();

 private:
  bool tapped(std::string_view name) const;
  std::vector<std::string> names_;
  bool capture_gradient_;
  std::map<std::string, Tensor> activations_, gradients_;
};

class BiasTap : public Observer {
 public:
  struct Entry {
    std::string name;
    std::string op;
    Tensor map;  // grad_out ⊙ broadcast(bias), shaped like the node's output
  };
  void on_backward(const NodeInfo& info, const Tensor& value, const Tensor& grad) override;
  const std::vector<Entry>& entries() const { return entries_; }
  // Per-sample total of all bias maps (axis 0 is the batch): Σ_nodes Σ_{non-batch} map.
  std::vector<double> totals_per_sample() const;
  void clear() { entries_.clear(); }

 private:
  std::vector<Entry> entries_;
};

// out = a ⊙ broadcast(b), b broadcast to a's shape by numpy rules.
Tensor multiply_broadcast(const Tensor& a, const Tensor& b);

}  // namespace gradlens
