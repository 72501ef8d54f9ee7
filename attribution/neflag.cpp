// NeFLAG, negative flux aggregation (Li, Pan, Li, Qiang & Zhu, IJCAI 2023). F = ∇f is the gradient
// field of the explained score; on the sphere S(x, ε) with outward unit normal n̂ the flux density
// F·n̂ is negative where F points into the ball (f rises toward x). By the divergence theorem the
// flux through S is the divergence inside; NeFLAG splits the flux over the features (F·n̂ =
// Σ_i F_i n̂_i) and aggregates the split over the negative-flux part S⁻ of the sphere:
//   A(x) = −(1/M) Σ_{m=1..M} F(x̃_m) ⊙ n̂_m,   x̃_m ∈ S⁻,  n̂_m = (x̃_m − x) / ‖x̃_m − x‖,
// so Σ_i A_i = −(mean negative flux) > 0 (the sign makes the inflow positive).
// Finding negative-flux points: normalised gradient descent from x, as in AGI (Pan, Li & Zhu 2021,
// the same group). Sample s starts at x + ρ ε u_s (u_s a unit direction: N(0, I) normalised, drawn
// from --seed example by example, or given by --draws), takes K steps x̃ ← x̃ − (ε/K) F/‖F‖ and is
// projected radially onto the sphere, x̃ = x + ε (x̃ − x)/‖x̃ − x‖. Going down the slope makes the
// outward normal point down the slope, so the flux there is negative unless f curves upward
// strongly within ε; samples whose flux is not negative are dropped (their number is reported).
// Linear f = w·x + b: F = w, n̂_s = (ρ u_s − ŵ)/‖ρ u_s − ŵ‖ (flux < 0 for ρ < 1) and
// A = −w ⊙ mean_s n̂_s, which tends to w ⊙ ŵ · c = c w²/‖w‖ as the directions spread.
// Batched: each of the K + 1 gradient evaluations runs all samples of all examples as rows of
// one streamed pass (path.h); results do not depend on the thread count.
#include <cmath>
#include <cstring>

#include "attribution/method.h"
#include "attribution/path.h"
#include "engine/error.h"
#include "engine/random.h"
#include "io/npy.h"

