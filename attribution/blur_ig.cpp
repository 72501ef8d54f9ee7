// Blur integrated gradients (Xu, Venugopalan, Sundararajan, Ray & Saxena 2020): the path runs
// through successive Gaussian blurs of the input, x(σ) = G_σ * x, from the most blurred
// x(σ_max) (the baseline) to x(0) = x:
//   BlurIG(x) = ∫_{σ_max}^{0} ∇f(x(σ)) ⊙ ∂x(σ)/∂σ dσ = −σ_max ∫₀¹ ∇f(x(σ_max s)) ⊙ ∂x/∂σ(σ_max s) ds
//            ≈ −σ_max Σ_k w_k ∇f(x(σ_k)) ⊙ ∂x/∂σ(σ_k),   σ_k = σ_max s_k
// with the quadrature rules of path.h on s = σ/σ_max; riemann-left (the default) gives the
// authors' σ_k = k σ_max / n (PAIR saliency's BlurIG). ∂x/∂σ is the exact derivative of the
// discrete Gaussian filter (path.h), where the authors' code takes a forward difference with
// step 0.01. The blur is scipy.ndimage.gaussian_filter(mode='constant') over H and W of each
// channel, as theirs. With --idgi, the IDGI correction (see integrated_gradients.cpp) on the
// cells of the nodes in s: d_k = f(x(σ_max b_k)) − f(x(σ_max b_{k+1})).
#include <cmath>

#include "attribution/method.h"
#include "attribution/path.h"
#include "engine/error.h"

namespace gradlens {

namespace {

class BlurIG : public Method {
 public:
  BlurIG() {
    info_.name = "blur-ig";
    info_.family = "path";
    info_.paper = "Xu et al. 2020";
    info_.cost = "steps × (1F + 1B) + 2F";  // the 2F: f(x) and f(x′) for the completeness gap
    info_.summary = "integrated gradients along successive Gaussian blurs, exact d/dσ of the blur";
    info_.parameters = quadrature_parameters("riemann-left", "100");
    info_.parameters.push_back({"max-sigma", "50", "σ of the most blurred image (the baseline), in samples"});
    info_.parameters.push_back({"idgi", "false", "apply the IDGI important-direction correction"});
  }
  const MethodInfo& info() const override { return info_; }

  Explanation explain_rows(const Request& r) const override {
    r.options.check_known(info_);
    const Quadrature q = parse_quadrature(info_, r.options);
    const double max_sigma = r.options.number(info_, "max-sigma", 1e-6, 1e6);
    const bool idgi = r.options.boolean(info_, "idgi");
    const Tensor& x = r.input;
    check_path_request(r, info_.name);
    const int64_t N = x.dim(0), per = x.numel() / N, steps = int64_t(q.nodes.size());

    auto example = [&](int64_t n) {
      Shape s = x.shape();
      s[0] = 1;
      return Tensor::view(s, const_cast<float*>(x.data()) + n * per);
    };
    auto blurred_into = [&](int64_t n, double sigma, float* row) {
      const Tensor b = gaussian_blur(example(n), sigma);
      std::copy(b.data(), b.data() + per, row);
    };

    std::vector<std::vector<double>> boundary_scores;
    if (idgi) {
      const std::vector<double> boundaries = idgi_boundaries(q);
      boundary_scores = path_scores(r, steps + 1, [&](int64_t n, int64_t k, int64_t, float* row) {
        blurred_into(n, max_sigma * boundaries[size_t(k)], row);
      });
    }

    // ∂x/∂σ of the chunk's rows, by slot.
    std::vector<float> derivative(size_t(r.batch * per));
    std::vector<double> sum(size_t(N * per), 0.0);
    const ChunkStats stats = run_path(
        r, steps,
        [&](int64_t n, int64_t k, int64_t slot, float* row) {
          const double sigma = max_sigma * q.nodes[size_t(k)];
          blurred_into(n, sigma, row);
          const Tensor d = gaussian_blur(example(n), sigma, true);
          std::copy(d.data(), d.data() + per, derivative.begin() + slot * per);
        },
        [&](int64_t n, int64_t k, int64_t slot, const float* g, double) {
          double* acc = sum.data() + n * per;
          const float* dx = derivative.data() + slot * per;
          if (!idgi) {
            const double w = -max_sigma * q.weights[size_t(k)];
            for (int64_t i = 0; i < per; ++i) acc[i] += w * double(g[i]) * double(dx[i]);
            return;
          }
          const std::vector<double>& f = boundary_scores[size_t(n)];
          add_idgi_segment(acc, g, per, f[size_t(k)] - f[size_t(k + 1)]);
        });

    Explanation e;
    e.attribution = Tensor(x.shape());
    for (int64_t i = 0; i < N * per; ++i) e.attribution[i] = float(sum[size_t(i)]);
    report_completeness(e, example_scores(r, x), example_scores(r, gaussian_blur(x, max_sigma)), stats);
    e.notes["rule"] = r.options.text(info_, "rule");
    if (idgi) e.notes["idgi"] = "true";
    e.forward_passes = stats.rows + 2 * N + (idgi ? N * (steps + 1) : 0);
    e.backward_passes = stats.rows;
    return e;
  }

 private:
  MethodInfo info_;
};

GRADLENS_REGISTER_METHOD(blur_ig, BlurIG)

}  // namespace
}  // namespace gradlens
