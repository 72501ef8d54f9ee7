// Backward rules for rectifiers, chosen at backward time so one recorded forward can be replayed
// under each (the rule-modified backprop methods of Springenberg 2015, Zeiler & Fergus 2014,
// Kim et al. 2019). With x the rectifier's input, a its output, g the upstream gradient:
//   standard   dx = g · [lo < x < hi]           (the true derivative; kink convention: 0 at x = 0,
//                                                as PyTorch's threshold_backward)
//   deconvnet  dx = max(g, 0)                   (backward ReLU on the signal, ignores x)
//   guided     dx = max(g, 0) · [lo < x < hi]
//   rectgrad   dx = g · [a·g > τ] · [x < hi]    τ = q-th percentile of a·g over the layer, per
//                                                sample (linear interpolation, as numpy)
// Relu is lo = 0, hi = +inf; Clip(min = 0, max = m) (ReLU6) is lo = 0, hi = m. Every other
// activation (LeakyRelu, Sigmoid, HardSwish, ...) always passes its ordinary gradient.
#pragma once
#include <limits>
#include <string>

#include "engine/tensor.h"

namespace gradlens {

enum class ReluRule { standard, deconvnet, guided, rectgrad };

struct GradRules {
  ReluRule relu = ReluRule::standard;
  // RectGrad's q (Kim et al. 2019 use q = 98 in their experiments).
  float rectgrad_percentile = 98.0f;
};

ReluRule parse_relu_rule(const std::string& name);  // "standard", "deconvnet", "guided", "rectgrad"
const char* relu_rule_name(ReluRule rule);

// q-th percentile (0..100, linear interpolation between order statistics) of values[0..n).
// Reorders `values`.
float percentile_inplace(float* values, int64_t n, float q);

// dx = rule(x, a, g) as above, over tensors of identical shape whose first axis is the batch.
// `scratch` must hold x.numel() floats (used by rectgrad only).
void rectifier_backward(const GradRules& rules, const Tensor& x, const Tensor& a, const Tensor& g,
                        float hi, Tensor& dx, float* scratch);

constexpr float kNoUpperBound = std::numeric_limits<float>::infinity();

}  // namespace gradlens