namespace gradlens {

namespace {

// Start directions u[n][s], unit vectors in double: --draws, or S normal draws from --seed.
std::vector<double> start_directions(const MethodInfo& info, const Request& r, int64_t& S) {
  const Tensor& x = r.input;
  const int64_t N = x.dim(0), per = x.numel() / N;
  S = 0;
  std::vector<double> u;
  const std::string draws_file = r.options.text(info, "draws");
  if (!draws_file.empty()) {
    const Tensor d = read_npy(draws_file);
    bool fits = d.rank() == x.rank() + 1 && d.dim(0) == N && d.dim(1) >= 1;
    for (int i = 1; fits && i < x.rank(); ++i) fits = d.dim(i + 1) == x.dim(i);
    GL_CHECK(fits, draws_file, ": start directions of shape ", d.shape().str(), " must be [N, S, ...] with N = ", N,
             " and the example shape of the input ", x.shape().str());
    S = d.dim(1);
    u.assign(d.data(), d.data() + d.numel());
  } else {
    S = r.options.integer(info, "samples", 1, 1 << 20);
    Tensor d(Shape{N, S, per});
    Rng rng(uint64_t(r.options.integer(info, "seed", 0, INT64_MAX)));
    rng.fill_normal(d, 0.f, 1.f);
    u.assign(d.data(), d.data() + d.numel());
  }
  for (int64_t m = 0; m < N * S; ++m) {
    double* um = u.data() + m * per;
    double norm2 = 0;
    for (int64_t i = 0; i < per; ++i) norm2 += um[i] * um[i];
    GL_CHECK(norm2 > 0 && std::isfinite(norm2), draws_file.empty() ? std::string("neflag") : draws_file,
             ": start direction ", m % S, " of example ", m / S, " is zero or not finite");
    const double inv = 1.0 / std::sqrt(norm2);
    for (int64_t i = 0; i < per; ++i) um[i] *= inv;
  }
  return u;
}

// Radial projection onto the sphere |x̃ − x| = ε: returns the normals n̂ = (x̃ − x)/ε. A point still
// at x (zero gradients and ρ = 0) takes its start direction.
std::vector<double> project_to_sphere(const Tensor& x, int64_t S, double radius, const std::vector<double>& u,
                                      std::vector<double>& point) {
  const int64_t N = x.dim(0), per = x.numel() / N;
  std::vector<double> normal(size_t(N * S * per));
  for (int64_t m = 0; m < N * S; ++m) {
    const float* xn = x.data() + (m / S) * per;
    double* p = point.data() + m * per;
    double* nm = normal.data() + m * per;
    double norm2 = 0;
    for (int64_t i = 0; i < per; ++i) norm2 += (p[i] - double(xn[i])) * (p[i] - double(xn[i]));
    const double norm = std::sqrt(norm2);
    for (int64_t i = 0; i < per; ++i) {
      nm[i] = norm > 0 ? (p[i] - double(xn[i])) / norm : u[size_t(m * per + i)];
      p[i] = double(xn[i]) + radius * nm[i];
    }
  }
  return normal;
}

// The samples' points x̃ (in double; rows are handed to the model in float).
struct SpherePoints {
  int64_t S = 0, per = 0;
  std::vector<double> point;  // [N·S·per]
  PathFill fill() const {
    return [this](int64_t n, int64_t s, int64_t, float* row) {
      const double* p = point.data() + (n * S + s) * per;
      for (int64_t i = 0; i < per; ++i) row[i] = float(p[i]);
    };
  }
};

// K normalised gradient-descent steps x̃ ← x̃ − (ε/K) F/‖F‖, one path pass each; returns the
// steps skipped for a zero gradient.
int64_t descend(const Request& r, SpherePoints& pts, int64_t K, double radius, ChunkBudget& budget, ChunkStats& stats) {
  const int64_t S = pts.S, per = pts.per;
  const double step = radius / double(std::max<int64_t>(K, 1));
  int64_t stalled = 0;
  for (int64_t k = 0; k < K; ++k)
    stats.add(run_path(r, S, budget, pts.fill(), [&](int64_t n, int64_t s, int64_t, const float* g, double) {
      double norm2 = 0;
      for (int64_t i = 0; i < per; ++i) norm2 += double(g[i]) * double(g[i]);
      if (norm2 == 0) {
        ++stalled;
        return;
      }
      const double scale = step / std::sqrt(norm2);
      double* p = pts.point.data() + (n * S + s) * per;
      for (int64_t i = 0; i < per; ++i) p[i] -= scale * double(g[i]);
    }));
  return stalled;
}

// The flux F·n̂ at every sphere point, and per example the sums over the negative-flux points of
// F ⊙ n̂ and of F·n̂ and their number.
struct NegativeFlux {
  Tensor flux;  // [N, S]
  std::vector<double> sum, flux_sum, accepted;
};
NegativeFlux negative_flux(const Request& r, const SpherePoints& pts, const std::vector<double>& normal,
                           ChunkBudget& budget, ChunkStats& stats) {
  const int64_t N = r.input.dim(0), S = pts.S, per = pts.per;
  NegativeFlux f;
  f.flux = Tensor(Shape{N, S});
  f.sum.assign(size_t(N * per), 0.0);
  f.flux_sum.assign(size_t(N), 0.0);
  f.accepted.assign(size_t(N), 0.0);
  stats.add(run_path(r, S, budget, pts.fill(), [&](int64_t n, int64_t s, int64_t, const float* g, double) {
    const double* nm = normal.data() + (n * S + s) * per;
    double phi = 0;
    for (int64_t i = 0; i < per; ++i) phi += double(g[i]) * nm[i];
    f.flux[n * S + s] = float(phi);
    if (!(phi < 0)) return;
    double* acc = f.sum.data() + n * per;
    for (int64_t i = 0; i < per; ++i) acc[i] += double(g[i]) * nm[i];
    f.flux_sum[size_t(n)] += phi;
    f.accepted[size_t(n)] += 1;
  }));
  return f;
}

class NegativeFluxAggregation : public Method {
 public:
  NegativeFluxAggregation() {
    info_.name = "neflag";
    info_.family = "path";
    info_.paper = "Li et al. 2023";
    info_.cost = "samples × (descent-steps + 1) × (1F + 1B)";
    info_.summary = "−mean of ∇f ⊙ n̂ over negative-flux points of the sphere |x̃ − x| = ε found by gradient descent";
    info_.parameters = {
        {"samples", "10", "negative-flux points sought per example"},
        {"radius", "1", "ε, the L2 radius of the sphere around x, in input units"},
        {"descent-steps", "10", "normalised gradient-descent steps of length ε/steps from the start to the sphere"},
        {"start", "0.5", "ρ in [0, 1]: each descent starts at x + ρ ε u with u a random unit direction"},
        {"seed", "0", "random seed of the start directions"},
        {"draws", "", "FILE.npy [N, S, ...] of start directions (normalised here); overrides samples and seed"},
        {"keep-points", "false", "also return the sphere points as the extra 'points' [N, S, ...]"},
    };
  }
  const MethodInfo& info() const override { return info_; }

