// Split integrated gradients (Miglani, Kokhlikyan, Alsallakh, Martin & Reblitz-Richardson 2020,
// "Investigating Saturation Effects in Integrated Gradients"): on the straight path
// γ(α) = x′ + α (x − x′) the score often reaches most of its change early and then saturates; the
// gradients of the saturated part still weigh in IG. Split IG integrates only the non-saturated
// ("left") part, up to the first point where the score has made a fraction φ of its change:
//   α* = inf { α ∈ [0, 1] : f(γ(α)) > f(x′) + φ (f(x) − f(x′)) }
//   SplitIG(x) = (x − x′) ⊙ ∫₀^{α*} ∇f(γ(α)) dα ≈ (x − x′) ⊙ α* Σ_k w_k ∇f(γ(α* t_k))
// with the quadrature rules of path.h mapped to [0, α*]; Σ SplitIG ≈ f(γ(α*)) − f(x′) (= φΔ when
// f is continuous at α*). With --right, also the saturated part (x − x′) ⊙ (1 − α*) Σ_k w_k
// ∇f(γ(α* + (1 − α*) t_k)) (extras "right"), as the authors' notebook reports both.
//
// Locating α*: f is evaluated on the grid α_j = j/steps, j = 1..steps−1 (forward only; α = 1 is
// f(x) itself); the first grid point past the threshold brackets α* in (α_{j−1}, α_j], and
// --bisections halvings of the bracket (forward only, all examples batched) leave α* = the upper
// end, a point past the threshold. The authors' notebook instead truncates the IG sum (riemann-right,
// 200 steps) before the first path point past the threshold, so its split is only known to 1/n.
// A decreasing score (f(x) < f(x′)) is split in the direction of its change: α* = inf{α : f(γ(α)) <
// f(x′) + φΔ}; Δ = 0 gives α* = 1 (plain IG). With φ = 1 the threshold is f(x) and α* = 1 unless the
// path overshoots f(x) on the grid, so split IG is then IG on the same points.
#include <cmath>
#include <cstring>

#include "attribution/method.h"
#include "attribution/path.h"
#include "engine/error.h"

namespace gradlens {

namespace {

// α* per example: where f along γ first passes f(x′) + φ (f(x) − f(x′)), bracketed on the grid
// t = j/steps (forward only) and narrowed by bisections; the score there.
struct Split {
  std::vector<double> alpha, score;
  int64_t forwards = 0;
};

Split find_split(const Request& r, const Tensor& baseline, const std::vector<double>& input_scores,
                 const std::vector<double>& baseline_scores, double phi, int64_t steps, int64_t bisections) {
  const Tensor& x = r.input;
  const int64_t N = x.dim(0);
  auto point_at = [&](int64_t n, double t, float* row) { straight_line(x, baseline, n, t, row); };
  // The threshold and the direction of the change, per example.
  std::vector<double> threshold(static_cast<size_t>(N)), direction(static_cast<size_t>(N));
  for (size_t n = 0; n < size_t(N); ++n) {
    const double change = input_scores[n] - baseline_scores[n];
    threshold[n] = baseline_scores[n] + phi * change;
    direction[n] = change > 0 ? 1.0 : change < 0 ? -1.0 : 0.0;
  }
  auto past = [&](int64_t n, double score) { return direction[size_t(n)] * (score - threshold[size_t(n)]) > 0; };

  // Bracket (lo, hi] of α* per example; hi = 1 with f(x) when no grid point is past the threshold.
  std::vector<double> lo(size_t(N), 0.0), hi(size_t(N), 1.0);
  Split out;
  out.score = input_scores;
  std::vector<double>& split_score = out.score;
  std::vector<char> crossing(size_t(N), 0);
  int64_t& forwards = out.forwards;
  if (steps > 1) {
    const auto grid = path_scores(r, steps - 1, [&](int64_t n, int64_t j, int64_t, float* row) {
      point_at(n, double(j + 1) / double(steps), row);
    });
    forwards += N * (steps - 1);
    for (int64_t n = 0; n < N; ++n)
      for (int64_t j = 0; j < steps - 1 && !crossing[size_t(n)]; ++j)
        if (direction[size_t(n)] != 0 && past(n, grid[size_t(n)][size_t(j)])) {
          crossing[size_t(n)] = 1;
          lo[size_t(n)] = double(j) / double(steps);
          hi[size_t(n)] = double(j + 1) / double(steps);
          split_score[size_t(n)] = grid[size_t(n)][size_t(j)];
        }
  }
  for (int64_t n = 0; n < N; ++n)
    if (!crossing[size_t(n)] && direction[size_t(n)] != 0 && past(n, input_scores[size_t(n)])) {
      crossing[size_t(n)] = 1;  // between the last grid point and x (φ < 1)
      lo[size_t(n)] = double(steps - 1) / double(steps);
    }
  bool any_crossing = false;
  for (char c : crossing) any_crossing = any_crossing || c;
  for (int64_t b = 0; b < bisections && any_crossing; ++b) {
    const auto mid_scores = path_scores(r, 1, [&](int64_t n, int64_t, int64_t, float* row) {
      point_at(n, crossing[size_t(n)] ? 0.5 * (lo[size_t(n)] + hi[size_t(n)]) : 1.0, row);
    });
    forwards += N;
    for (int64_t n = 0; n < N; ++n) {
      if (!crossing[size_t(n)]) continue;
      const double mid = 0.5 * (lo[size_t(n)] + hi[size_t(n)]), score = mid_scores[size_t(n)][0];
      if (past(n, score)) {
        hi[size_t(n)] = mid;
        split_score[size_t(n)] = score;
      } else {
        lo[size_t(n)] = mid;
      }
    }
  }
  out.alpha = hi;
  return out;
}

class SplitIG : public Method {
 public:
  SplitIG() {
    info_.name = "split-ig";
    info_.family = "path";
    info_.paper = "Miglani et al. 2020";
    info_.cost = "steps × (1F + 1B) (× 2 with --right) + (steps − 1 + bisections) F";
    info_.summary =
        "integrated gradients over the non-saturated part of the straight path, up to the point α* "
        "where the score has made a fraction of its change";
    info_.parameters = quadrature_parameters("gauss-legendre", "50");
    info_.parameters.push_back(
        {"split-fraction", "0.5", "φ in (0, 1]: split where f has made this fraction of f(x) − f(x′)"});
    info_.parameters.push_back(
        {"bisections", "30", "halvings of the grid bracket of α* (0: the first grid point past the threshold)"});
    info_.parameters.push_back({"right", "false", "also integrate the saturated part α > α* (extras 'right')"});
    for (const Parameter& p : baseline_parameters()) info_.parameters.push_back(p);
  }
  const MethodInfo& info() const override { return info_; }

