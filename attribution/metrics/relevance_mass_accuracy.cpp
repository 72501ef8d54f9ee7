// Relevance mass accuracy (Arras et al. 2022, "CLEVR-XAI", §4.1): R_within / R_total, the share
// of the pooled relevance R (channel pooling --pooling, default sum-pos = max(Σ_c a_c, 0)) that
// falls inside the ground-truth mask. 0 when R_total = 0.
#include "attribution/metrics/maps.h"

namespace gradlens {
namespace {

class RelevanceMassAccuracy : public Metric {
 public:
  const MetricInfo& info() const override {
    static const MetricInfo i = {
        "relevance-mass-accuracy", "localisation", "Arras et al. 2022", "Σ_{p ∈ GT} R(p) / Σ_p R(p)", "0", true,
        true, false, {{"pooling", "sum-pos", "channel pooling: sum-pos, sum-abs or max-norm (Arras et al.)"}}, {}};
    return i;
  }
  MetricResult evaluate(const MetricInput& in) const override {
    check_metric_input(info(), in);
    const std::string pooling = in.options.text(parameter_owner(info()), "pooling");
    MetricResult out;
    for (int64_t n = 0; n < in.input.dim(0); ++n) {
      const std::vector<double> R = pooled_map(in, n, pooling, info().name);
      const std::vector<uint8_t> gt = region(in, n);
      double within = 0, total = 0;
      for (size_t i = 0; i < R.size(); ++i) {
        total += R[i];
        if (gt[i]) within += R[i];
      }
      out.values.push_back(total > 0 ? within / total : 0.0);
    }
    return out;
  }
};

}  // namespace
}  // namespace gradlens

GRADLENS_REGISTER_METRIC(relevance_mass_accuracy, gradlens::RelevanceMassAccuracy)
