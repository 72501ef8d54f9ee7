// Sparseness (Chalasani et al. 2020, "Concise explanations of neural networks using adversarial
// training", §5): the Gini index of the absolute attributions over all features,
// G = Σ_k (2k − d − 1)·|a|_(k) / (d·Σ_k |a|_(k)) with |a|_(1) ≤ … ≤ |a|_(d) sorted ascending
// (k = 1..d). 0 for a uniform map, 1 − 1/d for a single non-zero feature; 0 for an all-zero map.
#include <algorithm>
#include <cmath>

#include "attribution/metrics/maps.h"

namespace gradlens {
namespace {

class Sparseness : public Metric {
 public:
  const MetricInfo& info() const override {
    static const MetricInfo i = {"sparseness", "complexity", "Chalasani et al. 2020",
                                 "Gini(|a|) = Σ_k (2k − d − 1)|a|_(k) / (d Σ|a|)", "0", true, false, false, {}, {}};
    return i;
  }
  MetricResult evaluate(const MetricInput& in) const override {
    check_metric_input(info(), in);
    MetricResult out;
    for (int64_t n = 0; n < in.input.dim(0); ++n) {
      std::vector<double> a = feature_values(in.attribution, n);
      for (double& v : a) v = std::fabs(v);
      std::sort(a.begin(), a.end());
      const double d = double(a.size());
      double num = 0, total = 0;
      for (size_t k = 0; k < a.size(); ++k) {
        num += (2.0 * double(k + 1) - d - 1.0) * a[k];
        total += a[k];
      }
      out.values.push_back(total > 0 ? num / (d * total) : 0.0);
    }
    return out;
  }
};

}  // namespace
}  // namespace gradlens

GRADLENS_REGISTER_METRIC(sparseness, gradlens::Sparseness)
