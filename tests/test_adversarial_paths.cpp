// The search-based path methods agi (Pan, Li & Zhu 2021) and big (Wang, Fredrikson & Datta 2022):
// closed forms on linear models (each AGI step contributes −w_t·Δx; BIG's boundary point lies on
// the ray to the closest boundary point and BIG = (x − x′) ⊙ w), the invariants the papers state
// (trajectories end adversarial, x′ flips the class and is closer than random directions' flips,
// completeness from x′), determinism for a seed and any --batch or thread count, and the PyTorch
// references of tools/make_path_references.py on the mlp fixture.
#include <omp.h>
#include <sys/wait.h>

#include <cmath>
#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iomanip>
#include <limits>
#include <sstream>

#include "attribution/adversarial.h"
#include "attribution/gradients.h"
#include "attribution/method.h"
#include "engine/error.h"
#include "engine/ops.h"
#include "engine/random.h"
#include "io/npy.h"
#include "io/onnx.h"
#include "layers/model.h"
#include "scratch_dir.h"
#include "method_testing.h"
#include "support.h"

using namespace gradlens;
using gradlens::test::bitwise_equal;
using gradlens::test::random_tensor;
using gradlens::test::rel_l2;
using gradlens::test::request;
using gradlens::test::explain;
using gradlens::test::fixture;
using gradlens::test::fixture_targets;
namespace fs = std::filesystem;

namespace {

// Numbers as text to full double precision ("a,b,c").
std::string numbers_text(const std::vector<double>& v) {
  std::ostringstream out;
  out << std::setprecision(17);
  for (size_t i = 0; i < v.size(); ++i) out << (i ? "," : "") << v[i];
  return out.str();
}

bool all_finite(const Tensor& t) {
  for (int64_t i = 0; i < t.numel(); ++i)
    if (!std::isfinite(t[i])) return false;
  return true;
}

// argmax of f at one row.
int64_t predicted(const Function& f, const float* row, const Shape& example_shape) {
  Shape s = example_shape;
  s[0] = 1;
  const Tensor t = Tensor::view(s, const_cast<float*>(row)).clone();
  const Tensor scores = evaluate_scores(f, t, 1);
  return argmax_row(scores.data(), scores.dim(1));
}

// f(x) = x·Wᵀ + b with W [C, D].
struct Linear {
  Tensor W, b;
  LambdaFunction f;
  Linear(Tensor w, Tensor bias)
      : W(std::move(w)), b(std::move(bias)), f([this](Tape& t, Var x) {
          return matmul(x, transpose(t.constant(W), {1, 0})) + t.constant(b);
        }) {}
  int64_t classes() const { return W.dim(0); }
  int64_t features() const { return W.dim(1); }
  double score(const std::vector<double>& x, int64_t c) const {
    double s = b[c];
    for (int64_t i = 0; i < features(); ++i) s += double(W[c * features() + i]) * x[size_t(i)];
    return s;
  }
  int64_t argmax(const std::vector<double>& x) const {
    int64_t best = 0;
    for (int64_t c = 1; c < classes(); ++c)
      if (score(x, c) > score(x, best)) best = c;
    return best;
  }
};

}  // namespace

