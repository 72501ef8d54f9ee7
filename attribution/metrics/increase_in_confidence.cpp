// Increase in confidence (Chattopadhyay et al. 2018, Grad-CAM++, §5.1; seed 003 §3.3 eq. 44):
// IC = 1/N Σ_i 1[f_c(x) < f_c(x_r)] × 100 with x_r = a ⊙ x and a = max(m, 0) / max m as for
// average-drop. The per-example values are the terms (0 or 100); higher is better.
#include "attribution/metrics/perturbation.h"

namespace gradlens {
namespace {

class IncreaseInConfidence : public Metric {
 public:
  const MetricInfo& info() const override {
    static const MetricInfo i = {"increase-in-confidence", "faithfulness", "Chattopadhyay et al. 2018",
                                 "100 · 1[f_c(x) < f_c(a ⊙ x)], a = m⁺ / max m", "2 F", true, false, true, {}, {}};
    return i;
  }
  MetricResult evaluate(const MetricInput& in) const override {
    check_metric_input(info(), in);
    MetricResult out;
    for (const auto& [full, kept] : masked_scores(in, false, out.forward_passes))
      out.values.push_back(full < kept ? 100.0 : 0.0);
    return out;
  }
};

}  // namespace
}  // namespace gradlens

GRADLENS_REGISTER_METRIC(increase_in_confidence, gradlens::IncreaseInConfidence)
