#include "engine/taps.h"

#include <algorithm>

#include "engine/broadcast.h"
#include "engine/error.h"

namespace gradlens {

LayerTap::LayerTap(std::vector<std::string> names, bool capture_gradient)
    : names_(std::move(names)), capture_gradient_(capture_gradient) {}

bool LayerTap::tapped(std::string_view name) const {
  return std::find(names_.begin(), names_.end(), name) != names_.end();
}

bool LayerTap::wants_gradient(const NodeInfo& info) {
  return capture_gradient_ && tapped(info.name);
}

void LayerTap::on_forward(const NodeInfo& info, const Tensor& value) {
  if (tapped(info.name)) activations_[std::string(info.name)] = value.clone();
}

void LayerTap::on_backward(const NodeInfo& info, const Tensor&, const Tensor& grad) {
  if (capture_gradient_ && tapped(info.name)) gradients_[std::string(info.name)] = grad.clone();
}

const Tensor& LayerTap::activation(const std::string& name) const {
  auto it = activations_.find(name);
  GL_CHECK(it != activations_.end(), "tensor '", name, "' was not produced by the model");
  return it->second;
}

const Tensor& LayerTap::gradient(const std::string& name) const {
  auto it = gradients_.find(name);
  GL_CHECK(it != gradients_.end(), "tensor '", name,
           "' received no gradient (it does not influence the explained output)");
  return it->second;
}

void LayerTap::clear() {
  activations_.clear();
  gradients_.clear();
}

Tensor multiply_broadcast(const Tensor& a, const Tensor& b) {
  Tensor out(a.shape());
  GL_CHECK(broadcast_shapes(a.shape(), b.shape()) == a.shape(), "bias of shape ",
           b.shape().str(), " does not broadcast to ", a.shape().str());
  BroadcastPlan plan(a.shape(), b.shape(), a.shape());
  plan.for_each([&](int64_t o, int64_t ia, int64_t ib, int64_t n, int64_t sa, int64_t sb) {
    for (int64_t j = 0; j < n; ++j) out[o + j] = a[ia + j * sa] * b[ib + j * sb];
  });
  return out;
}

void BiasTap::on_backward(const NodeInfo& info, const Tensor&, const Tensor& grad) {
  if (!info.bias) return;
  entries_.push_back({std::string(info.name), std::string(info.op),
                      multiply_broadcast(grad, *info.bias)});
}

std::vector<double> BiasTap::totals_per_sample() const {
  if (entries_.empty()) return {};
  const int64_t batch = entries_.front().map.rank() ? entries_.front().map.dim(0) : 1;
  std::vector<double> totals(size_t(batch), 0.0);
  for (const Entry& e : entries_) {
    const int64_t per = e.map.numel() / std::max<int64_t>(batch, 1);
    for (int64_t b = 0; b < batch; ++b)
      for (int64_t i = 0; i < per; ++i) totals[size_t(b)] += e.map[b * per + i];
  }
  return totals;
}

}  // namespace gradlens