TEST_CASE("agi on a linear model: n_j steps of eps sign(w_j), each contributing -w_t * dx (closed form)") {
  // 4 classes, 6 features: ∇f_j = w_j everywhere, so trajectory j is x + k ε sign(w_j) and AGI_j
  // = −n_j ε w_t ⊙ sign(w_j), n_j the first k at which argmax = j (at most max-iter).
  Linear lin(random_tensor(Shape{4, 6}, 41), random_tensor(Shape{4}, 42));
  const Tensor x = random_tensor(Shape{3, 6}, 43);
  std::vector<int64_t> targets;
  for (int64_t n = 0; n < 3; ++n) targets.push_back(lin.argmax({x.data() + n * 6, x.data() + n * 6 + 6}));
  const double eps = 0.05;
  const int64_t max_iter = 30;
  test::ScratchDir dir;
  const std::string classes_file = (dir.path() / "classes.npy").string();
  Tensor classes(Shape{3, 3});
  for (int64_t n = 0; n < 3; ++n) {
    int64_t k = 0;
    for (int64_t c = 0; c < 4; ++c)
      if (c != targets[size_t(n)]) classes[n * 3 + k++] = float(c);
  }
  write_npy(classes_file, classes);
  const Explanation e = explain("agi", request(lin.f, x, targets, 4),
                                {{"false-classes", classes_file}, {"step-size", "0.05"}, {"max-iter", "30"}});
  int64_t reached_total = 0, unreached_total = 0;
  for (int64_t n = 0; n < 3; ++n) {
    const int64_t t = targets[size_t(n)];
    std::vector<double> want(6, 0.0);
    double reached = 0, iterations = 0;
    for (int64_t k = 0; k < 3; ++k) {
      const int64_t j = int64_t(classes[n * 3 + k]);
      std::vector<double> point(x.data() + n * 6, x.data() + n * 6 + 6);
      int64_t steps = 0;
      while (lin.argmax(point) != j && steps < max_iter) {
        for (int64_t i = 0; i < 6; ++i) point[size_t(i)] += eps * (lin.W[j * 6 + i] > 0 ? 1 : -1);
        ++steps;
      }
      const bool hit = lin.argmax(point) == j;
      reached += hit;
      (hit ? reached_total : unreached_total) += 1;
      iterations += double(steps) / 3;
      for (int64_t i = 0; i < 6; ++i)
        want[size_t(i)] -= double(steps) * eps * lin.W[t * 6 + i] * (lin.W[j * 6 + i] > 0 ? 1 : -1) / 3;
    }
    INFO("example " << n);
    for (int64_t i = 0; i < 6; ++i) CHECK(e.attribution[n * 6 + i] == doctest::Approx(want[size_t(i)]).epsilon(1e-5).scale(1e-6));
    CHECK(e.per_example.at("adversarial_classes")[size_t(n)] == reached);
    CHECK(e.per_example.at("mean_iterations")[size_t(n)] == doctest::Approx(iterations));
    // A linear f makes the left Riemann sum along the polyline exact: Σ AGI = f_t(x) − mean f_t(x′_j).
    CHECK(std::fabs(e.per_example.at("completeness_gap")[size_t(n)]) < 1e-5);
  }
  MESSAGE("linear agi: " << reached_total << " trajectories reached their class, " << unreached_total << " stopped at max-iter");
  CHECK(reached_total > 0);
  CHECK(unreached_total > 0);  // both endings are exercised
}

