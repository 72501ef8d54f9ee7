// Deletion (Petsiuk et al. 2018, RISE, §4.1): remove pixels in order of attribution (MoRF), in S
// equal fractions, replacing them by the removal image (--removal, default zero as the paper's
// deletion); y_k = f_c(x_k) for k = 0..S with ⌊k·P/S⌋ pixels removed; the metric is the area
// under the curve by the trapezoid rule over the fraction k/S. Lower is better.
#include "attribution/metrics/perturbation.h"

namespace gradlens {
namespace {

class Deletion : public Metric {
 public:
  const MetricInfo& info() const override {
    static const MetricInfo i = {
        "deletion", "faithfulness", "Petsiuk et al. 2018",
        "AUC_trapezoid over k/S of f_c(x with the top ⌊kP/S⌋ pixels removed), k = 0..S", "S+1 F", false, false, true,
        {{"steps", "100", "S: equal fractions of the pixels (the curve has S + 1 points)"},
         {"removal", "zero", "deletion: removed pixels become zero, mean, blur, uniform or a .npy image"}}, {}};
    return i;
  }
  MetricResult evaluate(const MetricInput& in) const override {
    check_metric_input(info(), in);
    return pixel_curves(in, info(), false, false);
  }
};

}  // namespace
}  // namespace gradlens

GRADLENS_REGISTER_METRIC(deletion, gradlens::Deletion)
