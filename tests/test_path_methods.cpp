// Path attribution methods (integrated gradients and relatives) on analytic models with closed
// forms and on the PyTorch fixture models: quadrature exactness and convergence, completeness,
// chunking and thread-count determinism, memory-bounded chunks, and PyTorch references
// (tools/make_path_references.py).
#include <omp.h>

#include <cmath>
#include <filesystem>

#include "attribution/gradients.h"
#include "attribution/method.h"
#include "attribution/path.h"
#include "engine/error.h"
#include "engine/ops.h"
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
using gradlens::test::max_abs;
using gradlens::test::fixture;
using gradlens::test::fixture_targets;
namespace fs = std::filesystem;

namespace {

const char* const kRules[] = {"gauss-legendre", "riemann-left", "riemann-right", "riemann-middle",
                              "riemann-trapezoid"};

// f(x) = x·Wᵀ + b, W [3, 4].
const Tensor kW = random_tensor(Shape{3, 4}, 31);
const Tensor kB(Shape{3}, {0.4f, -0.1f, 0.2f});
const LambdaFunction kLinear([](Tape& t, Var x) { return matmul(x, transpose(t.constant(kW), {1, 0})) + t.constant(kB); });

// f(x) = x0² · x1 (one class).
const LambdaFunction kCubic([](Tape&, Var x) { return column(x, 0) * column(x, 0) * column(x, 1); });

// The IG paper's example f(x) = 1 − relu(1 − x).
const LambdaFunction kSaturating([](Tape&, Var x) { return 1.f - relu(1.f - x); });

// A smooth network: tanh(x·W1ᵀ + b1)·W2ᵀ.
const Tensor kW1 = random_tensor(Shape{12, 5}, 32, -0.8f, 0.8f), kB1 = random_tensor(Shape{12}, 33);
const Tensor kW2 = random_tensor(Shape{3, 12}, 34);
const LambdaFunction kTanhNet([](Tape& t, Var x) {
  Var h = tanh(matmul(x, transpose(t.constant(kW1), {1, 0})) + t.constant(kB1));
  return matmul(h, transpose(t.constant(kW2), {1, 0}));
});

}  // namespace

TEST_CASE("quadrature rules: nodes in [0, 1], weights sum to 1, Gauss-Legendre exact to degree 2n-1") {
  for (const char* name : kRules) {
    for (int64_t n : {2, 3, 7, 50}) {
      INFO(name << " n=" << n);
      const Quadrature q = quadrature(parse_quadrature_rule(name), n);
      double total = 0;
      for (size_t k = 0; k < q.nodes.size(); ++k) {
        CHECK(q.nodes[k] >= 0.0);
        CHECK(q.nodes[k] <= 1.0);
        if (k > 0) CHECK(q.nodes[k] > q.nodes[k - 1]);
        total += q.weights[k];
      }
      CHECK(total == doctest::Approx(1.0).epsilon(1e-14));
    }
  }
  for (int64_t n : {1, 2, 5, 20, 64}) {
    const Quadrature q = quadrature(QuadratureRule::gauss_legendre, n);
    for (int64_t degree = 0; degree <= 2 * n - 1; ++degree) {
      double s = 0;
      for (size_t k = 0; k < q.nodes.size(); ++k) s += q.weights[k] * std::pow(q.nodes[k], double(degree));
      INFO("n=" << n << " degree " << degree);
      CHECK(s == doctest::Approx(1.0 / double(degree + 1)).epsilon(1e-12));
    }
  }
  // numpy.polynomial.legendre.leggauss(3) mapped to [0, 1].
  const Quadrature q3 = quadrature(QuadratureRule::gauss_legendre, 3);
  CHECK(q3.nodes[0] == doctest::Approx(0.5 * (1 - std::sqrt(0.6))).epsilon(1e-15));
  CHECK(q3.weights[1] == doctest::Approx(4.0 / 9.0).epsilon(1e-15));
  const Quadrature trap = quadrature(QuadratureRule::riemann_trapezoid, 5);
  CHECK(trap.weights[0] == doctest::Approx(0.125));
  CHECK(trap.weights[2] == doctest::Approx(0.25));
  CHECK_THROWS_AS(quadrature(QuadratureRule::riemann_trapezoid, 1), Error);
  CHECK_THROWS_AS(parse_quadrature_rule("simpson"), Error);
}

