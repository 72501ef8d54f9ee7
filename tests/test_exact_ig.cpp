// Exact integrated gradients for piecewise-linear networks (integrated-gradients --rule exact,
// attribution/linear_pieces.h): closed forms on analytic ReLU models (the IG paper's
// 1 − relu(1 − x); a two-layer ReLU network whose kinks the test locates in float64), a max-pool
// whose arg-max switches along the path, the limit of the midpoint rule, completeness to rounding on
// the piecewise-linear fixture CNNs and the demo model, thread-count determinism, the refusals
// (smooth ops, probability scores, products of varying inputs) and --max-segments.
#include <omp.h>

#include <algorithm>
#include <cmath>
#include <filesystem>

#include "attribution/linear_pieces.h"
#include "attribution/method.h"
#include "attribution/path.h"
#include "engine/error.h"
#include "engine/ops.h"
#include "graph_builder.h"
#include "io/npy.h"
#include "io/onnx.h"
#include "layers/model.h"
#include "method_testing.h"
#include "support.h"

using namespace gradlens;
using gradlens::test::bitwise_equal;
using gradlens::test::explain;
using gradlens::test::fixture;
using gradlens::test::fixture_targets;
using gradlens::test::GraphBuilder;
using gradlens::test::random_tensor;
using gradlens::test::rel_l2;
using gradlens::test::request;
namespace fs = std::filesystem;

namespace {

// The IG paper's example f(x) = 1 − relu(1 − x), one feature per class.
const LambdaFunction kSaturating([](Tape&, Var x) { return 1.f - relu(1.f - x); });

// f(x) = Σ_j v_j relu(w_j · x + b_j) (+ a leaky unit and an |·| unit), x in R^5: one class.
const Tensor kW = random_tensor(Shape{9, 5}, 51), kB = random_tensor(Shape{9}, 52, -0.5f, 0.5f);
const Tensor kV = random_tensor(Shape{1, 9}, 53);
const LambdaFunction kTwoLayer([](Tape& t, Var x) {
  Var z = matmul(x, transpose(t.constant(kW), {1, 0})) + t.constant(kB);
  Var h = concat({relu(slice(z, 1, 0, 7)), leaky_relu(slice(z, 1, 7, 8), 0.1f), abs(slice(z, 1, 8, 9))}, 1);
  return matmul(h, transpose(t.constant(kV), {1, 0}));
});

// The two-layer network's exact IG in float64: the kinks t_j = −z_j(0) / ż_j sorted, and on each
// piece the gradient Σ_j v_j φ_j'(z_j(mid)) w_j.
std::vector<double> two_layer_exact(const Tensor& x, const Tensor& b, int64_t& pieces) {
  const int64_t d = 5, units = 9;
  std::vector<double> z0(units), dz(units);
  for (int64_t j = 0; j < units; ++j) {
    z0[size_t(j)] = kB[j];
    dz[size_t(j)] = 0;
    for (int64_t i = 0; i < d; ++i) {
      z0[size_t(j)] += double(kW[j * d + i]) * b[i];
      dz[size_t(j)] += double(kW[j * d + i]) * (double(x[i]) - b[i]);
    }
  }
  std::vector<double> cuts = {0.0, 1.0};
  for (int64_t j = 0; j < units; ++j) {
    const double t = dz[size_t(j)] != 0 ? -z0[size_t(j)] / dz[size_t(j)] : -1;
    if (t > 0 && t < 1) cuts.push_back(t);
  }
  std::sort(cuts.begin(), cuts.end());
  pieces = int64_t(cuts.size()) - 1;
  std::vector<double> ig(size_t(d), 0.0);
  for (size_t k = 0; k + 1 < cuts.size(); ++k) {
    const double mid = 0.5 * (cuts[k] + cuts[k + 1]), len = cuts[k + 1] - cuts[k];
    for (int64_t j = 0; j < units; ++j) {
      const double z = z0[size_t(j)] + mid * dz[size_t(j)];
      const double slope = j < 7 ? (z > 0 ? 1 : 0) : j == 7 ? (z > 0 ? 1 : 0.1) : (z > 0 ? 1 : -1);
      for (int64_t i = 0; i < d; ++i) ig[size_t(i)] += len * kV[j] * slope * kW[j * d + i];
    }
  }
  for (int64_t i = 0; i < d; ++i) ig[size_t(i)] *= double(x[i]) - b[i];
  return ig;
}

double sum_of(const Explanation& e, int64_t n) { return e.per_example.at("attribution_sum")[size_t(n)]; }

}  // namespace

