// Insertion (Petsiuk et al. 2018, RISE, §4.1): start from the removal image (--removal, default
// blur as the paper's insertion) and put the pixels of x back in order of attribution (MoRF), in
// S equal fractions; y_k = f_c(x_k) for k = 0..S with ⌊k·P/S⌋ pixels inserted; the metric is the
// area under the curve by the trapezoid rule over the fraction k/S. Higher is better.
#include "attribution/metrics/perturbation.h"

namespace gradlens {
namespace {

class Insertion : public Metric {
 public:
  const MetricInfo& info() const override {
    static const MetricInfo i = {
        "insertion", "faithfulness", "Petsiuk et al. 2018",
        "AUC_trapezoid over k/S of f_c(removal image with the top ⌊kP/S⌋ pixels of x), k = 0..S", "S+1 F", true,
        false, true,
        {{"steps", "100", "S: equal fractions of the pixels (the curve has S + 1 points)"},
         {"removal", "blur", "insertion: the start image is zero, mean, blur, uniform or a .npy image"}}, {}};
    return i;
  }
  MetricResult evaluate(const MetricInput& in) const override {
    check_metric_input(info(), in);
    return pixel_curves(in, info(), true, false);
  }
};

}  // namespace
}  // namespace gradlens

GRADLENS_REGISTER_METRIC(insertion, gradlens::Insertion)