TEST_CASE("integrated-gradients of a linear model is (x - x') * w for every rule and step count") {
  const Tensor x = random_tensor(Shape{3, 4}, 1);
  const std::vector<int64_t> targets = {2, 0, 1};
  for (const char* baseline : {"zero", "black", "mean"}) {
    const Tensor xb = make_baseline(x, baseline, 0, 0);
    for (const char* rule : kRules)
      for (int64_t steps : {2, 3, 10, 50}) {
        INFO(baseline << " " << rule << " steps=" << steps);
        Explanation e = explain("integrated-gradients", request(kLinear, x, targets),
                                {{"rule", rule}, {"steps", std::to_string(steps)}, {"baseline", baseline}});
        for (int64_t n = 0; n < 3; ++n)
          for (int64_t i = 0; i < 4; ++i) {
            const double want = (double(x[n * 4 + i]) - xb[n * 4 + i]) * kW[targets[size_t(n)] * 4 + i];
            CHECK(e.attribution[n * 4 + i] == doctest::Approx(want).epsilon(1e-5).scale(1e-6));
          }
        CHECK(max_abs(e.per_example.at("completeness_gap")) < 1e-5);
        CHECK(e.backward_passes == 3 * steps);
      }
  }
}

TEST_CASE("integrated-gradients of x0^2 x1: Gauss-Legendre exact from 2 nodes, Riemann within its bound") {
  // Zero baseline: IG = [2/3, 1/3] · x0² x1.
  const Tensor x(Shape{2, 2}, {1.5f, -0.8f, -0.7f, 1.9f});
  for (const char* rule : kRules)
    for (int64_t steps : {2, 4, 16, 64}) {
      INFO(rule << " steps=" << steps);
      Explanation e = explain("integrated-gradients", request(kCubic, x, {0, 0}),
                              {{"rule", rule}, {"steps", std::to_string(steps)}});
      for (int64_t n = 0; n < 2; ++n) {
        const double f = double(x[n * 2]) * x[n * 2] * x[n * 2 + 1];
        const double err0 = std::fabs(e.attribution[n * 2] - 2.0 / 3.0 * f);
        const double err1 = std::fabs(e.attribution[n * 2 + 1] - 1.0 / 3.0 * f);
        // Integrand t²: left/right sums err by ≤ 1/n, middle by 1/(12n²), trapezoid by 1/(6(n−1)²).
        const std::string r = rule;
        const double n_ = double(steps);
        const double bound = r == "gauss-legendre"    ? 1e-6
                             : r == "riemann-middle"  ? 1.0 / (12 * n_ * n_) + 1e-6
                             : r == "riemann-trapezoid" ? 1.0 / (6 * (n_ - 1) * (n_ - 1)) + 1e-6
                                                        : 1.0 / n_ + 1e-6;
        CHECK(err0 <= 2 * std::fabs(f) * bound);
        CHECK(err1 <= std::fabs(f) * bound);
        if (r != "gauss-legendre") CHECK(err1 > 1e-3 * std::fabs(f) * bound);  // the bound is the error's size
      }
    }
}

TEST_CASE("integrated-gradients of 1 - relu(1 - x) at x = 2 is 1 where the gradient is 0 (the IG paper)") {
  const Tensor x(Shape{1, 1}, {2.f});
  CHECK(method("gradient").explain(request(kSaturating, x, {0})).attribution[0] == 0.f);
  for (const char* rule : kRules)
    for (int64_t steps : {4, 10, 100}) {
      INFO(rule << " steps=" << steps);
      Explanation e = explain("integrated-gradients", request(kSaturating, x, {0}),
                              {{"rule", rule}, {"steps", std::to_string(steps)}});
      // ∫₀¹ 2·[2t < 1] dt = 1: each rule misses by at most one step's weight times 2.
      CHECK(std::fabs(e.attribution[0] - 1.0) <= 2.0 * 1.5 / double(steps - 1));
      if (std::string(rule) == "riemann-left" || std::string(rule) == "riemann-middle") CHECK(e.attribution[0] == 1.f);
    }
}

