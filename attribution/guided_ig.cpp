// Guided integrated gradients (Kapishnikov, Venugopalan, Avci, Wedin, Terry & Bolukbasi 2021,
// "Guided Integrated Gradients: an Adaptive Path Method for Removing Noise"): an adaptive path
// from x′ to x that, at every step, moves the features with the smallest |gradient| first, kept
// near the straight line. The attribution is the path integral Σ_k ∇f(x_k) ⊙ (x_{k+1} − x_k), so
// Σ A ≈ f(x) − f(x′) up to the first-order discretisation error.
//
// The path, as the authors' code (PAIR saliency, guided_ig.py), per example; d = x − x′,
// L = ‖d‖₁, feature i's progress a_i = (p_i − x′_i)/d_i (features with d_i = 0 never move). Step
// k = 0..K−1 takes one gradient g = ∇f(p) at the current point p, then, with a = (k+1)/K,
// a_min = max(a − δ, 0), a_max = min(a + δ, 1) (δ = --max-dist) and the target ‖p − x‖₁ = L(1 − a):
//   repeat: features behind (a_i < a_min) jump to a_min; stop when ‖p − x‖₁ equals the target
//   (relative or absolute tolerance 1e-9); the features at a_max get |g_i| = ∞; the selection S is
//   {i : |g_i| ≤ q, |g_i| < ∞} with q the sorted |g| (∞ included) at index ⌊φ(n − 1)⌋ (numpy's
//   quantile 'lower', φ = --fraction; ties at q are all selected); with l = Σ_S |p_i − x_max_i| and
//   γ = (‖p − x‖₁ − target)/l (∞ when l = 0): γ > 1 moves S to a_max and repeats, else moves S by
//   the fraction γ toward a_max and ends the step;
//   then A += g ⊙ (p_after − p_before).
// The last step (a = 1, target 0) ends exactly at x. Deliberate differences: the path is kept in
// double precision and fed to the model as float32; the step ends if the target is already passed
// or nothing can be selected (where the authors' code asserts or would loop); one gradient pass
// per step runs all N examples as rows of chunks of --batch rows, and the per-example path updates
// run in parallel over examples.
//
// --idgi (Yang et al. 2023): segment k's change d_k = f(x_{k+1}) − f(x_k) split as
// d_k g_k² / ‖g_k‖², with f(x_k) the score of step k's gradient pass and f(x_K) = f(x); complete up
// to rounding.
#include <algorithm>
#include <cmath>
#include <limits>

#include "attribution/method.h"
#include "attribution/path.h"
#include "engine/error.h"
#include "engine/parallel.h"

namespace gradlens {

namespace {

// One example's path state and the move of one step.
struct GuidedPath {
  const float* input;     // x
  const float* baseline;  // x′
  double* point;          // p, starts at x′
  int64_t features;
  double l1_total;  // ‖x − x′‖₁
};

bool close_enough(double target, double current) {
  const double tolerance = 1e-9;
  return std::fabs(target - current) <=
         std::max(tolerance * std::max(std::fabs(target), std::fabs(current)), tolerance);
}

// Moves p for step k of `steps` using the gradient g at p (see the file comment).
void guided_step(const GuidedPath& path, const float* g, int64_t k, int64_t steps, double fraction, double max_dist) {
  const int64_t n = path.features;
  double* p = path.point;
  if (k == steps - 1) {
    for (int64_t i = 0; i < n; ++i) p[i] = double(path.input[i]);
    return;
  }
  const double alpha = double(k + 1) / double(steps);
  const double alpha_min = std::max(alpha - max_dist, 0.0), alpha_max = std::min(alpha + max_dist, 1.0);
  const double l1_target = path.l1_total * (1.0 - double(k + 1) / double(steps));
  const size_t count = static_cast<size_t>(n);
  std::vector<double> x_min(count), x_max(count), magnitude(count), sorted(count);
  for (int64_t i = 0; i < n; ++i) {
    const double b = double(path.baseline[i]), d = double(path.input[i]) - b;
    x_min[size_t(i)] = b + d * alpha_min;
    x_max[size_t(i)] = b + d * alpha_max;
    magnitude[size_t(i)] = std::fabs(double(g[i]));
  }
  const double infinity = std::numeric_limits<double>::infinity();
  const size_t quantile_index = size_t(std::floor(fraction * double(n - 1)));
  for (;;) {
    double l1_current = 0;
    for (int64_t i = 0; i < n; ++i) {
      const double b = double(path.baseline[i]), d = double(path.input[i]) - b;
      if (d != 0 && (p[i] - b) / d < alpha_min) p[i] = x_min[size_t(i)];
      l1_current += std::fabs(p[i] - double(path.input[i]));
    }
    if (close_enough(l1_target, l1_current) || l1_current < l1_target) return;
    for (int64_t i = 0; i < n; ++i)
      if (p[i] == x_max[size_t(i)]) magnitude[size_t(i)] = infinity;
    sorted = magnitude;
    std::nth_element(sorted.begin(), sorted.begin() + std::ptrdiff_t(quantile_index), sorted.end());
    const double threshold = sorted[quantile_index];
    double l1_selected = 0;
    bool any = false;
    for (int64_t i = 0; i < n; ++i)
      if (magnitude[size_t(i)] <= threshold && magnitude[size_t(i)] != infinity) {
        l1_selected += std::fabs(p[i] - x_max[size_t(i)]);
        any = true;
      }
    if (!any) return;
    const double gamma = l1_selected > 0 ? (l1_current - l1_target) / l1_selected : infinity;
    for (int64_t i = 0; i < n; ++i)
      if (magnitude[size_t(i)] <= threshold && magnitude[size_t(i)] != infinity)
        p[i] = gamma > 1.0 ? x_max[size_t(i)] : p[i] + (x_max[size_t(i)] - p[i]) * gamma;
    if (gamma <= 1.0) return;
  }
}

class GuidedIG : public Method {
 public:
  GuidedIG() {
    info_.name = "guided-ig";
    info_.family = "path";
    info_.paper = "Kapishnikov et al. 2021";
    info_.cost = "steps × (1F + 1B) + 2F";  // the 2F: f(x) and f(x′) for the completeness gap
    info_.summary =
        "integrated gradients along an adaptive path that first moves the features with the smallest "
        "|gradient|, within a band around the straight line";
    info_.parameters = {
        {"steps", "200", "path steps (one gradient each)"},
        {"fraction", "0.25", "share of the features (lowest |gradient|) moved per sub-step, in (0, 1]"},
        {"max-dist", "0.02", "how far a feature's progress may lead or trail the straight line's, in [0, 1]"},
    };
    for (const Parameter& p : baseline_parameters()) info_.parameters.push_back(p);
    info_.parameters.push_back({"idgi", "false", "apply the IDGI important-direction correction"});
  }
  const MethodInfo& info() const override { return info_; }

