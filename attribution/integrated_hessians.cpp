// Integrated Hessians (Janizek, Sturmfels & Lee 2021, "Explaining Explanations: Axiomatic Feature
// Interactions for Deep Networks", JMLR 22): the interaction of features i and j is integrated
// gradients applied to integrated gradients. With Δ = x − x′ and γ(s) = x′ + sΔ:
//   Γ_ij = Δ_i Δ_j ∫₀¹∫₀¹ αβ ∂²f(γ(αβ))/∂x_i∂x_j dα dβ                          (i ≠ j)
//   Γ_ii = the same  +  Δ_i ∫₀¹∫₀¹ ∂f(γ(αβ))/∂x_i dα dβ
// Both integrands depend on (α, β) only through t = αβ, and ∫∫ h(αβ) dα dβ = ∫₀¹ −ln t · h(t) dt,
// so with the Gauss rule for the weight −ln t (path.h, gauss_log_quadrature: nodes t_k, weights
// w_k, exact for polynomials of degree ≤ 2n − 1):
//   Γ_ij ≈ Δ_i Δ_j Σ_k w_k t_k H_ij(γ(t_k))  +  δ_ij Δ_i Σ_k w_k g_i(γ(t_k))
// (rule gauss-log). The product rule (gauss-legendre-product) puts Gauss–Legendre nodes on α and
// on β separately, steps² points with weights W_a W_b at t = α_a β_b, as a cross-check.
// Completeness of interactions: Σ_j Γ_ij = IG_i, because Σ_j H_ij Δ_j = d g_i(γ(t))/dt and
// ∫₀¹ −ln t (t g_i)' dt = ∫₀¹ g_i dt; hence Σ_ij Γ_ij = f(x) − f(x′) up to quadrature error,
// reported per example as completeness_gap (when every row is computed).
//
// The Hessian rows come exactly from the engine (HessianVector in engine/hessian.h, forward-over-reverse), not
// from differences of gradients: every (example, node, selected feature i) is one row of a batch
// whose tangent is e_i, so a chunk of rows is one forward, one backward, one tangent sweep and
// one tangent backward, and row r's ġ is H e_i at its point. Rows run in chunks of --batch rows
// (as many as the run's --max-memory allows after a one-row probe), and sums are taken in row order, so
// the result does not depend on the chunking or the thread count.
//
// ReLU networks have a zero Hessian almost everywhere; --softplus-beta β > 0 evaluates the model
// with every ReLU replaced by softplus(x; β) = ln(1 + e^(βx))/β (as the paper does), for the
// scores f(x), f(x′) too.
//
// Output: attribution [N, d_sel, d] (not input-shaped): row r is feature features[r] (flat index
// into one example), column j any feature.
#include <algorithm>
#include <cmath>
#include <cstring>
#include <sstream>

#include "attribution/gradients.h"
#include "attribution/method.h"
#include "attribution/path.h"
#include "engine/enum_table.h"
#include "engine/error.h"
#include "engine/hessian.h"
#include "engine/number_text.h"
#include "engine/smooth_rectifiers.h"

namespace gradlens {

namespace {

// The wrapped function with every unbounded rectifier recorded as softplus(x; β).
class ReluAsSoftplus : public Function {
 public:
  ReluAsSoftplus(const Function& inner, float beta) : inner_(inner), beta_(beta) {}
  std::vector<Var> scores_and(Tape& tape, Var x, const std::vector<std::string>& names) const override {
    const SmoothRectifiers smooth(beta_);
    return inner_.scores_and(tape, x, names);
  }
  const Model* model() const override { return inner_.model(); }

