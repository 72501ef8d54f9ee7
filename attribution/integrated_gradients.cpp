// Integrated gradients on the straight path γ(t) = x′ + t (x − x′) (Sundararajan et al. 2017):
//   IG(x) = (x − x′) ⊙ ∫₀¹ ∇f(γ(t)) dt  ≈  (x − x′) ⊙ Σ_k w_k ∇f(γ(t_k))
// with the quadrature rules of path.h. Completeness: Σ IG = f(x) − f(x′) up to the quadrature
// error, reported per example as completeness_gap.
//
// IDGI, important-direction gradient integration (Yang et al. 2023): on each segment of the path
// only the gradient direction changes f, so segment k's change d_k = f(γ(b_{k+1})) − f(γ(b_k)) is
// split over the features in proportion to the squared gradient there:
//   IDGI(x) = Σ_k d_k ∇f(γ(t_k))² / ‖∇f(γ(t_k))‖²
// Segment k is the cell of node t_k: boundaries b_0 = 0, b_{k+1} = b_k + w_k (so b_n = 1). For the
// left Riemann rule this is the paper's (gradient at each segment's start); for Gauss–Legendre the
// nodes lie inside their cells (Chebyshev–Markov–Stieltjes separation). Σ d_k telescopes to
// f(x) − f(x′), so IDGI is complete up to rounding (a segment whose gradient is exactly zero
// contributes nothing). Costs n + 1 extra forwards for the boundary scores.
//
// --rule exact (piecewise-linear networks, linear_pieces.h): t ↦ ∇f(γ(t)) is constant on each
// linear piece [b_k, b_{k+1}] of the path, so with m_k the middle of piece k
//   IG(x) = (x − x′) ⊙ Σ_k (b_{k+1} − b_k) ∇f(γ(m_k))
// exactly: a quadrature whose nodes are the midpoints and whose weights are the piece lengths, run
// through the same path streaming as the other rules, per example (each has its own pieces).
#include <cmath>
#include <cstring>

#include "attribution/gradients.h"
#include "attribution/linear_pieces.h"
#include "attribution/method.h"
#include "attribution/path.h"
#include "engine/error.h"

namespace gradlens {

namespace {

const char* const kExactRule = "exact";

std::vector<Parameter> ig_parameters(const std::string& default_rule, bool integrated_gradients) {
  std::vector<Parameter> p = quadrature_parameters(default_rule, "50");
  for (const Parameter& q : baseline_parameters()) p.push_back(q);
  if (integrated_gradients) {
    for (Parameter& q : p)
      if (q.name == "rule") q.help += std::string("|") + kExactRule + " (piecewise-linear networks; --steps unused)";
    p.push_back({"max-segments", "100000", "with --rule exact: most linear segments along a path before it stops"});
    p.push_back({"idgi", "false", "apply the IDGI important-direction correction"});
  }
  return p;
}

// Σ_k d_k g_k² / ‖g_k‖² (IDGI) or Σ_k w_k g_k (IG) along γ(t) = x′ + t (x − x′).
class IntegratedGradients : public Method {
 public:
  explicit IntegratedGradients(bool always_idgi) : always_idgi_(always_idgi) {
    if (always_idgi) {
      info_.name = "idgi";
      info_.paper = "Yang et al. 2023";
      info_.cost = "steps × (1F + 1B) + (steps + 3) F";
      info_.summary = "integrated gradients with the important-direction correction (complete by construction)";
      info_.parameters = ig_parameters("riemann-left", false);
    } else {
      info_.name = "integrated-gradients";
      info_.paper = "Sundararajan et al. 2017";
      info_.cost = "steps × (1F + 1B) + 2F";  // the 2F: f(x) and f(x′) for the completeness gap
      info_.summary = "(x − x′) ⊙ ∫ ∇f along the straight path from a baseline";
      info_.parameters = ig_parameters("gauss-legendre", true);
    }
    info_.family = "path";
  }
  const MethodInfo& info() const override { return info_; }