TEST_CASE("agi: finite, deterministic for a seed and any thread count; --batch changes only rounding") {
  // The engine's forward of a row can differ in the last bit with the number of rows batched
  // with it (Eigen's blocking follows the matrix sizes), and AGI differentiates softmax
  // probabilities whose backward uses the forward values: runs are bitwise identical for a fixed
  // --batch and any thread count, and agree to rounding across --batch.
  const fs::path dir = fixture("small_cnn");
  Model model(load_onnx((dir / "model.onnx").string()));
  ModelFunction f(model, ScoreKind::prob);
  const Tensor x = read_npy((dir / "input.npy").string());
  const std::vector<int64_t> targets = fixture_targets(dir);
  const std::map<std::string, std::string> options = {{"classes", "3"}, {"max-iter", "12"}, {"step-size", "0.02"}, {"seed", "5"}};
  const int saved = omp_get_max_threads();
  std::vector<Explanation> runs;  // batch 1, 7, 64 with 1 thread, then with 2 threads
  for (int threads : {1, 2}) {
    omp_set_num_threads(threads);
    for (int64_t batch : {1, 7, 64}) runs.push_back(explain("agi", request(f, x, targets, batch), options));
  }
  omp_set_num_threads(saved);
  CHECK(all_finite(runs[0].attribution));
  double total = 0;
  for (int64_t i = 0; i < runs[0].attribution.numel(); ++i) total += std::fabs(runs[0].attribution[i]);
  CHECK(total > 0);
  for (size_t i = 0; i < 3; ++i) {
    INFO("batch run " << i);
    CHECK(bitwise_equal(runs[i + 3].attribution, runs[i].attribution));
    CHECK(rel_l2(runs[i].attribution, runs[0].attribution) < 1e-5);
    CHECK(runs[i].per_example.at("mean_iterations") == runs[0].per_example.at("mean_iterations"));
    CHECK(runs[i].per_example.at("adversarial_classes") == runs[0].per_example.at("adversarial_classes"));
  }
  MESSAGE("small_cnn agi: --batch 7 vs 1 differ by " << rel_l2(runs[1].attribution, runs[0].attribution) << " relative L2");
  MESSAGE("small_cnn agi: adversarial classes " << runs[0].per_example.at("adversarial_classes")[0] << ", "
                                               << runs[0].per_example.at("adversarial_classes")[1] << " of 3; mean iterations "
                                               << runs[0].per_example.at("mean_iterations")[0] << ", "
                                               << runs[0].per_example.at("mean_iterations")[1]);
  // --max-memory: a 1-byte budget leaves one-row chunks (as --batch 1); a large one --batch rows
  // after the one-row probe (as the default budget on this small model).
  Explanation tight, loose;
  {
    test::MaxMemory budget(1);
    tight = explain("agi", request(f, x, targets, 7), options);
  }
  CHECK(bitwise_equal(tight.attribution, runs[0].attribution));
  CHECK(tight.notes.at("chunk_rows") == "1");
  {
    test::MaxMemory budget(1000000000000);
    loose = explain("agi", request(f, x, targets, 7), options);
  }
  CHECK(bitwise_equal(loose.attribution, runs[1].attribution));
  CHECK(loose.notes.at("chunk_rows") == "6");  // all 2 examples × 3 false classes
  auto other = options;
  other["seed"] = "6";
  CHECK(!bitwise_equal(explain("agi", request(f, x, targets, 7), other).attribution, runs[0].attribution));
  // Errors name the flag or the file.
  Request r = request(f, x, targets);
  CHECK_THROWS_WITH_AS(explain("agi", r, {{"bounds", "1,0"}}), doctest::Contains("--bounds"), Error);
  CHECK_THROWS_WITH_AS(explain("agi", r, {{"step-size", "0"}}), doctest::Contains("--step-size"), Error);
  test::ScratchDir scratch;
  const std::string bad = (scratch.path() / "classes.npy").string();
  write_npy(bad, Tensor(Shape{2, 1}, {float(targets[0]), 1.f}));
  CHECK_THROWS_WITH_AS(explain("agi", r, {{"false-classes", bad}}), doctest::Contains("is its target class"), Error);
}

TEST_CASE("agi with --bounds: a box that pins x allows no movement and gives zero attribution") {
  Linear lin(random_tensor(Shape{3, 5}, 44), random_tensor(Shape{3}, 45));
  Tensor x(Shape{1, 5}, 0.25f);
  const int64_t t = lin.argmax(std::vector<double>(5, 0.25));
  // The box [0.25, 0.25 + 1e-7]: at most one rounding step of movement is possible.
  const Explanation pinned = explain("agi", request(lin.f, x, {t}), {{"bounds", "0.25,0.2500001"}, {"max-iter", "5"}});
  for (int64_t i = 0; i < 5; ++i) CHECK(std::fabs(pinned.attribution[i]) < 1e-6);
  CHECK(pinned.per_example.at("adversarial_classes")[0] == 0);
}

TEST_CASE("agi, big and integrated-hessians: one target or contrast class is every example's; other counts are refused") {
  Linear lin(random_tensor(Shape{3, 5}, 44), random_tensor(Shape{3}, 45));
  const Tensor x = random_tensor(Shape{2, 5}, 49);
  for (const char* name : {"agi", "big", "integrated-hessians"}) {
    CAPTURE(name);
    CHECK(bitwise_equal(explain(name, request(lin.f, x, {0}), {}).attribution,
                        explain(name, request(lin.f, x, {0, 0}), {}).attribution));
    CHECK_THROWS_WITH_AS(explain(name, request(lin.f, x, {0, 1, 2}), {}),
                         doctest::Contains((std::string(name) + ": 3 targets for 2 examples").c_str()), Error);
    Request r = request(lin.f, x, {0, 1});
    r.contrast = {2, 2, 2};
    CHECK_THROWS_WITH_AS(explain(name, r, {}), doctest::Contains((std::string(name) + ": 3 contrast classes for 2 examples").c_str()),
                         Error);
  }
}

