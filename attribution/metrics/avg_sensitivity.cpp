// Average sensitivity (Yeh et al. 2019, §4; Bhatt et al. 2020): the mean instead of the maximum of
// ‖Φ(x + δ_s) − Φ(x)‖₂ / ‖Φ(x)‖₂ over S draws δ_s ~ U(−r, r) per value — sensitivity-max's
// draws and normalisation (Captum's sensitivity_max with the max replaced by the mean). Lower
// is better.
#include <numeric>

#include "attribution/metrics/robustness.h"

namespace gradlens {
namespace {

class AvgSensitivity : public MapChangeMetric {
 public:
  const MetricInfo& info() const override {
    static const MetricInfo i = {
        "avg-sensitivity", "robustness", "Yeh et al. 2019", "mean_s ‖Φ(x + δ_s) − Φ(x)‖₂ / ‖Φ(x)‖₂, δ_s ~ U(−r, r)",
        "(S+1) × method", false, false, true,
        map_change_parameters(true),
        {}};
    return i;
  }

 protected:
  double reduce(const std::vector<double>& c) const override {
    return std::accumulate(c.begin(), c.end(), 0.0) / double(c.size());
  }
};

}  // namespace
}  // namespace gradlens

GRADLENS_REGISTER_METRIC(avg_sensitivity, gradlens::AvgSensitivity)
