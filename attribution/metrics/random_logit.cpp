// Random logit test (Sixt et al. 2020, "When explanations lie: why many modified BP attributions
// fail", §5): explain a class c' drawn uniformly from the other classes (seeded by (seed, n)) with
// the same method on the function the given maps explain (MetricInput::map_function: the CLI's
// logits, whatever --score) and report SSIM(m_c, m_c') of the channel-summed maps (ssim.h; Quantus's
// RandomLogit default similarity). A map that does not change with the class (SSIM near 1) does
// not explain the class. Lower is better.
#include "attribution/gradients.h"
#include "attribution/metrics/maps.h"
#include "attribution/metrics/perturbation.h"
#include "attribution/metrics/ssim.h"
#include "engine/error.h"
#include "engine/random.h"

namespace gradlens {
namespace {

class RandomLogit : public Metric {
 public:
  const MetricInfo& info() const override {
    static const MetricInfo i = {"random-logit", "randomisation", "Sixt et al. 2020",
                                 "SSIM(m_c, m_c'), c' ~ U(other classes)", "1 F + 1 × method", false, false, true,
                                 {}, {}};
    return i;
  }
  MetricResult evaluate(const MetricInput& in) const override {
    check_metric_input(info(), in);
    GL_CHECK(in.method, info().name, ": needs the method that made the maps (give --methods, not --attributions)");
    const Grid g = image_grid(in);
    const int64_t N = in.input.dim(0);
    const int64_t C = evaluate_scores(*in.function, example(in.input, 0), 1).dim(1);
    GL_CHECK(C >= 2, info().name, ": needs a model with at least 2 classes");
    MetricResult out;
    std::vector<int64_t> others;
    for (int64_t n = 0; n < N; ++n) {
      Rng rng(example_seed(in, n));
      int64_t other = rng.below(C - 1);
      if (other >= in.targets[size_t(n)]) ++other;
      others.push_back(other);
      out.per_example["class"].push_back(double(other));
    }
    // The other class's maps are made exactly as the given ones: same method, options and function.
    MetricInput random = in;
    random.attribution = recomputed_maps(in, info().name, explained_function(in), in.input, others);
    out.forward_passes = 1 + N;
    for (int64_t n = 0; n < N; ++n) out.values.push_back(ssim(pixel_map(in, n), pixel_map(random, n), g.height, g.width));
    return out;
  }
};

}  // namespace
}  // namespace gradlens

GRADLENS_REGISTER_METRIC(random_logit, gradlens::RandomLogit)
