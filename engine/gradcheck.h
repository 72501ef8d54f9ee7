// A generic finite-difference gradient checker that any function on the tape can be handed
// (dlib / tiny-dnn style). It compares the tape's vector-Jacobian product uᵀJ for a random u with
// 4-point central differences of φ(x) = Σ u ⊙ f(x):
//   ∂φ/∂xᵢ ≈ (−φ(x+2h) + 8φ(x+h) − 8φ(x−h) + φ(x−2h)) / 12h       (error O(h⁴))
// Keep inputs away from kinks (ReLU at 0, max-pool ties) when calling it.
#pragma once
#include <functional>
#include <string>
#include <vector>

#include "engine/tape.h"

namespace gradlens {

struct GradCheckResult {
  double relative_error = 0;  // ‖analytic − numeric‖₂ / max(‖numeric‖₂, 1e-6), over all inputs
  double max_abs_error = 0;
  std::string worst;          // "input k, element i: analytic a, numeric n"
};

using GraphFn = std::function<Var(Tape&, const std::vector<Var>&)>;

GradCheckResult check_gradients(const GraphFn& f, const std::vector<Tensor>& inputs,
                                uint64_t seed = 1, float h = 1e-2f,
                                const GradRules& rules = {});

}  // namespace gradlens