  Explanation explain_rows(const Request& r) const override {
    r.options.check_known(info_);
    const Tensor& x = r.input;
    GL_CHECK(x.rank() >= 2 && x.dim(0) > 0 && x.rank() < kMaxRank, info_.name, ": input must be [N, ...], got ",
             x.shape().str());
    const int64_t N = x.dim(0), per = x.numel() / N;
    const double radius = r.options.number(info_, "radius", 0, 1e30);
    GL_CHECK(radius > 0, info_.name, ": --radius must be positive");
    const int64_t K = r.options.integer(info_, "descent-steps", 0, 1 << 16);
    const double rho = r.options.number(info_, "start", 0, 1);
    GL_CHECK(K > 0 || rho > 0, info_.name, ": --descent-steps 0 needs --start > 0 (the start is then the sphere point)");
    ChunkBudget budget(r.batch);  // kept across passes
    const bool keep_points = r.options.boolean(info_, "keep-points");

    int64_t S = 0;
    const std::vector<double> u = start_directions(info_, r, S);

    SpherePoints pts;
    pts.S = S, pts.per = per;
    pts.point.resize(size_t(N * S * per));
    for (int64_t m = 0; m < N * S; ++m)
      for (int64_t i = 0; i < per; ++i)
        pts.point[size_t(m * per + i)] = double(x[(m / S) * per + i]) + rho * radius * u[size_t(m * per + i)];
    ChunkStats stats;
    const int64_t stalled = descend(r, pts, K, radius, budget, stats);
    const std::vector<double> normal = project_to_sphere(x, S, radius, u, pts.point);
    const NegativeFlux f = negative_flux(r, pts, normal, budget, stats);

    Explanation e;
    e.attribution = Tensor(x.shape());
    std::vector<double> total(size_t(N), 0.0), mean_flux(size_t(N), 0.0);
    int64_t empty = 0;
    for (int64_t n = 0; n < N; ++n) {
      const double M = f.accepted[size_t(n)];
      if (M == 0) {
        ++empty;
        continue;
      }
      for (int64_t i = 0; i < per; ++i) e.attribution[n * per + i] = float(-f.sum[size_t(n * per + i)] / M);
      mean_flux[size_t(n)] = f.flux_sum[size_t(n)] / M;
      for (int64_t i = 0; i < per; ++i) total[size_t(n)] += e.attribution[n * per + i];
    }
    e.scores = example_scores(r, x);
    e.per_example["input_score"] = e.scores;
    e.per_example["negative_flux_points"] = f.accepted;
    e.per_example["mean_negative_flux"] = mean_flux;
    e.per_example["attribution_sum"] = total;
    e.extras["flux"] = f.flux;
    if (keep_points) {
      std::vector<int64_t> dims = {N, S};
      for (int i = 1; i < x.rank(); ++i) dims.push_back(x.dim(i));
      Tensor points{Shape(dims)};
      for (int64_t j = 0; j < N * S * per; ++j) points[j] = float(pts.point[size_t(j)]);
      e.extras["points"] = points;
    }
    e.notes["samples"] = std::to_string(S);
    report_chunks(e, stats);
    if (stalled > 0) e.notes["zero_gradient_steps"] = std::to_string(stalled);
    if (empty > 0) e.notes["examples_without_negative_flux"] = std::to_string(empty);
    e.forward_passes = stats.rows + N;
    e.backward_passes = stats.rows;
    return e;
  }

 private:
  MethodInfo info_;
};

GRADLENS_REGISTER_METHOD(neflag, NegativeFluxAggregation)

}  // namespace
}  // namespace gradlens
