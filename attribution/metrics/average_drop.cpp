// Average drop (Chattopadhyay et al. 2018, Grad-CAM++, §5.1; seed 003 §3.3 eq. 42):
// AD = 1/N Σ_i max(0, f_c(x) − f_c(x_r)) / f_c(x) × 100 with x_r = a ⊙ x the image with only its
// important regions kept, a = max(m, 0) / max m the map normalised to [0, 1] (m = Σ_c a_c, the
// paper's explanation map as a mask). The per-example values are the terms; lower is better.
#include <algorithm>

#include "attribution/metrics/perturbation.h"

namespace gradlens {
namespace {

class AverageDrop : public Metric {
 public:
  const MetricInfo& info() const override {
    static const MetricInfo i = {"average-drop", "faithfulness", "Chattopadhyay et al. 2018",
                                 "100 · max(0, f_c(x) − f_c(a ⊙ x)) / f_c(x), a = m⁺ / max m", "2 F", false, false,
                                 true, {}, {}};
    return i;
  }
  MetricResult evaluate(const MetricInput& in) const override {
    check_metric_input(info(), in);
    MetricResult out;
    for (const auto& [full, kept] : masked_scores(in, false, out.forward_passes)) {
      out.values.push_back(100.0 * std::max(0.0, full - kept) / full);
      out.per_example["score"].push_back(full);
      out.per_example["score_kept"].push_back(kept);
    }
    return out;
  }
};

}  // namespace
}  // namespace gradlens

GRADLENS_REGISTER_METRIC(average_drop, gradlens::AverageDrop)
