// Max-sensitivity (Yeh et al. 2019, "On the (in)fidelity and sensitivity of explanations", §4):
// SENS_MAX = max_{‖δ‖∞ ≤ r} ‖Φ(x + δ) − Φ(x)‖₂ / ‖Φ(x)‖₂, estimated as Captum's sensitivity_max
// does: S draws δ ~ U(−r, r) per value (r = 0.02, S = 10, Frobenius norm), the difference norm
// divided by the unperturbed map's norm (left undivided when that norm is 0). Lower is better.
#include <algorithm>

#include "attribution/metrics/robustness.h"

namespace gradlens {
namespace {

class SensitivityMax : public Metric {
 public:
  const MetricInfo& info() const override {
    static const MetricInfo i = {
        "sensitivity-max", "robustness", "Yeh et al. 2019", "max_s ‖Φ(x + δ_s) − Φ(x)‖₂ / ‖Φ(x)‖₂, δ_s ~ U(−r, r)",
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
      out.values.push_back(c.empty() ? 0.0 : *std::max_element(c.begin(), c.end()));
    }
    return out;
  }
};

}  // namespace
}  // namespace gradlens

GRADLENS_REGISTER_METRIC(sensitivity_max, gradlens::SensitivityMax)
