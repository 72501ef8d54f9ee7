// Average sensitivity (Yeh et al. 2019, §4; Bhatt et al. 2020): the mean instead of the maximum of
// ‖Φ(x + δ_s) − Φ(x)‖₂ / ‖Φ(x)‖₂ over S draws δ_s ~ U(−r, r) per value — sensitivity-max's
// draws and normalisation (Captum's sensitivity_max with the max replaced by the mean). Lower
// is better.
#include <numeric>

#include "attribution/metrics/robustness.h"

namespace gradlens {
namespace {

class AvgSensitivity : public Metric {
 public:
  const MetricInfo& info() const override {
    static const MetricInfo i = {
        "avg-sensitivity", "robustness", "Yeh et al. 2019", "mean_s ‖Φ(x + δ_s) − Φ(x)‖₂ / ‖Φ(x)‖₂, δ_s ~ U(−r, r)",
        "(S+1) × method", false, false, true,
        {{"radius", "0.02", "r: each value perturbed by U(−r, r) (Captum: 0.02)"},
         {"samples", "10", "S: perturbed copies per example (Captum: 10)"}},
        {}};
    return i;
  }
  MetricResult evaluate(const MetricInput& in) const override {
    check_metric_input(info(), in);
    MetricResult out;
    for (int64_t n = 0; n < in.input.dim(0); ++n) {
      const std::vector<double> c = map_changes(in, info(), n, false, out.forward_passes);
      out.values.push_back(std::accumulate(c.begin(), c.end(), 0.0) / double(c.size()));
    }
    return out;
  }
};

}  // namespace
}  // namespace gradlens

GRADLENS_REGISTER_METRIC(avg_sensitivity, gradlens::AvgSensitivity)