TEST_CASE("integrated-gradients completeness gap shrinks with steps, fastest for Gauss-Legendre") {
  const Tensor x = random_tensor(Shape{4, 5}, 5, -2.f, 2.f);
  const std::vector<int64_t> targets = {0, 1, 2, 1};
  auto gap = [&](const char* rule, int64_t steps) {
    Explanation e = explain("integrated-gradients", request(kTanhNet, x, targets, 64),
                            {{"rule", rule}, {"steps", std::to_string(steps)}, {"baseline", "white"}});
    return max_abs(e.per_example.at("completeness_gap"));
  };
  std::map<std::string, std::vector<double>> gaps;
  for (const char* rule : kRules)
    for (int64_t steps : {4, 8, 16}) gaps[rule].push_back(gap(rule, steps));
  for (const auto& [rule, g] : gaps) MESSAGE(rule << " gaps at 4/8/16 steps: " << g[0] << " " << g[1] << " " << g[2]);
  for (const char* rule : kRules) {
    INFO(rule);
    CHECK(gaps[rule][1] < gaps[rule][0]);
    CHECK(gaps[rule][2] < gaps[rule][1]);
  }
  // First order (left, right): doubling the steps about halves the gap; second order (middle,
  // trapezoid): about quarters it; Gauss-Legendre: faster than any fixed order.
  for (const char* rule : {"riemann-left", "riemann-right"}) CHECK(gaps[rule][2] > 0.3 * gaps[rule][1]);
  for (const char* rule : {"riemann-middle", "riemann-trapezoid"}) CHECK(gaps[rule][2] < 0.35 * gaps[rule][1]);
  CHECK(gaps["gauss-legendre"][2] < 0.05 * gaps["gauss-legendre"][1]);
  for (size_t i = 1; i < 3; ++i) {
    CHECK(gaps["gauss-legendre"][i] < 0.2 * gaps["riemann-middle"][i]);
    CHECK(gaps["riemann-middle"][i] < gaps["riemann-left"][i]);
  }
  CHECK(gaps["gauss-legendre"][2] < 1e-4);
}

// Bitwise identical for 1 or 2 threads at each --batch. Across --batch values a row's forward can
// change in its last bits with the rows batched together (the GEMM's kernels for the row tail
// differ; with -DGRADLENS_NATIVE=ON they do on small_cnn), so there results agree to rounding.
TEST_CASE("integrated-gradients: bitwise identical for 1 or 2 threads; --batch 1, 7, 64 agree to rounding") {
  const fs::path dir = fixture("small_cnn");
  Model model(load_onnx((dir / "model.onnx").string()));
  ModelFunction f(model);
  const Tensor x = read_npy((dir / "input.npy").string());
  const std::vector<int64_t> targets = fixture_targets(dir);
  const int saved = omp_get_max_threads();
  std::vector<Explanation> runs;
  for (int threads : {1, 2}) {
    omp_set_num_threads(threads);
    for (int64_t batch : {1, 7, 64})
      runs.push_back(explain("integrated-gradients", request(f, x, targets, batch),
                             {{"steps", "9"}, {"baseline", "uniform"}, {"seed", "3"}}));
  }
  omp_set_num_threads(saved);
  for (size_t i = 0; i < 3; ++i) {
    INFO("batch run " << i);
    CHECK(bitwise_equal(runs[i + 3].attribution, runs[i].attribution));
    CHECK(runs[i + 3].per_example.at("completeness_gap") == runs[i].per_example.at("completeness_gap"));
    CHECK(rel_l2(runs[i].attribution, runs[0].attribution) < 1e-6);
  }
  MESSAGE("small_cnn integrated-gradients: --batch 7 / 64 vs 1: " << rel_l2(runs[1].attribution, runs[0].attribution)
                                                                 << " / " << rel_l2(runs[2].attribution, runs[0].attribution)
                                                                 << " relative L2");
  CHECK(runs[0].notes.at("chunk_rows") == "1");
  CHECK(runs[1].notes.at("chunk_rows") == "7");
  CHECK(runs[2].notes.at("chunk_rows") == "15");  // 2 examples × 9 steps: the probes of 1 and 2 rows, then 15
}