  Explanation explain_rows(const Request& r) const override {
    r.options.check_known(info_);
    const int64_t steps = r.options.integer(info_, "steps", 1, 1 << 20);
    const double fraction = r.options.number(info_, "fraction", 0, 1);
    GL_CHECK(fraction > 0, info_.name, ": --fraction must be in (0, 1], got 0");
    const double max_dist = r.options.number(info_, "max-dist", 0, 1);
    ChunkBudget budget(r.batch);  // kept across steps
    const bool idgi = r.options.boolean(info_, "idgi");
    const Tensor& x = r.input;
    check_path_request(r, info_.name);
    const Tensor baseline = parse_baseline(info_, r);
    const int64_t N = x.dim(0), per = x.numel() / N;

    const size_t total = static_cast<size_t>(N * per);
    std::vector<double> points(total), before(total), sum(total, 0.0);
    std::vector<GuidedPath> paths(static_cast<size_t>(N));
    for (int64_t n = 0; n < N; ++n) {
      GuidedPath& path = paths[size_t(n)];
      path.input = x.data() + n * per;
      path.baseline = baseline.data() + n * per;
      path.point = points.data() + n * per;
      path.features = per;
      path.l1_total = 0;
      for (int64_t i = 0; i < per; ++i) {
        path.point[i] = double(path.baseline[i]);
        path.l1_total += std::fabs(double(path.input[i]) - double(path.baseline[i]));
      }
    }

    std::vector<float> gradient(total), previous_gradient(idgi ? total : 0);
    std::vector<double> score(static_cast<size_t>(N)), previous_score(static_cast<size_t>(N));
    // IDGI: segment k's change split by step k's squared gradient.
    auto add_segment = [&](int64_t n, double change) {
      add_idgi_segment(sum.data() + n * per, previous_gradient.data() + n * per, per, change);
    };

    ChunkStats stats;
    for (int64_t k = 0; k < steps; ++k) {
      stats.add(run_path(
          r, 1, budget,
          [&](int64_t n, int64_t, int64_t, float* row) {
            const double* p = points.data() + n * per;
            for (int64_t i = 0; i < per; ++i) row[i] = float(p[i]);
          },
          [&](int64_t n, int64_t, int64_t, const float* g, double value) {
            std::copy(g, g + per, gradient.begin() + n * per);
            score[size_t(n)] = value;
          }));
      if (idgi && k > 0)
        for (int64_t n = 0; n < N; ++n) add_segment(n, score[size_t(n)] - previous_score[size_t(n)]);
      before = points;
      parallel_for(N, [&](int64_t n) {
        guided_step(paths[size_t(n)], gradient.data() + n * per, k, steps, fraction, max_dist);
      });
      if (idgi) {
        previous_gradient = gradient;
        previous_score = score;
        continue;
      }
      for (int64_t j = 0; j < N * per; ++j)
        sum[size_t(j)] += double(gradient[size_t(j)]) * (points[size_t(j)] - before[size_t(j)]);
    }
    const std::vector<double> input_scores = example_scores(r, x);
    if (idgi)
      for (int64_t n = 0; n < N; ++n) add_segment(n, input_scores[size_t(n)] - previous_score[size_t(n)]);

    Explanation e;
    e.attribution = Tensor(x.shape());
    for (int64_t j = 0; j < N * per; ++j) e.attribution[j] = float(sum[size_t(j)]);
    report_completeness(e, input_scores, example_scores(r, baseline), stats);
    e.notes["baseline"] = r.options.text(info_, "baseline");
    if (idgi) e.notes["idgi"] = "true";
    e.forward_passes = stats.rows + 2 * N;
    e.backward_passes = stats.rows;
    return e;
  }

 private:
  MethodInfo info_;
};

GRADLENS_REGISTER_METHOD(guided_ig, GuidedIG)

}  // namespace
}  // namespace gradlens
