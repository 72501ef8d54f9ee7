// Local Lipschitz estimate (Alvarez-Melis & Jaakkola 2018, "On the robustness of
// interpretability methods", §3): L(x) = max_{x' ∈ B_r(x)} ‖Φ(x) − Φ(x')‖₂ / ‖x − x'‖₂, estimated
// over S draws x' = x + δ_s, δ_s ~ U(−r, r) per value (the paper optimises the max; sampling
// gives a lower bound, as Quantus's LocalLipschitzEstimate). Lower is better.
#include <algorithm>

#include "attribution/metrics/robustness.h"

namespace gradlens {
namespace {

class LocalLipschitz : public MapChangeMetric {
 public:
  const MetricInfo& info() const override {
    static const MetricInfo i = {
        "local-lipschitz", "robustness", "Alvarez-Melis & Jaakkola 2018",
        "max_s ‖Φ(x + δ_s) − Φ(x)‖₂ / ‖δ_s‖₂, δ_s ~ U(−r, r)", "(S+1) × method", false, false, true,
        map_change_parameters(false),
        {}};
    return i;
  }

 protected:
  bool per_input_distance() const override { return true; }
  double reduce(const std::vector<double>& c) const override {
    return c.empty() ? 0.0 : *std::max_element(c.begin(), c.end());
  }
};

}  // namespace
}  // namespace gradlens

GRADLENS_REGISTER_METRIC(local_lipschitz, gradlens::LocalLipschitz)
