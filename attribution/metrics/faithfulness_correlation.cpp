// Faithfulness correlation (Bhatt et al. 2020, "Evaluating and aggregating feature-based model
// explanations", §4.1): μ_F = corr_{S ⊂ pixels, |S| = k} (Σ_{p ∈ S} m(p), f_c(x) − f_c(x with S
// replaced by the removal image)), Pearson's r over R random subsets drawn uniformly without
// replacement (seeded by (seed, n)); m = Σ_c a_c and a pixel's channels are replaced together.
// k = ⌈fraction · P⌉ (--subset 0.1), R = 100 runs and a zero ("black") baseline as Quantus's
// defaults. 0 when either side is constant. Higher is better.
#include <algorithm>
#include <cmath>
#include <numeric>

#include "attribution/metrics/perturbation.h"
#include "engine/random.h"

namespace gradlens {
namespace {

double pearson(const std::vector<double>& a, const std::vector<double>& b) {
  const double n = double(a.size());
  const double ma = std::accumulate(a.begin(), a.end(), 0.0) / n, mb = std::accumulate(b.begin(), b.end(), 0.0) / n;
  double sab = 0, saa = 0, sbb = 0;
  for (size_t i = 0; i < a.size(); ++i) {
    sab += (a[i] - ma) * (b[i] - mb);
    saa += (a[i] - ma) * (a[i] - ma);
    sbb += (b[i] - mb) * (b[i] - mb);
  }
  return saa > 0 && sbb > 0 ? sab / std::sqrt(saa * sbb) : 0.0;
}

class FaithfulnessCorrelation : public Metric {
 public:
  const MetricInfo& info() const override {
    static const MetricInfo i = {
        "faithfulness-correlation", "faithfulness", "Bhatt et al. 2020",
        "Pearson_r over R subsets S of (Σ_S m, f_c(x) − f_c(x_S←baseline))", "R+1 F", true, false, true,
        {{"subset", "0.1", "k as a fraction of the pixels (rounded up)"},
         {"runs", "100", "R: random subsets per example"},
         {"removal", "zero", "subsets become zero, mean, blur, uniform or a .npy image"}},
        {}};
    return i;
  }
  MetricResult evaluate(const MetricInput& in) const override {
    check_metric_input(info(), in);
    const MethodInfo owner = parameter_owner(info());
    const double fraction = in.options.number(owner, "subset", 0, 1);
    const int64_t runs = in.options.integer(owner, "runs", 2, 1 << 20);
    const std::string removal = in.options.text(owner, "removal");
    const Grid g = image_grid(in);
    const int64_t k = std::max<int64_t>(1, int64_t(std::ceil(fraction * double(g.size()))));
    MetricResult out;
    for (int64_t n = 0; n < in.input.dim(0); ++n) {
      const std::vector<double> m = pixel_map(in, n);
      const Tensor x = example(in.input, n), base = removal_image(in, n, removal, info().name);
      const int64_t per = x.numel(), channels = per / g.size();
      Shape s = x.shape();
      s[0] = runs + 1;
      Tensor images(s);
      std::vector<double> sums(size_t(runs), 0.0);
      std::vector<int64_t> pixels(size_t(g.size()));
      Rng rng(example_seed(in, n));
      std::copy(x.data(), x.data() + per, images.data());
      for (int64_t r = 0; r < runs; ++r) {
        float* img = images.data() + (r + 1) * per;
        std::copy(x.data(), x.data() + per, img);
        std::iota(pixels.begin(), pixels.end(), int64_t(0));
        for (int64_t j = 0; j < k; ++j) {  // partial Fisher–Yates: the first k are the subset
          std::swap(pixels[size_t(j)], pixels[size_t(j + rng.below(g.size() - j))]);
          const int64_t p = pixels[size_t(j)];
          sums[size_t(r)] += m[size_t(p)];
          for (int64_t c = 0; c < channels; ++c) img[c * g.size() + p] = base[c * g.size() + p];
        }
      }
      const std::vector<double> y = target_scores(in, n, images, out.forward_passes);
      std::vector<double> drops;
      for (int64_t r = 1; r <= runs; ++r) drops.push_back(y[0] - y[size_t(r)]);
      out.values.push_back(pearson(sums, drops));
    }
    return out;
  }
};

}  // namespace
}  // namespace gradlens

GRADLENS_REGISTER_METRIC(faithfulness_correlation, gradlens::FaithfulnessCorrelation)
