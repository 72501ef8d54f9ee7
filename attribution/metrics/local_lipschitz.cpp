// Local Lipschitz estimate (Alvarez-Melis & Jaakkola 2018, "On the robustness of
// interpretability methods", §3): L(x) = max_{x' ∈ B_r(x)} ‖Φ(x) − Φ(x')‖₂ / ‖x − x'‖₂, estimated
// over S draws x' = x + δ_s, δ_s ~ U(−r, r) per value (the paper optimises the max; sampling
// gives a lower bound, as Quantus's LocalLipschitzEstimate). Lower is better.
#include <algorithm>

#include "attribution/metrics/robustness.h"

namespace gradlens {
namespace {

class LocalLipschitz : public Metric {
 public:
  const MetricInfo& info() const override {
    static const MetricInfo i = {
        "local-lipschitz", "robustness", "Alvarez-Melis & Jaakkola 2018",
        "max_s ‖Φ(x + δ_s) − Φ(x)‖₂ / ‖δ_s‖₂, δ_s ~ U(−r, r)", "(S+1) × method", false, false, true,
        {{"radius", "0.02", "r: each value perturbed by U(−r, r)"},
         {"samples", "10", "S: perturbed copies per example"}},
        {}};
    return i;
  }
  MetricResult evaluate(const MetricInput& in) const override {
    check_metric_input(info(), in);
    MetricResult out;
    for (int64_t n = 0; n < in.input.dim(0); ++n) {
      const std::vector<double> c = map_changes(in, info(), n, true, out.forward_passes);
      out.values.push_back(c.empty() ? 0.0 : *std::max_element(c.begin(), c.end()));
    }
    return out;
  }
};

}  // namespace
}  // namespace gradlens

GRADLENS_REGISTER_METRIC(local_lipschitz, gradlens::LocalLipschitz)