  Explanation explain_rows(const Request& r) const override {
    r.options.check_known(info_);
    if (!always_idgi_ && r.options.text(info_, "rule") == kExactRule) return explain_exact(r);
    const Quadrature q = parse_quadrature(info_, r.options);
    const Tensor& x = r.input;
    check_path_request(r, info_.name);
    const Tensor baseline = parse_baseline(info_, r);
    ChunkBudget budget(r.batch);
    const bool idgi = always_idgi_ || r.options.boolean(info_, "idgi");
    const int64_t N = x.dim(0), per = x.numel() / N, steps = int64_t(q.nodes.size());

    Explanation e;
    e.attribution = Tensor(x.shape());
    ChunkStats stats;
    if (!idgi) {  // IG = (x − x′) ⊙ Σ_k w_k ∇f(γ(t_k))
      const std::vector<double> sum = straight_path_integral(r, baseline, q, budget, stats);
      for (int64_t j = 0; j < N * per; ++j) e.attribution[j] = float(sum[size_t(j)] * (double(x[j]) - double(baseline[j])));
    } else {  // IDGI = Σ_k d_k g_k² / ‖g_k‖², d_k the score change over node k's cell
      const std::vector<double> boundaries = idgi_boundaries(q);
      const auto boundary_scores = path_scores(r, steps + 1, [&](int64_t n, int64_t k, int64_t, float* row) {
        straight_line(x, baseline, n, boundaries[size_t(k)], row);
      });
      std::vector<double> sum(size_t(N * per), 0.0);
      stats = run_path(
          r, steps, budget,
          [&](int64_t n, int64_t k, int64_t, float* row) { straight_line(x, baseline, n, q.nodes[size_t(k)], row); },
          [&](int64_t n, int64_t k, int64_t, const float* g, double) {
            const std::vector<double>& f = boundary_scores[size_t(n)];
            add_idgi_segment(sum.data() + n * per, g, per, f[size_t(k + 1)] - f[size_t(k)]);
          });
      for (int64_t j = 0; j < N * per; ++j) e.attribution[j] = float(sum[size_t(j)]);
      e.notes["idgi"] = "true";
    }
    report_completeness(e, example_scores(r, x), example_scores(r, baseline), stats);
    e.notes["rule"] = r.options.text(info_, "rule");
    e.notes["baseline"] = r.options.text(info_, "baseline");
    e.forward_passes = stats.rows + 2 * N + (idgi ? N * (steps + 1) : 0);
    e.backward_passes = stats.rows;
    return e;
  }

 private:
  // IG = (x − x′) ⊙ Σ_k (b_{k+1} − b_k) ∇f(γ(m_k)) over the linear pieces of each example's path.
  Explanation explain_exact(const Request& r) const {
    check_path_request(r, info_.name);
    GL_CHECK(!r.options.boolean(info_, "idgi"), info_.name, ": --idgi applies to the quadrature rules, not --rule ",
             kExactRule);
    const int64_t max_segments = r.options.integer(info_, "max-segments", 1, int64_t(1) << 40);
    const Tensor& x = r.input;
    const Tensor baseline = parse_baseline(info_, r);
    ChunkBudget budget(r.batch);
    const int64_t N = x.dim(0), per = x.numel() / N;

    Explanation e;
    e.attribution = Tensor(x.shape());
    ChunkStats stats;
    std::vector<double> segments, probes;
    for (int64_t n = 0; n < N; ++n) {
      Request one = r;
      one.input = rows(x, n, n + 1).clone();
      one.targets = {r.targets[size_t(n)]};
      if (!r.contrast.empty()) one.contrast = {r.contrast[size_t(n)]};
      const Tensor b = rows(baseline, n, n + 1).clone();
      const LinearPieces pieces = straight_path_pieces(*r.function, one.input, b, max_segments,
                                                       info_.name + " --rule exact", "--max-segments");
      Quadrature q;
      q.nodes = pieces.midpoints;
      for (size_t k = 0; k < q.nodes.size(); ++k) q.weights.push_back(pieces.boundaries[k + 1] - pieces.boundaries[k]);
      ChunkStats example_stats;
      const std::vector<double> sum = straight_path_integral(one, b, q, budget, example_stats);
      stats.add(example_stats);
      for (int64_t j = 0; j < per; ++j)
        e.attribution[n * per + j] = float(sum[size_t(j)] * (double(x[n * per + j]) - double(baseline[n * per + j])));
      segments.push_back(double(pieces.segments()));
      probes.push_back(double(pieces.probes));
    }
    report_completeness(e, example_scores(r, x), example_scores(r, baseline), stats);
    e.per_example["segments"] = segments;
    e.notes["rule"] = kExactRule;
    e.notes["baseline"] = r.options.text(info_, "baseline");
    int64_t total_probes = 0;
    for (double p : probes) total_probes += int64_t(p);
    e.notes["probes"] = std::to_string(total_probes);
    e.forward_passes = stats.rows + 2 * N + total_probes;
    e.backward_passes = stats.rows;
    return e;
  }

  bool always_idgi_;
  MethodInfo info_;
};

const bool registered = [] {
  register_method(std::make_unique<IntegratedGradients>(false));
  register_method(std::make_unique<IntegratedGradients>(true));
  return true;
}();

}  // namespace
}  // namespace gradlens
