// Complexity (Bhatt et al. 2020, "Evaluating and aggregating feature-based model explanations",
// §4.3): the entropy of the fractional contributions P_i = |a_i| / Σ_j |a_j| over all features,
// H = −Σ_i P_i ln P_i (natural log; 0·ln 0 = 0). ln d for a uniform map, 0 for a single feature;
// 0 for an all-zero map. Lower is simpler.
#include <cmath>

#include "attribution/metrics/maps.h"

namespace gradlens {
namespace {

class Complexity : public Metric {
 public:
  const MetricInfo& info() const override {
    static const MetricInfo i = {"complexity", "complexity", "Bhatt et al. 2020",
                                 "−Σ_i P_i ln P_i, P_i = |a_i| / Σ|a|", "0", false, false, false, {}, {}};
    return i;
  }
  MetricResult evaluate(const MetricInput& in) const override {
    check_metric_input(info(), in);
    MetricResult out;
    for (int64_t n = 0; n < in.input.dim(0); ++n) {
      const std::vector<double> a = feature_values(in.attribution, n);
      double total = 0;
      for (double v : a) total += std::fabs(v);
      double h = 0;
      if (total > 0)
        for (double v : a) {
          const double p = std::fabs(v) / total;
          if (p > 0) h -= p * std::log(p);
        }
      out.values.push_back(h);
    }
    return out;
  }
};

}  // namespace
}  // namespace gradlens

GRADLENS_REGISTER_METRIC(complexity, gradlens::Complexity)