TEST_CASE("exact IG: f = 1 − relu(1 − x) from x′ = 0 gives min(x, 1)") {
  const Tensor x(Shape{1, 4}, {2.f, 0.5f, -1.f, 1.25f});
  for (int64_t c = 0; c < 4; ++c) {
    INFO("x = " << x[c]);
    // Class c reads feature c alone.
    const Explanation e = explain("integrated-gradients", request(kSaturating, x, {c}, 4),
                                  {{"rule", "exact"}, {"baseline", "zero"}});
    const double want = std::min(double(x[c]), 1.0);
    CHECK(e.attribution[c] == doctest::Approx(want).epsilon(1e-6));
    for (int64_t i = 0; i < 4; ++i)
      if (i != c) CHECK(e.attribution[i] == 0.f);
    // Every class's path crosses the kinks of features 0 (t = 1/2) and 3 (t = 1/1.25): the pieces
    // are the network's, whatever the class.
    CHECK(e.per_example.at("segments")[0] == 3.0);
    CHECK(std::fabs(e.per_example.at("completeness_gap")[0]) < 1e-6);
  }
}

TEST_CASE("exact IG: a two-layer ReLU/LeakyReLU/Abs network equals its float64 closed form, kink by kink") {
  for (uint64_t seed : {61, 62, 63, 64}) {
    const Tensor x = random_tensor(Shape{1, 5}, seed, -2.f, 2.f), b = random_tensor(Shape{1, 5}, seed + 100);
    int64_t pieces = 0;
    const std::vector<double> want = two_layer_exact(x, b, pieces);
    Request r = request(kTwoLayer, x, {0}, 3);
    r.options.set("rule", "exact");
    const fs::path file = fs::temp_directory_path() / ("gradlens_exact_ig_baseline_" + std::to_string(seed) + ".npy");
    write_npy(file.string(), b);
    r.options.set("baseline", file.string());
    const Explanation e = method("integrated-gradients").explain(r);
    fs::remove(file);
    INFO("seed " << seed << ", " << pieces << " pieces");
    double err = 0, norm = 0;
    for (int64_t i = 0; i < 5; ++i) {
      err += std::pow(e.attribution[i] - want[size_t(i)], 2);
      norm += want[size_t(i)] * want[size_t(i)];
    }
    CHECK(std::sqrt(err / norm) < 1e-5);
    CHECK(e.per_example.at("segments")[0] == double(pieces));
    CHECK(pieces >= 2);
  }
}

TEST_CASE("exact IG: the midpoint rule converges to it as the steps grow") {
  const Tensor x = random_tensor(Shape{1, 5}, 71, -2.f, 2.f);
  const Explanation exact = explain("integrated-gradients", request(kTwoLayer, x, {0}, 64),
                                    {{"rule", "exact"}, {"baseline", "zero"}});
  std::vector<double> errors;
  for (const char* steps : {"4", "16", "64", "256", "1024"}) {
    const Explanation q = explain("integrated-gradients", request(kTwoLayer, x, {0}, 64),
                                  {{"rule", "riemann-middle"}, {"steps", steps}, {"baseline", "zero"}});
    errors.push_back(rel_l2(q.attribution, exact.attribution));
  }
  MESSAGE("riemann-middle 4..1024 steps vs exact, relative L2: " << errors[0] << " " << errors[1] << " " << errors[2]
                                                                  << " " << errors[3] << " " << errors[4]);
  CHECK(errors.back() < 1e-3);
  CHECK(errors.back() < errors.front() / 50);
  CHECK(exact.per_example.at("segments")[0] >= 2);  // the quadrature has kinks to converge over
}