 private:
  const Function& inner_;
  float beta_;
};

// A point t of the double integral and the weights of its Hessian and gradient terms.
struct InteractionNode {
  double t, hessian_weight, gradient_weight;
};

enum class InteractionRule { gauss_log, gauss_legendre_product };
const EnumName<InteractionRule> kInteractionRules[] = {{"gauss-log", InteractionRule::gauss_log},
                                                       {"gauss-legendre-product", InteractionRule::gauss_legendre_product}};

std::vector<InteractionNode> interaction_nodes(const std::string& rule_name, int64_t steps) {
  const InteractionRule* rule = enum_find(kInteractionRules, rule_name);
  GL_CHECK(rule, "integrated-hessians: unknown --rule '", rule_name, "' (expected ", enum_choices(kInteractionRules), ")");
  std::vector<InteractionNode> nodes;
  if (*rule == InteractionRule::gauss_log) {
    const Quadrature q = gauss_log_quadrature(steps);
    for (size_t k = 0; k < q.nodes.size(); ++k)
      nodes.push_back({q.nodes[k], q.weights[k] * q.nodes[k], q.weights[k]});
    return nodes;
  }
  const Quadrature q = quadrature(QuadratureRule::gauss_legendre, steps);
  for (size_t a = 0; a < q.nodes.size(); ++a)
    for (size_t b = 0; b < q.nodes.size(); ++b) {
      const double t = q.nodes[a] * q.nodes[b], w = q.weights[a] * q.weights[b];
      nodes.push_back({t, w * t, w});
    }
  return nodes;
}

// "all", or a comma list of flat indices and ranges "a-b" (inclusive), each in [0, d), no repeats.
std::vector<int64_t> parse_features(const std::string& text, int64_t d) {
  std::vector<int64_t> out;
  if (text == "all") {
    for (int64_t i = 0; i < d; ++i) out.push_back(i);
    return out;
  }
  auto number = [&](const std::string& s) {
    int64_t v = 0;
    GL_CHECK(s.find_first_not_of("0123456789") == std::string::npos && parse_integer(s, v),
             "--features: '", s, "' is not a feature index (expected all, or e.g. 0,3,5-9)");
    GL_CHECK(v < d, "--features: index ", v, " is out of range for ", d, " features per example");
    return v;
  };
  std::vector<bool> seen(size_t(d), false);
  std::stringstream list(text);
  std::string item;
  while (std::getline(list, item, ',')) {
    const size_t dash = item.find('-');
    const int64_t lo = number(item.substr(0, dash));
    const int64_t hi = dash == std::string::npos ? lo : number(item.substr(dash + 1));
    GL_CHECK(lo <= hi, "--features: range '", item, "' is empty");
    for (int64_t i = lo; i <= hi; ++i) {
      GL_CHECK(!seen[size_t(i)], "--features: index ", i, " is listed twice");
      seen[size_t(i)] = true;
      out.push_back(i);
    }
  }
  GL_CHECK(!out.empty(), "--features: no feature selected");
  return out;
}

// Γ_ij = Δ_i Δ_j Σ_k w_k t_k H_ij + δ_ij Δ_i Σ_k w_k g_i, Δ = x − x′, into `gamma` [N, d_sel, d];
// returns Σ_ij Γ_ij per example.
std::vector<double> interactions(const Tensor& x, const Tensor& baseline, const std::vector<int64_t>& features,
                                 const std::vector<double>& hessian_sum, const std::vector<double>& gradient_sum,
                                 Tensor& gamma) {
  const int64_t N = x.dim(0), d = x.numel() / N, rows_per_point = int64_t(features.size());
  gamma = Tensor(Shape{N, rows_per_point, d});
  std::vector<double> totals(size_t(N), 0.0);
  for (int64_t n = 0; n < N; ++n) {
    const float* xn = x.data() + n * d;
    const float* bn = baseline.data() + n * d;
    for (int64_t i = 0; i < rows_per_point; ++i) {
      const int64_t fi = features[size_t(i)];
      const double di = double(xn[fi]) - double(bn[fi]);
      const size_t row = size_t(n * rows_per_point + i);
      for (int64_t j = 0; j < d; ++j) {
        double v = di * (double(xn[j]) - double(bn[j])) * hessian_sum[row * size_t(d) + size_t(j)];
        if (j == fi) v += di * gradient_sum[row];
        gamma[int64_t(row) * d + j] = float(v);
        totals[size_t(n)] += v;
      }
    }
  }
  return totals;
}

// The Hessian and gradient sums of the interactions. Pass row
// q = (n · points + p) · rows_per_point + i is node p of example n with tangent e_{features[i]};
// its chunk runs one forward, one backward, one tangent sweep and one tangent backward.
struct PathHessians {
  std::vector<double> hessian;   // [N, d_sel, d]: Σ_k w_k t_k H(γ(t_k)) e_i
  std::vector<double> gradient;  // [N, d_sel]: Σ_k w_k g_i(γ(t_k))
  ChunkStats stats;
  int64_t rows = 0;  // M = N · points · d_sel
};
PathHessians path_hessians(const std::string& method, const Request& r, const Tensor& baseline,
                           const std::vector<int64_t>& features, const std::vector<InteractionNode>& nodes) {
  const Tensor& x = r.input;
  const int64_t N = x.dim(0), d = x.numel() / N;
  const int64_t rows_per_point = int64_t(features.size()), points = int64_t(nodes.size());
  PathHessians out;
  std::vector<double>& hessian_sum = out.hessian;
  std::vector<double>& gradient_sum = out.gradient;
  hessian_sum.assign(size_t(N * rows_per_point * d), 0.0);
  gradient_sum.assign(size_t(N * rows_per_point), 0.0);
  const int64_t M = N * points * rows_per_point;
  out.rows = M;
  auto example_of = [&](int64_t q) { return q / (points * rows_per_point); };
  auto node_of = [&](int64_t q) { return (q / rows_per_point) % points; };
  ChunkBudget budget(r.batch);
  Shape chunk_shape = x.shape();
  chunk_shape[0] = std::min(M, r.batch);
  Tensor points_buffer(chunk_shape), directions_buffer(chunk_shape), V;
  out.stats = run_chunks(
      *r.function, M, budget,
      [&](int64_t begin, int64_t k) {
        V = rows(directions_buffer, 0, k);
        V.fill(0.f);
        for (int64_t s = 0; s < k; ++s) {
          const int64_t q = begin + s;
          straight_line(x, baseline, example_of(q), nodes[size_t(node_of(q))].t, points_buffer.data() + s * d);
          V[s * d + features[size_t(q % rows_per_point)]] = 1.f;
        }
        return rows(points_buffer, 0, k);
      },
      {class_seed(r.targets, r.contrast, points * rows_per_point)}, ChunkTaps(),
      [&](const Chunk& c, int) {
        Tensor hv;
        try {
          hv = HessianVector(*c.tape, c.scores, c.input, V).grad_tangent(c.input);
        } catch (const Error& e) {
          fail(method, ": ", e.what());
        }
        const Tensor& g = c.tape->grad_view(c.input);
        for (int64_t s = 0; s < c.rows; ++s) {
          const int64_t q = c.begin + s, n = example_of(q), i = q % rows_per_point;
          const InteractionNode& node = nodes[size_t(node_of(q))];
          double* acc = hessian_sum.data() + (n * rows_per_point + i) * d;
          const float* h = hv.data() + s * d;
          for (int64_t j = 0; j < d; ++j) acc[j] += node.hessian_weight * double(h[j]);
          if (!g.empty())
            gradient_sum[size_t(n * rows_per_point + i)] += node.gradient_weight * double(g[s * d + features[size_t(i)]]);
        }
      });

  return out;
}

class IntegratedHessians : public Method {
 public:
  IntegratedHessians() {
    info_.name = "integrated-hessians";
    info_.family = "path";  // sorts after the IG methods, whose flag help stays theirs
    info_.paper = "Janizek et al. 2021";
    info_.cost = "steps × d_sel × (2F + 2B)";
    info_.summary = "feature interactions Γ_ij (IG of IG) from exact Hessian-vector products; [N, d_sel, d]";
    info_.output = "interaction matrix [N,d_sel,d]";
    info_.parameters = {
        {"steps", "16", "quadrature nodes in t = αβ (gauss-log), or per axis (gauss-legendre-product: steps² points)"},
        {"rule", "gauss-log", enum_choices(kInteractionRules, "|", "|")},
    };
    for (const Parameter& p : baseline_parameters()) info_.parameters.push_back(p);
    info_.parameters.insert(info_.parameters.end(), {
        {"features", "all", "rows of the matrix: all, or flat feature indices, e.g. 0,3,5-9"},
        {"softplus-beta", "0", "β > 0: replace every ReLU by softplus(x; β) = ln(1 + e^(βx))/β (0: off)"},
    });
  }
  const MethodInfo& info() const override { return info_; }