  Explanation explain_rows(const Request& r) const override {
    r.options.check_known(info_);
    const Quadrature q = parse_quadrature(info_, r.options);
    const int64_t steps = int64_t(q.nodes.size());
    const double phi = r.options.number(info_, "split-fraction", 0, 1);
    GL_CHECK(phi > 0, info_.name, ": --split-fraction must be in (0, 1], got 0");
    const int64_t bisections = r.options.integer(info_, "bisections", 0, 60);
    const bool right = r.options.boolean(info_, "right");
    const Tensor& x = r.input;
    check_path_request(r, info_.name);
    const Tensor baseline = parse_baseline(info_, r);
    const int64_t N = x.dim(0), per = x.numel() / N;
    auto point_at = [&](int64_t n, double t, float* row) { straight_line(x, baseline, n, t, row); };

    const std::vector<double> input_scores = example_scores(r, x), baseline_scores = example_scores(r, baseline);
    const Split split = find_split(r, baseline, input_scores, baseline_scores, phi, steps, bisections);
    const std::vector<double>& split_score = split.score;
    const int64_t forwards = split.forwards;
    const std::vector<double>& alpha_star = split.alpha;

    // Left part on [0, α*] (points k < steps), right part on [α*, 1] (points k ≥ steps).
    std::vector<double> left_sum(size_t(N * per), 0.0), right_sum(right ? size_t(N * per) : 0, 0.0);
    const ChunkStats stats = run_path(
        r, right ? 2 * steps : steps,
        [&](int64_t n, int64_t k, int64_t, float* row) {
          const double a = alpha_star[size_t(n)];
          point_at(n, k < steps ? a * q.nodes[size_t(k)] : a + (1.0 - a) * q.nodes[size_t(k - steps)], row);
        },
        [&](int64_t n, int64_t k, int64_t, const float* g, double) {
          double* acc = (k < steps ? left_sum.data() : right_sum.data()) + n * per;
          const double w = q.weights[size_t(k < steps ? k : k - steps)];
          for (int64_t i = 0; i < per; ++i) acc[i] += w * double(g[i]);
        });

    Explanation e;
    e.attribution = Tensor(x.shape());
    Tensor right_part = right ? Tensor(x.shape()) : Tensor();
    for (int64_t n = 0; n < N; ++n) {
      const double a = alpha_star[size_t(n)];
      for (int64_t i = n * per; i < (n + 1) * per; ++i) {
        const double delta = double(x[i]) - double(baseline[i]);
        e.attribution[i] = float(a * left_sum[size_t(i)] * delta);
        if (right) right_part[i] = float((1.0 - a) * right_sum[size_t(i)] * delta);
      }
    }
    report_completeness(e, input_scores, baseline_scores, stats);
    // The left part explains f(γ(α*)) − f(x′), the right part f(x) − f(γ(α*)).
    std::vector<double>& gap = e.per_example["completeness_gap"];
    const std::vector<double>& total = e.per_example["attribution_sum"];
    for (size_t n = 0; n < size_t(N); ++n) gap[n] = total[n] - (split_score[n] - baseline_scores[n]);
    e.per_example["split_alpha"] = alpha_star;
    e.per_example["split_score"] = split_score;
    if (right) {
      std::vector<double> right_gap(static_cast<size_t>(N));
      for (int64_t n = 0; n < N; ++n) {
        double s = 0;
        for (int64_t i = n * per; i < (n + 1) * per; ++i) s += right_part[i];
        right_gap[size_t(n)] = s - (input_scores[size_t(n)] - split_score[size_t(n)]);
      }
      e.per_example["right_completeness_gap"] = right_gap;
      e.extras["right"] = right_part;
    }
    e.notes["rule"] = r.options.text(info_, "rule");
    e.notes["baseline"] = r.options.text(info_, "baseline");
    e.forward_passes = stats.rows + 2 * N + forwards;
    e.backward_passes = stats.rows;
    return e;
  }

 private:
  MethodInfo info_;
};

GRADLENS_REGISTER_METHOD(split_ig, SplitIG)

}  // namespace
}  // namespace gradlens
