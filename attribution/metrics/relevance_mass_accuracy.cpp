// Relevance mass accuracy (Arras et al. 2022, "CLEVR-XAI", §4.1): R_within / R_total, the share
// of the pooled relevance R (channel pooling --pooling, default sum-pos = max(Σ_c a_c, 0)) that
// falls inside the ground-truth mask. 0 when R_total = 0.
#include "attribution/metrics/maps.h"

namespace gradlens {
namespace {

class RelevanceMassAccuracy : public PooledRegionMetric {
 public:
  const MetricInfo& info() const override {
    static const MetricInfo i = {
        "relevance-mass-accuracy", "localisation", "Arras et al. 2022", "Σ_{p ∈ GT} R(p) / Σ_p R(p)", "0", true,
        true, false, {pooling_parameter()}, {}};
    return i;
  }

 protected:
  double score(const std::vector<double>& R, const std::vector<uint8_t>& gt) const override {
    double within = 0, total = 0;
    for (size_t i = 0; i < R.size(); ++i) {
      total += R[i];
      if (gt[i]) within += R[i];
    }
    return total > 0 ? within / total : 0.0;
  }
};

}  // namespace
}  // namespace gradlens

GRADLENS_REGISTER_METRIC(relevance_mass_accuracy, gradlens::RelevanceMassAccuracy)