  Explanation explain_rows(const Request& request) const override {
    const Options& o = request.options;
    o.check_known(info_);
    const int64_t steps = o.integer(info_, "steps", 1, 200);
    const std::string rule = o.text(info_, "rule");
    const double beta = o.number(info_, "softplus-beta", 0, 1e6);
    check_path_request(request, info_.name);

    const ReluAsSoftplus smoothed(*request.function, float(beta));
    Request r = request;
    if (beta > 0) r.function = &smoothed;
    const Tensor& x = r.input;
    const int64_t N = x.dim(0), d = x.numel() / N;
    const std::vector<int64_t> features = parse_features(o.text(info_, "features"), d);
    const int64_t rows_per_point = int64_t(features.size());
    GL_CHECK(N * rows_per_point * d <= kMaxTensorElements, info_.name, ": the output [", N, ", ",
             rows_per_point, ", ", d, "] is too large; select rows with --features");
    const std::vector<InteractionNode> nodes = interaction_nodes(rule, steps);
    const Tensor baseline = parse_baseline(info_, r);

    const PathHessians sums = path_hessians(info_.name, r, baseline, features, nodes);
    const ChunkStats& stats = sums.stats;
    const int64_t M = sums.rows;

    Explanation e;
    const std::vector<double> totals = interactions(x, baseline, features, sums.hessian, sums.gradient, e.attribution);
    const std::vector<double> input_scores = example_scores(r, x), baseline_scores = example_scores(r, baseline);
    e.scores = input_scores;
    e.per_example["input_score"] = input_scores;
    e.per_example["baseline_score"] = baseline_scores;
    e.per_example["interaction_sum"] = totals;
    if (rows_per_point == d) {
      std::vector<double> gap(static_cast<size_t>(N));
      for (int64_t n = 0; n < N; ++n)
        gap[size_t(n)] = totals[size_t(n)] - (input_scores[size_t(n)] - baseline_scores[size_t(n)]);
      e.per_example["completeness_gap"] = gap;
    }
    e.notes["rule"] = rule;
    e.notes["baseline"] = o.text(info_, "baseline");
    e.notes["features"] = o.text(info_, "features");
    e.notes["softplus_beta"] = o.text(info_, "softplus-beta");
    e.notes["output"] = "[N, d_sel, d]: row r is flat feature features[r], column j feature j";
    report_chunks(e, stats);
    e.forward_passes = 2 * M + 2 * N;  // forward and tangent sweep per row, f(x) and f(x′)
    e.backward_passes = 2 * M;         // backward and tangent backward per row
    return e;
  }

 private:
  MethodInfo info_;
};

}  // namespace

GRADLENS_REGISTER_METHOD(integrated_hessians, IntegratedHessians)

}  // namespace gradlens