TEST_CASE("exact IG: a max-pool whose arg-max switches along the path") {
  // y = max(x0, x1) by MaxPool 1×2 on [1, 1, 1, 2]; from x′ = (0, 1) to x = (2, 0): x0 = 2t and
  // x1 = 1 − t cross at t = 1/3, so IG = (2 · 2/3, −1 · 1/3) = (4/3, −1/3), Σ = f(x) − f(x′) = 1.
  GraphBuilder g;
  g.input("x", {1, 1, 1, 2});
  const std::string y = g.node("MaxPool", {"x"}, {{"kernel_shape", Attribute::of(std::vector<int64_t>{1, 2})}});
  const std::string out = g.node("Flatten", {y});
  g.output(out);
  Model model(g.build());
  ModelFunction f(model);
  const Tensor x(Shape{1, 1, 1, 2}, {2.f, 0.f}), b(Shape{1, 1, 1, 2}, {0.f, 1.f});
  const fs::path file = fs::temp_directory_path() / "gradlens_exact_ig_maxpool_baseline.npy";
  write_npy(file.string(), b);
  const Explanation e = explain("integrated-gradients", request(f, x, {0}, 4), {{"rule", "exact"}, {"baseline", file.string()}});
  fs::remove(file);
  CHECK(e.attribution[0] == doctest::Approx(4.0 / 3.0).epsilon(1e-6));
  CHECK(e.attribution[1] == doctest::Approx(-1.0 / 3.0).epsilon(1e-6));
  CHECK(e.per_example.at("segments")[0] == 2.0);
  // The pieces themselves: one breakpoint at 1/3.
  const LinearPieces p = straight_path_pieces(f, x, b, 10, "test", "--max-segments");
  REQUIRE(p.boundaries.size() == 3);
  CHECK(p.boundaries[1] == doctest::Approx(1.0 / 3.0).epsilon(1e-7));
  // Any quadrature with a node on the wrong side of 1/3 is off: 8 Gauss-Legendre nodes are.
  const Explanation gl = explain("integrated-gradients", request(f, x, {0}, 4), {{"steps", "8"}, {"baseline", "zero"}});
  CHECK(std::fabs(sum_of(gl, 0) - 2.0) < 1e-5);  // from 0 the max is x0 all along: no switch
}

// A baseline on the way from x to `far`: x′ = x + ε (far − x). The full paths of the CNN fixtures
// cross 8 000 to 17 000 kinks (a minute or more per example on a loaded machine); completeness
// holds for any baseline, and these shorter paths still cross dozens to hundreds.
Tensor near_baseline(const Tensor& x, const Tensor& far, double epsilon) {
  Tensor b(x.shape());
  for (int64_t i = 0; i < x.numel(); ++i) b[i] = float(double(x[i]) + epsilon * (double(far[i]) - double(x[i])));
  return b;
}

TEST_CASE("exact IG: completeness to rounding on the piecewise-linear fixture CNNs and the demo model") {
  struct Case {
    fs::path model, input;
    std::vector<int64_t> targets;
  };
  std::vector<Case> cases;
  for (const char* name : {"mlp", "gap_cnn", "small_cnn", "resnet_tiny", "conv_transpose"}) {
    const fs::path dir = fixture(name);
    cases.push_back({dir / "model.onnx", dir / "input.npy", fixture_targets(dir)});
  }
  const fs::path demo = fs::path(GRADLENS_SOURCE_DIR) / "tools" / "demo";
  cases.push_back({demo / "fashion_cnn.onnx", demo / "images.npy", {3, 3}});
  for (const Case& c : cases) {
    Model model(load_onnx(c.model.string()));
    ModelFunction f(model);
    // mlp: both examples, the whole path from 0; the CNNs: example 0, a fiftieth of the path from
    // a uniform-noise image.
    const bool whole = c.model.parent_path().filename() == "mlp";
    const Tensor x = rows(read_npy(c.input.string()), 0, whole ? 2 : 1).clone();
    const std::vector<int64_t> targets(c.targets.begin(), c.targets.begin() + x.dim(0));
    const Tensor b = whole ? Tensor(x.shape()) : near_baseline(x, random_tensor(x.shape(), 91), 0.02);
    const fs::path file = fs::temp_directory_path() / "gradlens_exact_ig_completeness_baseline.npy";
    write_npy(file.string(), b);
    const Explanation e = explain("integrated-gradients", request(f, x, targets, 32), {{"rule", "exact"}, {"baseline", file.string()}});
    fs::remove(file);
    for (size_t n = 0; n < targets.size(); ++n) {
      const double change = e.per_example.at("input_score")[n] - e.per_example.at("baseline_score")[n];
      const double gap = e.per_example.at("completeness_gap")[n];
      MESSAGE(c.model.parent_path().filename().string() << "/" << c.model.filename().string() << " example " << n << ": "
                                                        << e.per_example.at("segments")[n] << " segments, f(x) − f(x′) = "
                                                        << change << ", completeness gap " << gap);
      CHECK(e.per_example.at("segments")[n] >= 2);
      CHECK(std::fabs(gap) <= 1e-5 * std::max(1.0, std::fabs(change)));
    }
  }
}

