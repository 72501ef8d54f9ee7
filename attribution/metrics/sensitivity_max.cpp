// Max-sensitivity (Yeh et al. 2019, "On the (in)fidelity and sensitivity of explanations", §4):
// SENS_MAX = max_{‖δ‖∞ ≤ r} ‖Φ(x + δ) − Φ(x)‖₂ / ‖Φ(x)‖₂, estimated as Captum's sensitivity_max
// does: S draws δ ~ U(−r, r) per value (r = 0.02, S = 10, Frobenius norm), the difference norm
// divided by the unperturbed map's norm (left undivided when that norm is 0). Lower is better.
#include <algorithm>

#include "attribution/metrics/robustness.h"

namespace gradlens {
namespace {

class SensitivityMax : public MapChangeMetric {
 public:
  const MetricInfo& info() const override {
    static const MetricInfo i = {
        "sensitivity-max", "robustness", "Yeh et al. 2019", "max_s ‖Φ(x + δ_s) − Φ(x)‖₂ / ‖Φ(x)‖₂, δ_s ~ U(−r, r)",
        "(S+1) × method", false, false, true,
        map_change_parameters(true),
        {}};
    return i;
  }

 protected:
  double reduce(const std::vector<double>& c) const override {
    return c.empty() ? 0.0 : *std::max_element(c.begin(), c.end());
  }
};

}  // namespace
}  // namespace gradlens

GRADLENS_REGISTER_METRIC(sensitivity_max, gradlens::SensitivityMax)
