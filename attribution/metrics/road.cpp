// ROAD, RemOve And Debias (Rong et al. 2022, "A consistent and efficient evaluation strategy for
// attribution methods", §4): the top (MoRF) or bottom (LeRF) fraction p of the pixels by m = Σ_c a_c
// is removed and each removed value imputed by noisy linear imputation: per channel, the removed
// values solve Σ_j w_ij (x_i − x_j) = 0 over the in-image neighbours j of each removed pixel i
// (w = 1/6 for the 4 direct, 1/12 for the 4 diagonal neighbours; known neighbours on the right-hand
// side) — a symmetric positive (semi)definite system, solved by conjugate gradients to a relative
// residual of 1e-12 — and N(0, σ²) noise is added to the imputed values (σ = --noise 0.01, seeded
// by (seed, n)). Fractions p = 1/(F+1) … F/(F+1) (F = --fractions 9: 10 % … 90 %). Value =
// mean_p f_c(LeRF_p) − mean_p f_c(MoRF_p) (higher is better); per example also both means; the
// curve kept is MoRF's.
#include <algorithm>
#include <cmath>

#include "attribution/metrics/perturbation.h"
#include "engine/random.h"

namespace gradlens {
namespace {

// Imputes the pixels with removed[p] = 1 in one [C, H, W] image (in place).
void impute(float* image, int64_t C, int64_t H, int64_t W, const std::vector<uint8_t>& removed) {
  static const int dy[8] = {-1, 1, 0, 0, -1, -1, 1, 1}, dx[8] = {0, 0, -1, 1, -1, 1, -1, 1};
  static const double w[8] = {1 / 6.0, 1 / 6.0, 1 / 6.0, 1 / 6.0, 1 / 12.0, 1 / 12.0, 1 / 12.0, 1 / 12.0};
  std::vector<int64_t> unknown, slot(size_t(H * W), -1);
  for (int64_t p = 0; p < H * W; ++p)
    if (removed[size_t(p)]) slot[size_t(p)] = int64_t(unknown.size()), unknown.push_back(p);
  const size_t U = unknown.size();
  if (U == 0) return;
  std::vector<double> diag(U, 0.0);
  for (size_t u = 0; u < U; ++u)
    for (int k = 0; k < 8; ++k) {
      const int64_t y = unknown[u] / W + dy[k], x = unknown[u] % W + dx[k];
      if (y >= 0 && x >= 0 && y < H && x < W) diag[u] += w[k];
    }
  auto apply = [&](const std::vector<double>& v, std::vector<double>& out) {  // out = A v
    for (size_t u = 0; u < U; ++u) {
      double s = diag[u] * v[u];
      for (int k = 0; k < 8; ++k) {
        const int64_t y = unknown[u] / W + dy[k], x = unknown[u] % W + dx[k];
        if (y < 0 || x < 0 || y >= H || x >= W) continue;
        const int64_t j = slot[size_t(y * W + x)];
        if (j >= 0) s -= w[k] * v[size_t(j)];
      }
      out[u] = s;
    }
  };
  for (int64_t c = 0; c < C; ++c) {
    float* img = image + c * H * W;
    std::vector<double> b(U, 0.0), v(U, 0.0), r(U), d(U), Ad(U);
    for (size_t u = 0; u < U; ++u)
      for (int k = 0; k < 8; ++k) {
        const int64_t y = unknown[u] / W + dy[k], x = unknown[u] % W + dx[k];
        if (y >= 0 && x >= 0 && y < H && x < W && slot[size_t(y * W + x)] < 0) b[u] += w[k] * img[y * W + x];
      }
    r = b, d = b;
    double rr = 0, bb = 0;
    for (size_t u = 0; u < U; ++u) rr += r[u] * r[u];
    bb = rr;
    for (size_t it = 0; it < 20 * U + 100 && rr > 1e-24 * bb && rr > 0; ++it) {
      apply(d, Ad);
      double dAd = 0;
      for (size_t u = 0; u < U; ++u) dAd += d[u] * Ad[u];
      if (dAd <= 0) break;
      const double alpha = rr / dAd;
      double next = 0;
      for (size_t u = 0; u < U; ++u) v[u] += alpha * d[u], r[u] -= alpha * Ad[u], next += r[u] * r[u];
      for (size_t u = 0; u < U; ++u) d[u] = r[u] + next / rr * d[u];
      rr = next;
    }
    for (size_t u = 0; u < U; ++u) img[unknown[u]] = float(v[u]);
  }
}

class Road : public Metric {
 public:
  const MetricInfo& info() const override {
    static const MetricInfo i = {
        "road", "faithfulness", "Rong et al. 2022",
        "mean_p f_c(LeRF_p imputed) − mean_p f_c(MoRF_p imputed), noisy linear imputation, p = k/(F+1)",
        "2F F", true, false, true,
        {{"fractions", "9", "F: removal fractions k/(F+1), k = 1..F (9: 10% … 90%)"},
         {"noise", "0.01", "σ of the Gaussian noise added to imputed values (ROAD: 0.01)"}},
        {}};
    return i;
  }
  MetricResult evaluate(const MetricInput& in) const override {
    check_metric_input(info(), in);
    const MethodInfo owner = parameter_owner(info());
    const int64_t F = in.options.integer(owner, "fractions", 1, 1000);
    const double sigma = in.options.number(owner, "noise", 0, 1e9);
    const Grid g = image_grid(in);
    MetricResult out;
    for (int64_t k = 1; k <= F; ++k) out.curve_x.push_back(double(k) / double(F + 1));
    for (int64_t n = 0; n < in.input.dim(0); ++n) {
      const Tensor x = example(in.input, n);
      const int64_t per = x.numel(), C = per / g.size();
      const std::vector<double> m = pixel_map(in, n);
      Shape s = x.shape();
      s[0] = 2 * F;
      Tensor images(s);
      Rng rng(example_seed(in, n));
      for (int lerf = 0; lerf < 2; ++lerf) {
        const std::vector<int64_t> order = pixel_order(m, lerf == 1);
        for (int64_t k = 1; k <= F; ++k) {
          float* img = images.data() + (lerf * F + k - 1) * per;
          std::copy(x.data(), x.data() + per, img);
          std::vector<uint8_t> removed(size_t(g.size()), 0);
          const int64_t count = k * g.size() / (F + 1);
          for (int64_t j = 0; j < count; ++j) removed[size_t(order[size_t(j)])] = 1;
          impute(img, C, g.height, g.width, removed);
          for (int64_t c = 0; c < C; ++c)
            for (int64_t p = 0; p < g.size(); ++p)
              if (removed[size_t(p)]) img[c * g.size() + p] += float(sigma * rng.normal());
        }
      }
      const std::vector<double> y = target_scores(in, n, images, out.forward_passes);
      double morf = 0, lerf = 0;
      for (int64_t k = 0; k < F; ++k) morf += y[size_t(k)], lerf += y[size_t(F + k)];
      morf /= double(F), lerf /= double(F);
      out.values.push_back(lerf - morf);
      out.per_example["morf"].push_back(morf);
      out.per_example["lerf"].push_back(lerf);
      out.curves.push_back(std::vector<double>(y.begin(), y.begin() + F));
    }
    return out;
  }
};

}  // namespace
}  // namespace gradlens

GRADLENS_REGISTER_METRIC(road, gradlens::Road)