TEST_CASE("integrated-gradients: --max-memory sets the chunk from the one- and two-row probes; memory does not grow with steps") {
  const fs::path dir = fixture("small_cnn");
  Model model(load_onnx((dir / "model.onnx").string()));
  ModelFunction f(model);
  const Tensor x = read_npy((dir / "input.npy").string());
  const std::vector<int64_t> targets = fixture_targets(dir);
  // The tape of one row: a 1-byte budget runs every chunk as one row.
  int64_t row_bytes = 0;
  {
    test::MaxMemory budget(1);
    const Explanation one = explain("integrated-gradients", request(f, x, targets, 64), {{"steps", "6"}});
    CHECK(one.notes.at("chunk_rows") == "1");
    row_bytes = std::stoll(one.notes.at("tape_bytes"));
  }
  // The tape of two rows (--batch 2: every chunk after the probe has two), so a row's own share
  // and the part every chunk holds whatever its rows (the im2col scratch).
  int64_t two_rows = 0;
  {
    test::MaxMemory budget(int64_t(1) << 40);
    two_rows = std::stoll(explain("integrated-gradients", request(f, x, targets, 2), {{"steps", "6"}}).notes.at("tape_bytes"));
  }
  const int64_t row = two_rows - row_bytes, fixed = row_bytes - row;
  CHECK(row > 0);
  CHECK(fixed >= 0);
  const Explanation plain = explain("integrated-gradients", request(f, x, targets, 64), {{"steps", "6"}});
  for (int64_t one_rows : {1, 5}) {
    // A budget of one_rows one-row tapes holds (budget − fixed) / row rows: at least one_rows.
    const int64_t budget = one_rows * row_bytes;
    const int64_t rows_allowed = one_rows == 1 ? 1 : std::clamp<int64_t>((budget - fixed) / row, 1, 64);
    INFO("rows allowed " << rows_allowed);
    CHECK(rows_allowed >= one_rows);
    test::MaxMemory scoped(budget);
    const Explanation e = explain("integrated-gradients", request(f, x, targets, 64), {{"steps", "6"}});
    CHECK(e.notes.at("chunk_rows") == std::to_string(rows_allowed));
    CHECK(std::stoll(e.notes.at("tape_bytes")) <= budget);
    CHECK(rel_l2(e.attribution, plain.attribution) < 1e-6);  // other chunks: equal to rounding
  }
  // A fixed chunk (32 rows): the tape is the same for 64 and 128 path points.
  const Explanation few = explain("integrated-gradients", request(f, x, targets, 32), {{"steps", "32"}});
  const Explanation many = explain("integrated-gradients", request(f, x, targets, 32), {{"steps", "64"}});
  CHECK(std::stoll(few.notes.at("tape_bytes")) > row_bytes);
  CHECK(few.notes.at("tape_bytes") == many.notes.at("tape_bytes"));
  CHECK(many.notes.at("chunks") == "6");  // the probes of 1 and 2 rows, then 32, 32, 32 and 29 rows
}

TEST_CASE("baselines: black, white, uniform, mean, blur, file and errors") {
  const Tensor x = random_tensor(Shape{2, 2, 3, 4}, 7, -2.f, 3.f);
  const Tensor black = make_baseline(x, "black", 0, 0), white = make_baseline(x, "white", 0, 0);
  const Tensor uniform = make_baseline(x, "uniform", 0, 9), mean = make_baseline(x, "mean", 0, 0);
  for (int64_t n = 0; n < 2; ++n) {
    float lo = INFINITY, hi = -INFINITY;
    for (int64_t i = 0; i < 24; ++i) {
      lo = std::min(lo, x[n * 24 + i]);
      hi = std::max(hi, x[n * 24 + i]);
    }
    for (int64_t i = 0; i < 24; ++i) {
      CHECK(black[n * 24 + i] == lo);
      CHECK(white[n * 24 + i] == hi);
      CHECK(uniform[n * 24 + i] >= lo);
      CHECK(uniform[n * 24 + i] < hi);
    }
    for (int64_t c = 0; c < 2; ++c) {
      double s = 0;
      for (int64_t i = 0; i < 12; ++i) s += x[(n * 2 + c) * 12 + i];
      for (int64_t i = 0; i < 12; ++i) CHECK(mean[(n * 2 + c) * 12 + i] == doctest::Approx(s / 12).epsilon(1e-6));
    }
  }
  CHECK(bitwise_equal(uniform, make_baseline(x, "uniform", 0, 9)));
  CHECK(!bitwise_equal(uniform, make_baseline(x, "uniform", 0, 10)));
  CHECK(bitwise_equal(make_baseline(x, "blur", 1.5, 0), gaussian_blur(x, 1.5)));
  test::ScratchDir dir;
  const std::string file = (dir.path() / "b.npy").string();
  write_npy(file, Tensor(Shape{2, 1, 1}, {0.5f, -1.f}));  // per channel, broadcast
  const Tensor fb = make_baseline(x, file, 0, 0);
  CHECK(fb[0] == 0.5f);
  CHECK(fb[12] == -1.f);
  CHECK(fb[24] == 0.5f);
  write_npy(file, Tensor(Shape{3, 1, 1}));
  CHECK_THROWS_WITH_AS(make_baseline(x, file, 0, 0), doctest::Contains("does not broadcast"), Error);
  CHECK_THROWS_WITH_AS(make_baseline(x, "grey", 0, 0), doctest::Contains("unknown baseline 'grey'"), Error);
  Request r = request(kLinear, random_tensor(Shape{1, 4}, 1), {0});
  CHECK_THROWS_WITH_AS(explain("integrated-gradients", r, {{"rule", "simpson"}}), doctest::Contains("simpson"), Error);
  CHECK_THROWS_WITH_AS(explain("integrated-gradients", r, {{"steps", "0"}}), doctest::Contains("--steps"), Error);
}

