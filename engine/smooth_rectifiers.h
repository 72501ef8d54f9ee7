// ReLU networks have a zero Hessian almost everywhere. While a SmoothRectifiers scope is alive on
// this thread, every rectifier without an upper bound (relu; not clip-based ReLU6) records
// softplus(x; β) = ln(1 + e^(βx))/β instead: a smooth stand-in with a Hessian (Integrated
// Hessians' treatment of ReLU networks, Janizek et al. 2021). Scopes nest; β = 0 is plain relu.
// The tape knows nothing of it: the engine's relu asks smooth_rectifier_beta() while recording.
#pragma once

namespace gradlens {

class SmoothRectifiers {
 public:
  explicit SmoothRectifiers(float beta);  // Error unless β is finite and ≥ 0
  ~SmoothRectifiers();
  SmoothRectifiers(const SmoothRectifiers&) = delete;
  SmoothRectifiers& operator=(const SmoothRectifiers&) = delete;

 private:
  float saved_;
};

// β of the innermost SmoothRectifiers alive on this thread; 0 when none.
float smooth_rectifier_beta();

}  // namespace gradlens
