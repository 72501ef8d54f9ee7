// Infidelity (Yeh et al. 2019, "On the (in)fidelity and sensitivity of explanations", §3):
// INFD = E_I[(Iᵀ Φ(x) − (f_c(x) − f_c(x − I)))²] over S draws of Gaussian noise I ~ N(0, σ²) per
// value (seeded by (seed, n)); a [N, 1, H, W] map is broadcast over the channels. This is
// Captum's `infidelity` with perturb_func returning (I, x − I): Captum's default
// normalize=False is --normalize false; --normalize true first scales Φ by the optimal
// β = E[IᵀΦ · Δf] / E[(IᵀΦ)²] (Captum's normalize=True, the paper's scale-invariant variant).
// Lower is better.
#include "attribution/metrics/perturbation.h"
#include "engine/random.h"

namespace gradlens {
namespace {

class Infidelity : public Metric {
 public:
  const MetricInfo& info() const override {
    static const MetricInfo i = {
        "infidelity", "faithfulness", "Yeh et al. 2019", "mean_s (I_sᵀΦ − (f_c(x) − f_c(x − I_s)))², I_s ~ N(0, σ²)",
        "S+1 F", false, false, true,
        {{"sigma", "0.1", "σ of the Gaussian perturbations I"},
         {"samples", "10", "S: perturbations per example (Captum: n_perturb_samples=10)"},
         {"normalize", "false", "scale Φ by the optimal β first (Captum's normalize=True)"}},
        {}};
    return i;
  }
  MetricResult evaluate(const MetricInput& in) const override {
    check_metric_input(info(), in);
    const MethodInfo owner = parameter_owner(info());
    const double sigma = in.options.number(owner, "sigma", 0, 1e9);
    const int64_t S = in.options.integer(owner, "samples", 1, 1 << 20);
    const bool normalize = in.options.boolean(owner, "normalize");
    const Grid g = image_grid(in);
    MetricResult out;
    for (int64_t n = 0; n < in.input.dim(0); ++n) {
      const Tensor x = example(in.input, n);
      const int64_t per = x.numel();
      const int64_t map_per = in.attribution.numel() / in.attribution.dim(0);
      const float* a = in.attribution.data() + n * map_per;
      Shape s = x.shape();
      s[0] = S + 1;
      Tensor noise(s), images(s);
      Rng rng(example_seed(in, n));
      rng.fill_normal(noise, 0.f, float(sigma));
      std::vector<double> dots(size_t(S), 0.0);
      for (int64_t i = 0; i < per; ++i) images[i] = x[i];
      for (int64_t r = 1; r <= S; ++r)
        for (int64_t i = 0; i < per; ++i) {
          const float I = noise[r * per + i];
          images[r * per + i] = x[i] - I;
          dots[size_t(r - 1)] += double(I) * double(a[map_per == per ? i : i % g.size()]);
        }
      const std::vector<double> y = target_scores(in, n, images, out.forward_passes);
      double beta = 1;
      if (normalize) {
        double num = 0, den = 0;
        for (int64_t r = 0; r < S; ++r) num += dots[size_t(r)] * (y[0] - y[size_t(r + 1)]), den += dots[size_t(r)] * dots[size_t(r)];
        beta = den > 0 ? num / den : 0.0;
      }
      double sum = 0;
      for (int64_t r = 0; r < S; ++r) {
        const double e = beta * dots[size_t(r)] - (y[0] - y[size_t(r + 1)]);
        sum += e * e;
      }
      out.values.push_back(sum / double(S));
    }
    return out;
  }
};

}  // namespace
}  // namespace gradlens

GRADLENS_REGISTER_METRIC(infidelity, gradlens::Infidelity)