TEST_CASE("exact IG: bitwise identical for 1 or 2 threads; the pieces do not depend on --batch") {
  const fs::path dir = fixture("small_cnn");
  Model model(load_onnx((dir / "model.onnx").string()));
  ModelFunction f(model);
  const Tensor x = read_npy((dir / "input.npy").string());
  const std::vector<int64_t> targets = fixture_targets(dir);
  const fs::path file = fs::temp_directory_path() / "gradlens_exact_ig_threads_baseline.npy";
  write_npy(file.string(), near_baseline(x, read_npy((dir / "path_baseline.npy").string()), 0.02));
  const int saved = omp_get_max_threads();
  std::vector<Explanation> runs;
  for (int threads : {1, 2}) {
    omp_set_num_threads(threads);
    for (int64_t batch : {1, 16})
      runs.push_back(explain("integrated-gradients", request(f, x, targets, batch), {{"rule", "exact"}, {"baseline", file.string()}}));
  }
  omp_set_num_threads(saved);
  fs::remove(file);
  CHECK(bitwise_equal(runs[2].attribution, runs[0].attribution));
  CHECK(bitwise_equal(runs[3].attribution, runs[1].attribution));
  // The pieces are found one row at a time: the same for every --batch.
  CHECK(runs[1].per_example.at("segments") == runs[0].per_example.at("segments"));
  CHECK(rel_l2(runs[1].attribution, runs[0].attribution) < 1e-6);
}

TEST_CASE("exact IG: smooth ops, probability scores and products of varying inputs are refused naming the node") {
  const Tensor x = random_tensor(Shape{1, 5}, 81);
  const LambdaFunction tanh_net([](Tape& t, Var x) {
    return matmul(tanh(matmul(x, transpose(t.constant(kW), {1, 0}))), transpose(t.constant(kV), {1, 0}));
  });
  CHECK_THROWS_WITH_AS(explain("integrated-gradients", request(tanh_net, x, {0}), {{"rule", "exact"}}),
                       "integrated-gradients --rule exact: node 'tanh' (Tanh) is not piecewise linear (its derivative "
                       "varies continuously along the path, so no finite set of linear segments integrates it exactly)",
                       Error);
  const LambdaFunction square([](Tape&, Var x) { return x * x; });
  CHECK_THROWS_WITH_AS(explain("integrated-gradients", request(square, x, {0}), {{"rule", "exact"}}),
                       doctest::Contains("node 'mul' (Mul) multiplies two quantities that vary along the path"), Error);
  const LambdaFunction clipped([](Tape&, Var x) { return clip(x, -0.5f, 0.5f); });
  CHECK_THROWS_WITH_AS(explain("integrated-gradients", request(clipped, x, {0}), {{"rule", "exact"}}),
                       doctest::Contains("node 'clip' (Clip) is piecewise linear, but --rule exact does not locate"), Error);
  // An ONNX model with Sigmoid/Tanh/Softmax inside.
  const fs::path dir = fixture("dilated_grouped");
  Model smooth(load_onnx((dir / "model.onnx").string()));
  ModelFunction fs_(smooth);
  const Tensor xs = read_npy((dir / "input.npy").string());
  CHECK_THROWS_WITH_AS(explain("integrated-gradients", request(fs_, xs, fixture_targets(dir)), {{"rule", "exact"}}),
                       doctest::Contains("is not piecewise linear"), Error);
  // Probabilities: softmax of piecewise-linear logits is not piecewise linear.
  const fs::path mlp = fixture("mlp");
  Model model(load_onnx((mlp / "model.onnx").string()));
  ModelFunction prob(model, ScoreKind::prob);
  const Tensor xm = read_npy((mlp / "input.npy").string());
  CHECK_THROWS_WITH_AS(explain("integrated-gradients", request(prob, xm, fixture_targets(mlp)), {{"rule", "exact"}}),
                       "integrated-gradients --rule exact: the score is a probability (softmax of the logits), which is "
                       "not piecewise linear in the input; explain the logits (--score logit) or use a quadrature --rule",
                       Error);
  // IDGI has no exact rule; --idgi is refused with it.
  CHECK_THROWS_AS(explain("idgi", request(kTwoLayer, x, {0}), {{"rule", "exact"}}), Error);
  CHECK_THROWS_WITH_AS(explain("integrated-gradients", request(kTwoLayer, x, {0}), {{"rule", "exact"}, {"idgi", "true"}}),
                       "integrated-gradients: --idgi applies to the quadrature rules, not --rule exact", Error);
}