TEST_CASE("gaussian blur: a normalised kernel, zero borders, and its exact sigma-derivative against finite differences") {
  // One row [0, 0, 1, 0, 0] ([N, D]: blurred along D), σ = 1: the kernel itself, truncated at
  // radius 4 and cut by the zero borders.
  Tensor impulse(Shape{1, 5});
  impulse[2] = 1.f;
  const Tensor b = gaussian_blur(impulse, 1.0);
  double z = 0;
  for (int j = -4; j <= 4; ++j) z += std::exp(-j * j / 2.0);
  for (int i = 0; i < 5; ++i) CHECK(b[i] == doctest::Approx(std::exp(-(i - 2) * (i - 2) / 2.0) / z).epsilon(1e-6));
  const Tensor x = random_tensor(Shape{2, 3, 7, 9}, 11);
  CHECK(bitwise_equal(gaussian_blur(x, 0.0), x));
  for (double sigma : {0.4, 1.3, 2.6, 6.0}) {
    INFO("sigma " << sigma);
    const double h = 1e-3;
    const Tensor plus = gaussian_blur(x, sigma + h), minus = gaussian_blur(x, sigma - h);
    Tensor fd(x.shape());
    for (int64_t i = 0; i < x.numel(); ++i) fd[i] = float((double(plus[i]) - double(minus[i])) / (2 * h));
    CHECK(rel_l2(gaussian_blur(x, sigma, true), fd) < 2e-3);
  }
  const Tensor v = random_tensor(Shape{3, 10}, 12);  // [N, D]: along D
  const Tensor dv = gaussian_blur(v, 1.3, true);
  const Tensor fdv_plus = gaussian_blur(v, 1.301), fdv_minus = gaussian_blur(v, 1.299);
  Tensor fdv(v.shape());
  for (int64_t i = 0; i < v.numel(); ++i) fdv[i] = float((double(fdv_plus[i]) - double(fdv_minus[i])) / 0.002);
  CHECK(rel_l2(dv, fdv) < 2e-3);
}