TEST_CASE("big on a linear 2-class model: x' lies on the ray to the closest boundary point; BIG = (x - x') * w") {
  // f = W x + b, 2 classes: the boundary is d·z + β = 0 with d = w_y − w_o, β = b_y − b_o; the
  // closest boundary point is x* = x − (m/‖d‖²) d, m = d·x + β, at distance m/‖d‖. The
  // cross-entropy's gradient is −(1 − p_y) d, so L2 PGD walks straight along −d/‖d‖ and ends on
  // its ball: x′ = x − ε d/‖d‖ for the first radius ε beyond m/‖d‖.
  Linear lin(random_tensor(Shape{2, 6}, 46), random_tensor(Shape{2}, 47));
  const Tensor x = random_tensor(Shape{2, 6}, 48);
  std::vector<int64_t> targets;
  std::vector<double> dist;
  for (int64_t n = 0; n < 2; ++n) {
    const std::vector<double> xn(x.data() + n * 6, x.data() + n * 6 + 6);
    const int64_t y = lin.argmax(xn);
    targets.push_back(y);
    double m = lin.score(xn, y) - lin.score(xn, 1 - y), d2 = 0;
    for (int64_t i = 0; i < 6; ++i) d2 += std::pow(double(lin.W[y * 6 + i]) - lin.W[(1 - y) * 6 + i], 2);
    dist.push_back(m / std::sqrt(d2));
  }
  // Absolute radii around example 0's distance: 0.5 d0 fails, 1.02 d0 flips it.
  const double d0 = dist[0];
  const std::string radii = numbers_text({0.5 * d0, 1.02 * d0, 1.5 * std::max(dist[0], dist[1])});
  for (const char* rule : {"riemann-trapezoid", "gauss-legendre"}) {
    INFO(rule);
    const Explanation e = explain("big", request(lin.f, x, targets),
                                  {{"radii", radii}, {"relative-radii", "false"}, {"random-start", "false"}, {"rule", rule}});
    const Tensor& xp = e.extras.at("boundary-point");
    for (int64_t n = 0; n < 2; ++n) {
      INFO("example " << n);
      const int64_t y = targets[size_t(n)];
      CHECK(e.per_example.at("boundary_found")[size_t(n)] == 1);
      CHECK(e.per_example.at("boundary_class")[size_t(n)] == double(1 - y));
      const double radius = e.per_example.at("boundary_radius")[size_t(n)];
      CHECK(radius > dist[size_t(n)]);
      CHECK(e.per_example.at("boundary_distance")[size_t(n)] == doctest::Approx(radius).epsilon(1e-5));
      double dn = 0;
      for (int64_t i = 0; i < 6; ++i) dn += std::pow(double(lin.W[y * 6 + i]) - lin.W[(1 - y) * 6 + i], 2);
      dn = std::sqrt(dn);
      double to_closest = 0;
      for (int64_t i = 0; i < 6; ++i) {
        const double unit = (double(lin.W[y * 6 + i]) - lin.W[(1 - y) * 6 + i]) / dn;
        const double want = double(x[n * 6 + i]) - radius * unit;
        CHECK(xp[n * 6 + i] == doctest::Approx(want).epsilon(1e-5).scale(1e-6));
        to_closest += std::pow(double(xp[n * 6 + i]) - (double(x[n * 6 + i]) - dist[size_t(n)] * unit), 2);
        // BIG of a linear model: exactly (x − x′) ⊙ w_y for any rule; BSM = w_y.
        CHECK(e.attribution[n * 6 + i] ==
              doctest::Approx((double(x[n * 6 + i]) - xp[n * 6 + i]) * lin.W[y * 6 + i]).epsilon(1e-5).scale(1e-6));
        CHECK(e.extras.at("boundary-saliency")[n * 6 + i] == doctest::Approx(lin.W[y * 6 + i]).epsilon(1e-6));
      }
      // ‖x′ − x*‖ = ε − m/‖d‖ (the radius ladder's overshoot).
      CHECK(std::sqrt(to_closest) == doctest::Approx(radius - dist[size_t(n)]).epsilon(1e-4).scale(1e-5));
      CHECK(std::fabs(e.per_example.at("completeness_gap")[size_t(n)]) < 1e-5);
    }
    CHECK(e.per_example.at("boundary_radius")[0] == doctest::Approx(1.02 * d0).epsilon(1e-12));
  }
  // With the other class as contrast, BIG = (x − x′) ⊙ (w_y − w_o) and Σ BIG = margin(x) − margin(x′).
  Request r = request(lin.f, x, targets);
  r.contrast = {1 - targets[0], 1 - targets[1]};
  const Explanation c = explain("big", r, {{"radii", radii}, {"relative-radii", "false"}, {"random-start", "false"}});
  for (int64_t n = 0; n < 2; ++n)
    for (int64_t i = 0; i < 6; ++i) {
      const int64_t y = targets[size_t(n)];
      const double w = double(lin.W[y * 6 + i]) - lin.W[(1 - y) * 6 + i];
      CHECK(c.attribution[n * 6 + i] ==
            doctest::Approx((double(x[n * 6 + i]) - c.extras.at("boundary-point")[n * 6 + i]) * w).epsilon(1e-5).scale(1e-6));
    }
  // No radius reaches the boundary of example 0: found = 0, zero attribution and saliency, NaN x′.
  const Explanation none = explain("big", request(lin.f, x, targets),
                                   {{"radii", numbers_text({0.5 * std::min(dist[0], dist[1])})}, {"relative-radii", "false"}});
  for (int64_t n = 0; n < 2; ++n) {
    CHECK(none.per_example.at("boundary_found")[size_t(n)] == 0);
    CHECK(std::isnan(none.per_example.at("boundary_distance")[size_t(n)]));
    CHECK(std::isnan(none.per_example.at("completeness_gap")[size_t(n)]));
    for (int64_t i = 0; i < 6; ++i) {
      CHECK(none.attribution[n * 6 + i] == 0.f);
      CHECK(none.extras.at("boundary-saliency")[n * 6 + i] == 0.f);
      CHECK(std::isnan(none.extras.at("boundary-point")[n * 6 + i]));
    }
  }
  CHECK_THROWS_WITH_AS(explain("big", request(lin.f, Tensor(Shape{1, 6}), {0}), {}), doctest::Contains("all zeros"), Error);
  CHECK_THROWS_WITH_AS(explain("big", request(lin.f, x, targets), {{"radii", "0.1,x"}}), doctest::Contains("--radii"), Error);
}

