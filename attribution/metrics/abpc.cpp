// Area between perturbation curves (Schulz et al. 2020, as the seed's §3.3 describes it after
// Samek et al. 2017): two deletion curves, least relevant first (LeRF) and most relevant first
// (MoRF), each from x towards the removal image in S equal pixel fractions; ABPC = AUC(LeRF) −
// AUC(MoRF), both by the trapezoid rule over the fraction. Higher is better.
#include "attribution/metrics/perturbation.h"

namespace gradlens {
namespace {

class Abpc : public Metric {
 public:
  const MetricInfo& info() const override {
    static const MetricInfo i = {
        "abpc", "faithfulness", "Schulz et al. 2020", "AUC(LeRF deletion curve) − AUC(MoRF deletion curve)",
        "2(S+1) F", true, false, true,
        {{"steps", "100", "S: equal fractions of the pixels (the curve has S + 1 points)"},
         {"removal", "zero", "deletion: removed pixels become zero, mean, blur, uniform or a .npy image"}}, {}};
    return i;
  }
  MetricResult evaluate(const MetricInput& in) const override {
    check_metric_input(info(), in);
    const MetricResult morf = pixel_curves(in, info(), false, false);
    const MetricResult lerf = pixel_curves(in, info(), false, true);
    MetricResult out;
    for (size_t n = 0; n < morf.values.size(); ++n) out.values.push_back(lerf.values[n] - morf.values[n]);
    out.per_example["auc_morf"] = morf.values;
    out.per_example["auc_lerf"] = lerf.values;
    out.forward_passes = morf.forward_passes + lerf.forward_passes;
    return out;
  }
};

}  // namespace
}  // namespace gradlens

GRADLENS_REGISTER_METRIC(abpc, gradlens::Abpc)