TEST_CASE("blur-ig: path endpoints and completeness on a smooth model") {
  // Endpoints: σ = 0 is the input, σ = max the baseline; with one Riemann-left node at σ = 0 the
  // derivative vanishes and so does the attribution.
  const Tensor x = random_tensor(Shape{2, 1, 1, 5}, 13, -1.f, 1.f);
  const LambdaFunction sum_sq([](Tape&, Var v) { return sum(v * v, {1, 2, 3}); });
  Explanation e0 = explain("blur-ig", request(sum_sq, x, {0, 0}), {{"steps", "1"}, {"rule", "riemann-left"}});
  for (int64_t i = 0; i < x.numel(); ++i) CHECK(e0.attribution[i] == 0.f);
  Explanation e = explain("blur-ig", request(sum_sq, x, {0, 0}), {{"steps", "24"}, {"max-sigma", "3"}});
  const Tensor far = gaussian_blur(x, 3.0);
  for (int64_t n = 0; n < 2; ++n) {
    double fx = 0, fb = 0;
    for (int64_t i = 0; i < 5; ++i) {
      fx += double(x[n * 5 + i]) * x[n * 5 + i];
      fb += double(far[n * 5 + i]) * far[n * 5 + i];
    }
    CHECK(e.per_example.at("input_score")[size_t(n)] == doctest::Approx(fx).epsilon(1e-5));
    CHECK(e.per_example.at("baseline_score")[size_t(n)] == doctest::Approx(fb).epsilon(1e-5));
  }
  Explanation gl = explain("blur-ig", request(sum_sq, x, {0, 0}),
                           {{"steps", "24"}, {"max-sigma", "3"}, {"rule", "gauss-legendre"}});
  // σ = 3 has radius 12 but there are only 5 samples; the σ-path is smooth except where the
  // radius steps (σ = k/4 − 1/8), so Gauss-Legendre is not exponentially accurate here.
  CHECK(max_abs(gl.per_example.at("completeness_gap")) < 0.02 * max_abs(gl.per_example.at("input_score")));
  CHECK(max_abs(e.per_example.at("completeness_gap")) < 0.1 * max_abs(e.per_example.at("input_score")));
  Explanation with_idgi = explain("blur-ig", request(sum_sq, x, {0, 0}),
                                  {{"steps", "24"}, {"max-sigma", "3"}, {"idgi", "true"}});
  CHECK(max_abs(with_idgi.per_example.at("completeness_gap")) < 1e-5);
}

TEST_CASE("idgi: on a linear model the segment changes split by w^2 / |w|^2; complete for any steps") {
  const Tensor x = random_tensor(Shape{3, 4}, 14);
  const std::vector<int64_t> targets = {1, 2, 0};
  for (int64_t steps : {1, 5, 32})
    for (const char* rule : {"riemann-left", "gauss-legendre"}) {
      INFO(rule << " steps " << steps);
      Explanation e = explain("idgi", request(kLinear, x, targets),
                              {{"steps", std::to_string(steps)}, {"rule", rule}, {"baseline", "white"}});
      const Tensor xb = make_baseline(x, "white", 0, 0);
      for (int64_t n = 0; n < 3; ++n) {
        const float* w = kW.data() + targets[size_t(n)] * 4;
        double delta = 0, norm2 = 0;
        for (int64_t i = 0; i < 4; ++i) {
          delta += double(w[i]) * (double(x[n * 4 + i]) - xb[n * 4 + i]);
          norm2 += double(w[i]) * w[i];
        }
        for (int64_t i = 0; i < 4; ++i)
          CHECK(e.attribution[n * 4 + i] == doctest::Approx(delta * w[i] * w[i] / norm2).epsilon(1e-4).scale(1e-6));
      }
      CHECK(max_abs(e.per_example.at("completeness_gap")) < 1e-5);
    }
  // --idgi on integrated-gradients is the same method.
  Request r = request(kTanhNet, random_tensor(Shape{2, 5}, 15), {0, 2});
  Explanation a = explain("idgi", r, {{"steps", "10"}});
  Explanation b = explain("integrated-gradients", r, {{"steps", "10"}, {"rule", "riemann-left"}, {"idgi", "true"}});
  CHECK(bitwise_equal(a.attribution, b.attribution));
  // On a non-linear model the gradient direction changes along the path, yet IDGI stays complete.
  CHECK(max_abs(a.per_example.at("completeness_gap")) < 1e-5);
}