TEST_CASE("big on the mlp fixture: x' flips the class, is closer than random directions' flips, completeness") {
  const fs::path dir = fixture("mlp");
  Model model(load_onnx((dir / "model.onnx").string()));
  ModelFunction f(model);
  const Tensor x = read_npy((dir / "input.npy").string());
  const std::vector<int64_t> targets = fixture_targets(dir);
  const int64_t N = x.dim(0), D = x.dim(1);
  const Explanation e = explain("big", request(f, x, targets, 16), {{"rule", "gauss-legendre"}, {"steps", "512"}, {"seed", "1"}});
  const Tensor& xp = e.extras.at("boundary-point");
  Rng rng(77);
  for (int64_t n = 0; n < N; ++n) {
    INFO("example " << n);
    const int64_t y = targets[size_t(n)];
    REQUIRE(predicted(f, x.data() + n * D, x.shape()) == y);
    REQUIRE(e.per_example.at("boundary_found")[size_t(n)] == 1);
    CHECK(predicted(f, xp.data() + n * D, x.shape()) != y);
    const double distance = e.per_example.at("boundary_distance")[size_t(n)];
    // Random directions: the first t at which argmax f(x + t u) ≠ y, for 24 unit directions u,
    // scanning t in steps of |x′ − x|/32 up to 128 |x′ − x|, then bisecting the step where it flips.
    const double dt = distance / 32;
    const int64_t scan = 4096;
    std::vector<double> flips;
    for (int direction = 0; direction < 24; ++direction) {
      std::vector<double> u(static_cast<size_t>(D));
      double norm = 0;
      for (double& v : u) {
        v = rng.normal();
        norm += v * v;
      }
      for (double& v : u) v /= std::sqrt(norm);
      auto point = [&](double t, float* row) {
        for (int64_t i = 0; i < D; ++i) row[i] = float(double(x[n * D + i]) + t * u[size_t(i)]);
      };
      Tensor line(Shape{scan, D});
      for (int64_t k = 0; k < scan; ++k) point(double(k + 1) * dt, line.data() + k * D);
      const Tensor scores = evaluate_scores(f, line, 256);
      int64_t first = -1;
      for (int64_t k = 0; k < scan && first < 0; ++k)
        if (argmax_row(scores.data() + k * scores.dim(1), scores.dim(1)) != y) first = k;
      if (first < 0) continue;  // no flip within 128 |x′ − x|
      double lo = double(first) * dt, hi = double(first + 1) * dt;
      Tensor p(Shape{1, D});
      for (int it = 0; it < 30; ++it) {
        const double mid = 0.5 * (lo + hi);
        point(mid, p.data());
        (predicted(f, p.data(), x.shape()) != y ? hi : lo) = mid;
      }
      flips.push_back(hi);
    }
    REQUIRE(flips.size() >= 12);
    std::sort(flips.begin(), flips.end());
    MESSAGE("mlp example " << n << ": |x' - x| = " << distance << ", random directions flip at " << flips.front()
                           << " (min), " << flips[flips.size() / 2] << " (median) of " << flips.size());
    CHECK(distance < flips.front());
    // Completeness from x′: Σ BIG = f(x) − f(x′) to the quadrature's accuracy (the ReLU kinks
    // slow Gauss–Legendre down: 32 nodes leave 1.4e-3 and 1.7e-3 relative, 512 nodes 7e-5, 9e-5).
    CHECK(std::fabs(e.per_example.at("completeness_gap")[size_t(n)]) <
          1e-3 * std::fabs(e.per_example.at("input_score")[size_t(n)] - e.per_example.at("baseline_score")[size_t(n)]));
  }
  CHECK(all_finite(e.attribution));
  CHECK(all_finite(e.extras.at("boundary-saliency")));
}

