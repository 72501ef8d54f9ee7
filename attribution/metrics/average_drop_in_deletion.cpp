// Average drop in deletion (Jung & Oh 2021, "Towards better explanations of class activation
// mapping", §4; seed 003 §3.3 eq. 43): ADD = 1/N Σ_i (f_c(x) − f_c(x_d)) / f_c(x) × 100 with
// x_d = (1 − a) ⊙ x the image with its important regions removed, a = max(m, 0) / max m as for
// average-drop. No clamp at 0 (as the equation). The per-example values are the terms; the seed
// reads lower as better, Jung & Oh report higher as better (a larger drop when the important
// part is removed): gradlens lists it as higher-is-better, with the seed's formula.
#include "attribution/metrics/perturbation.h"

namespace gradlens {
namespace {

class AverageDropInDeletion : public Metric {
 public:
  const MetricInfo& info() const override {
    static const MetricInfo i = {"average-drop-in-deletion", "faithfulness", "Jung & Oh 2021",
                                 "100 · (f_c(x) − f_c((1 − a) ⊙ x)) / f_c(x), a = m⁺ / max m", "2 F", true, false,
                                 true, {}, {}};
    return i;
  }
  MetricResult evaluate(const MetricInput& in) const override {
    check_metric_input(info(), in);
    MetricResult out;
    for (const auto& [full, rest] : masked_scores(in, true, out.forward_passes)) {
      out.values.push_back(100.0 * (full - rest) / full);
      out.per_example["score"].push_back(full);
      out.per_example["score_removed"].push_back(rest);
    }
    return out;
  }
};

}  // namespace
}  // namespace gradlens

GRADLENS_REGISTER_METRIC(average_drop_in_deletion, gradlens::AverageDropInDeletion)