TEST_CASE("exact IG: more pieces than --max-segments is a one-line error naming the flag") {
  const Tensor x = random_tensor(Shape{1, 5}, 61, -2.f, 2.f), b = random_tensor(Shape{1, 5}, 161);
  int64_t pieces = 0;
  two_layer_exact(x, b, pieces);
  REQUIRE(pieces >= 3);
  const fs::path file = fs::temp_directory_path() / "gradlens_exact_ig_limit_baseline.npy";
  write_npy(file.string(), b);
  CHECK_THROWS_WITH_AS(
      explain("integrated-gradients", request(kTwoLayer, x, {0}),
              {{"rule", "exact"}, {"baseline", file.string()}, {"max-segments", std::to_string(pieces - 1)}}),
      ("integrated-gradients --rule exact: more than " + std::to_string(pieces - 1) +
       " linear segments along the path; raise --max-segments (or use a quadrature --rule)").c_str(),
      Error);
  const Explanation e = explain("integrated-gradients", request(kTwoLayer, x, {0}),
                                {{"rule", "exact"}, {"baseline", file.string()}, {"max-segments", std::to_string(pieces)}});
  fs::remove(file);
  CHECK(e.per_example.at("segments")[0] == double(pieces));
  CHECK_THROWS_AS(explain("integrated-gradients", request(kTwoLayer, x, {0}), {{"rule", "exact"}, {"max-segments", "0"}}),
                  Error);
}


// tools/make_exact_ig_references.py: exact IG in float64 PyTorch, its pieces found by sampling the
// activation pattern on 4096 cells and bisecting the cells where it changes (independent of the
// tangent walk); the mlp fixture, zero baseline, both examples.
TEST_CASE("exact IG matches the float64 PyTorch reference on the mlp (pattern sampling and bisection)") {
  const fs::path dir = fixture("mlp");
  Model model(load_onnx((dir / "model.onnx").string()));
  ModelFunction f(model);
  const Tensor x = read_npy((dir / "input.npy").string());
  const Explanation e = explain("integrated-gradients", request(f, x, fixture_targets(dir), 64),
                                {{"rule", "exact"}, {"baseline", "zero"}});
  const double err = rel_l2(e.attribution, read_npy((dir / "path_ig_exact.npy").string()));
  MESSAGE("mlp exact IG vs PyTorch float64: relative L2 " << err);
  CHECK(err < 1e-5);
  // The pieces are the reference's (30 and 24), except pieces narrower than kGapTolerance, which
  // are shared by their neighbours: example 0 has one 4.9e-8 wide at t = 0.018987.
  const Tensor ref = read_npy((dir / "path_ig_exact_segments.npy").string());
  const std::vector<double>& segments = e.per_example.at("segments");
  REQUIRE(segments.size() == 2);
  CHECK(segments[0] == ref[0] - 1);
  CHECK(segments[1] == ref[1]);
}