TEST_CASE("big: deterministic for a seed and any thread count; --batch changes only rounding") {
  // The attack's cross-entropy seed softmax(s) − e_y uses the forward's scores, whose last bit can
  // depend on the rows batched together (see the agi case): bitwise for a fixed --batch.
  const fs::path dir = fixture("small_cnn");
  Model model(load_onnx((dir / "model.onnx").string()));
  ModelFunction f(model);
  const Tensor x = read_npy((dir / "input.npy").string());
  const std::vector<int64_t> targets = fixture_targets(dir);
  const std::map<std::string, std::string> options = {{"attack-steps", "8"}, {"steps", "4"}, {"seed", "3"}, {"radii", "0.01,0.03,0.1,0.3"}};
  const int saved = omp_get_max_threads();
  std::vector<Explanation> runs;
  for (int threads : {1, 2}) {
    omp_set_num_threads(threads);
    for (int64_t batch : {1, 7, 64}) runs.push_back(explain("big", request(f, x, targets, batch), options));
  }
  omp_set_num_threads(saved);
  for (int64_t n = 0; n < 2; ++n) CHECK(runs[0].per_example.at("boundary_found")[size_t(n)] == 1);
  MESSAGE("small_cnn big: |x' - x| = " << runs[0].per_example.at("boundary_distance")[0] << ", "
                                      << runs[0].per_example.at("boundary_distance")[1] << " at radii "
                                      << runs[0].per_example.at("boundary_radius")[0] << ", "
                                      << runs[0].per_example.at("boundary_radius")[1]);
  CHECK(all_finite(runs[0].attribution));
  for (size_t i = 0; i < 3; ++i) {
    INFO("batch run " << i);
    CHECK(bitwise_equal(runs[i + 3].attribution, runs[i].attribution));
    CHECK(bitwise_equal(runs[i + 3].extras.at("boundary-point"), runs[i].extras.at("boundary-point")));
    CHECK(bitwise_equal(runs[i + 3].extras.at("boundary-saliency"), runs[i].extras.at("boundary-saliency")));
    CHECK(rel_l2(runs[i].attribution, runs[0].attribution) < 1e-5);
    CHECK(runs[i].per_example.at("boundary_radius") == runs[0].per_example.at("boundary_radius"));
  }
  MESSAGE("small_cnn big: --batch 7 vs 1 differ by " << rel_l2(runs[1].attribution, runs[0].attribution) << " relative L2");
  {
    test::MaxMemory budget(1);
    const Explanation tight = explain("big", request(f, x, targets, 7), options);
    CHECK(bitwise_equal(tight.attribution, runs[0].attribution));
    CHECK(bitwise_equal(tight.extras.at("boundary-point"), runs[0].extras.at("boundary-point")));
  }
  {
    test::MaxMemory budget(1000000000000);
    CHECK(bitwise_equal(explain("big", request(f, x, targets, 7), options).attribution, runs[1].attribution));
  }
  auto other = options;
  other["seed"] = "4";
  CHECK(!bitwise_equal(explain("big", request(f, x, targets, 7), other).extras.at("boundary-point"),
                       runs[0].extras.at("boundary-point")));
}