TEST_CASE("expected-gradients: the seeded draws and a given draws file match a hand computation") {
  test::ScratchDir dir;
  const Tensor x = random_tensor(Shape{2, 5}, 16);
  const Tensor baselines = random_tensor(Shape{3, 5}, 17);
  const std::string base_file = (dir.path() / "baselines.npy").string();
  write_npy(base_file, baselines);
  // Hand computation with the documented draw order: for each example, for each sample, j then α.
  const int64_t S = 6;
  Rng rng(42);
  Tensor draws(Shape{2, S, 2});
  Tensor want(x.shape());
  const std::vector<int64_t> targets = {0, 1};
  for (int64_t n = 0; n < 2; ++n)
    for (int64_t s = 0; s < S; ++s) {
      const int64_t j = rng.below(3);
      const float alpha = float(rng.uniform());
      draws[(n * S + s) * 2] = float(j);
      draws[(n * S + s) * 2 + 1] = alpha;
      Tape tape;
      Tensor point(Shape{1, 5});
      for (int64_t i = 0; i < 5; ++i) point[i] = baselines[j * 5 + i] + alpha * (x[n * 5 + i] - baselines[j * 5 + i]);
      Var v = tape.input(point);
      Var y = kTanhNet.scores(tape, v);
      Tensor seed(y.shape());
      seed[targets[size_t(n)]] = 1.f;
      tape.backward(y, seed);
      for (int64_t i = 0; i < 5; ++i)
        want[n * 5 + i] += float((double(x[n * 5 + i]) - baselines[j * 5 + i]) * tape.grad(v)[i] / double(S));
    }
  const std::string draws_file = (dir.path() / "draws.npy").string();
  write_npy(draws_file, draws);
  Explanation seeded = explain("expected-gradients", request(kTanhNet, x, targets, 4),
                               {{"baselines", base_file}, {"samples", std::to_string(S)}, {"seed", "42"}});
  Explanation given = explain("expected-gradients", request(kTanhNet, x, targets, 4),
                              {{"baselines", base_file}, {"draws", draws_file}});
  CHECK(rel_l2(seeded.attribution, want) < 1e-6);
  CHECK(bitwise_equal(seeded.attribution, given.attribution));
  CHECK(seeded.backward_passes == 2 * S);
  Request r = request(kTanhNet, x, targets);
  CHECK_THROWS_WITH_AS(explain("expected-gradients", r, {}), doctest::Contains("--baselines"), Error);
  write_npy(draws_file, Tensor(Shape{2, S, 2}, 5.f));
  CHECK_THROWS_WITH_AS(explain("expected-gradients", r, {{"baselines", base_file}, {"draws", draws_file}}),
                       doctest::Contains("baseline index 5"), Error);
}

TEST_CASE("path methods match the PyTorch references (tools/make_path_references.py)") {
  struct Case {
    std::string method, file;
    std::map<std::string, std::string> options;
  };
  for (const char* name : {"mlp", "small_cnn"}) {
    const fs::path dir = fixture(name);
    Model model(load_onnx((dir / "model.onnx").string()));
    ModelFunction f(model);
    const Tensor x = read_npy((dir / "input.npy").string());
    const std::vector<int64_t> targets = fixture_targets(dir);
    const std::string baseline = std::string(name) == "mlp" ? "zero" : (dir / "path_baseline.npy").string();
    std::vector<Case> cases;
    const bool small = std::string(name) == "mlp";
    for (const char* rule : kRules)
      for (const char* steps : {"4", "16"})
        if (small || std::string(steps) == "4" || std::string(rule) == "gauss-legendre")
          cases.push_back({"integrated-gradients", str("path_ig_", rule, "_", steps, ".npy"),
                         {{"rule", rule}, {"steps", steps}, {"baseline", baseline}}});
    for (const char* rule : {"gauss-legendre", "riemann-left"}) {
      // 6 Gauss-Legendre nodes: at 8 a node of small_cnn has a max-pool near-tie (4.7e-8) that
      // float32 rounding breaks either way (make_path_references.py).
      const char* steps = std::string(rule) == "gauss-legendre" ? "6" : "8";
      cases.push_back({"idgi", str("path_idgi_", rule, "_", steps, ".npy"), {{"rule", rule}, {"steps", steps}, {"baseline", baseline}}});
      if (x.rank() == 4)
        cases.push_back({"blur-ig", str("path_blurig_", rule, "_8.npy"), {{"rule", rule}, {"steps", "8"}, {"max-sigma", "4"}}});
    }
    cases.push_back({"expected-gradients", "path_eg.npy",
                     {{"baselines", (dir / "path_eg_baselines.npy").string()},
                      {"draws", (dir / "path_eg_draws.npy").string()}}});
    for (const Case& c : cases) {
      INFO(name << " " << c.method << " " << c.file);
      const Tensor want = read_npy((dir / c.file).string());
      const Explanation e = explain(c.method, request(f, x, targets, 16), c.options);
      CHECK(rel_l2(e.attribution, want) < 1e-4);
    }
  }
}