TEST_CASE("agi and big match the PyTorch references on the mlp fixture (tools/make_path_references.py)") {
  const fs::path dir = fixture("mlp");
  Model model(load_onnx((dir / "model.onnx").string()));
  const Tensor x = read_npy((dir / "input.npy").string());
  const std::vector<int64_t> targets = fixture_targets(dir);
  {
    ModelFunction prob(model, ScoreKind::prob);
    const Explanation e = explain("agi", request(prob, x, targets, 4),
                                  {{"false-classes", (dir / "path_agi_classes.npy").string()}, {"step-size", "0.05"},
                                   {"max-iter", "50"}});
    CHECK(rel_l2(e.attribution, read_npy((dir / "path_agi.npy").string())) < 1e-4);
    const Tensor iterations = read_npy((dir / "path_agi_iterations.npy").string());
    const int64_t K = iterations.dim(1);
    for (int64_t n = 0; n < x.dim(0); ++n) {
      double reached = 0, mean = 0;
      for (int64_t k = 0; k < K; ++k) {
        reached += iterations[n * K + k] >= 0;
        mean += std::fabs(iterations[n * K + k]) / double(K);
      }
      CHECK(e.per_example.at("adversarial_classes")[size_t(n)] == reached);
      CHECK(e.per_example.at("mean_iterations")[size_t(n)] == doctest::Approx(mean));
    }
  }
  ModelFunction f(model);
  for (const auto& [rule, steps] : std::vector<std::pair<std::string, std::string>>{{"riemann-trapezoid", "10"}, {"gauss-legendre", "16"}}) {
    INFO(rule);
    const Explanation e = explain("big", request(f, x, targets, 4), {{"random-start", "false"}, {"rule", rule}, {"steps", steps}});
    CHECK(rel_l2(e.extras.at("boundary-point"), read_npy((dir / "path_big_boundary.npy").string())) < 1e-4);
    CHECK(rel_l2(e.attribution, read_npy((dir / str("path_big_", rule, "_", steps, ".npy")).string())) < 1e-4);
    CHECK(rel_l2(e.extras.at("boundary-saliency"), read_npy((dir / "path_big_bsm.npy").string())) < 1e-4);
  }
}

TEST_CASE("gradlens explain runs agi and big: method flags reach them, JSON per example, extras as .npy") {
#ifdef GRADLENS_CLI
  const std::string cli = GRADLENS_CLI;
#else
  const std::string cli;
#endif
  if (cli.empty() || !fs::is_regular_file(cli)) {
    MESSAGE("SKIPPED: the gradlens CLI binary is not built");
    return;
  }
  test::ScratchDir scratch;
  const fs::path dir = fixture("mlp");
  auto run = [&](const std::string& args) {
    const std::string out = (scratch.path() / "out.json").string();
    const std::string cmd = "'" + cli + "' explain '" + (dir / "model.onnx").string() + "' '" + (dir / "input.npy").string() +
                            "' " + args + " --json > '" + out + "' 2>&1";
    const int status = std::system(cmd.c_str());
    CHECK(WIFEXITED(status));
    CHECK(WEXITSTATUS(status) == 0);
    std::ifstream in(out);
    return std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  };
  const std::string npy = (scratch.path() / "big.npy").string();
  const std::string big = run("--method big --bounds -10,10 --radii 1e-4 --out-npy '" + npy + "'");
  INFO(big);
  CHECK(big.find("\"bounds\":\"-10,10\"") != std::string::npos);
  CHECK(big.find("\"boundary_found\":[0,0]") != std::string::npos);  // 1e-4 ‖x‖ is too small to flip
  CHECK(big.find("\"boundary_distance\":[null,null]") != std::string::npos);
  CHECK(fs::exists(scratch.path() / "big.boundary-saliency.npy"));
  CHECK(fs::exists(scratch.path() / "big.boundary-point.npy"));
  const std::string agi = run("--method agi --classes 2 --bounds -10,10 --score prob");
  INFO(agi);
  CHECK(agi.find("\"bounds\":\"-10,10\"") != std::string::npos);
  CHECK(agi.find("\"adversarial_classes\":[") != std::string::npos);
  CHECK(agi.find("\"mean_iterations\":[") != std::string::npos);
}
