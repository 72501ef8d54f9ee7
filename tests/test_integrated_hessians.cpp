// integrated-hessians (Janizek et al. 2021): the Gauss rule for the weight −ln t, closed forms
// (x0·x1 and a quadratic form with a non-zero baseline), interaction completeness (rows sum to
// integrated gradients, the matrix to f(x) − f(x′)), symmetry, convergence of both rules,
// --features rows, --softplus-beta against an explicitly smoothed model, determinism across
// --batch and thread counts, --max-memory, errors, the CLI, and the PyTorch reference
// (tools/make_path_references.py) for the mlp fixture.
#include <omp.h>
#include <sys/wait.h>

#include <cmath>
#include <filesystem>
#include <fstream>

#include "attribution/method.h"
#include "attribution/path.h"
#include "engine/error.h"
#include "engine/ops.h"
#include "graph_builder.h"
#include "io/npy.h"
#include "io/onnx.h"
#include "layers/model.h"
#include "cli_runner.h"
#include "scratch_dir.h"
#include "method_testing.h"
#include "support.h"

using namespace gradlens;
using gradlens::test::bitwise_equal;
using gradlens::test::random_tensor;
using gradlens::test::rel_l2;
using gradlens::test::explain;
using gradlens::test::max_abs;
namespace fs = std::filesystem;

namespace {

Request request(const Function& f, const Tensor& x, std::vector<int64_t> targets, int64_t batch = 16) {
  return test::request(f, x, std::move(targets), batch);
}

// A smooth network with interactions: softplus(x·W1 + b1) ⊙ tanh(x·W3) · W2, 5 features, 4
// classes. (The hidden width keeps every product at M + N + K >= 20, where the engine's GEMM takes
// the same path for any number of rows, so rows are bitwise independent of the batch.)
const Tensor kW1 = random_tensor(Shape{5, 16}, 41, -0.6f, 0.6f), kB1 = random_tensor(Shape{16}, 42);
const Tensor kW3 = random_tensor(Shape{5, 16}, 43, -0.6f, 0.6f), kW2 = random_tensor(Shape{16, 4}, 44);
const LambdaFunction kSmoothNet([](Tape& t, Var x) {
  Var h = softplus(matmul(x, t.constant(kW1)) + t.constant(kB1)) * tanh(matmul(x, t.constant(kW3)));
  return matmul(h, t.constant(kW2));
});

// Γ[n] as a d×d view.
double gamma_at(const Tensor& g, int64_t n, int64_t i, int64_t j) {
  const int64_t rows = g.dim(1), d = g.dim(2);
  return g[(n * rows + i) * d + j];
}

}  // namespace

TEST_CASE("gauss-log quadrature: exact for t^m against the weight -ln t up to m = 2n - 1") {
  for (int64_t n : {1, 2, 3, 8, 16, 40}) {
    const Quadrature q = gauss_log_quadrature(n);
    REQUIRE(int64_t(q.nodes.size()) == n);
    double total = 0;
    for (int64_t k = 0; k < n; ++k) {
      CHECK(q.nodes[size_t(k)] > 0.0);
      CHECK(q.nodes[size_t(k)] < 1.0);
      CHECK(q.weights[size_t(k)] > 0.0);
      if (k) CHECK(q.nodes[size_t(k)] > q.nodes[size_t(k - 1)]);
      total += q.weights[size_t(k)];
    }
    CHECK(total == doctest::Approx(1.0).epsilon(1e-13));
    for (int64_t m = 0; m < 2 * n; ++m) {
      double s = 0;
      for (int64_t k = 0; k < n; ++k) s += q.weights[size_t(k)] * std::pow(q.nodes[size_t(k)], double(m));
      INFO("n = " << n << ", m = " << m);
      CHECK(s == doctest::Approx(1.0 / double((m + 1) * (m + 1))).epsilon(1e-12));
    }
  }
  // The two-node rule from the tables: t = 0.112008806..., 0.602276908...
  const Quadrature two = gauss_log_quadrature(2);
  CHECK(two.nodes[0] == doctest::Approx(0.1120088061669761).epsilon(1e-12));
  CHECK(two.nodes[1] == doctest::Approx(0.6022769081187381).epsilon(1e-12));
  CHECK_THROWS_AS(gauss_log_quadrature(0), Error);
}

TEST_CASE("integrated-hessians of x0*x1 (zero baseline): every entry is x0 x1 / 4, for any steps and both rules") {
  const LambdaFunction f([](Tape&, Var x) { return column(x, 0) * column(x, 1); });
  const Tensor x(Shape{2, 2}, {0.8f, -1.5f, 2.f, 0.5f});
  for (const std::string rule : {"gauss-log", "gauss-legendre-product"})
    for (const char* steps : {"1", "3", "8"}) {
      const Explanation e = explain("integrated-hessians", request(f, x, {0, 0}), {{"rule", rule}, {"steps", steps}});
      REQUIRE(e.attribution.shape() == Shape{2, 2, 2});
      for (int64_t n = 0; n < 2; ++n) {
        const double want = double(x[n * 2]) * x[n * 2 + 1] / 4.0;
        for (int64_t i = 0; i < 2; ++i)
          for (int64_t j = 0; j < 2; ++j) {
            INFO(rule << " steps " << steps << " n " << n << " (" << i << "," << j << ")");
            CHECK(gamma_at(e.attribution, n, i, j) == doctest::Approx(want).epsilon(1e-6));
          }
      }
      CHECK(max_abs(e.per_example.at("completeness_gap")) < 1e-6);
    }
}

TEST_CASE("integrated-hessians of a quadratic form with a non-zero baseline matches the closed form") {
  // f(x) = xᵀAx + bᵀx, S = A + Aᵀ, Δ = x − x′:
  //   Γ_ij = Δ_i Δ_j S_ij / 4 + δ_ij Δ_i ((S x′ + b)_i + (S Δ)_i / 4).
  const int64_t d = 4;
  const Tensor A = random_tensor(Shape{d, d}, 51), b = random_tensor(Shape{d, 1}, 52);
  const LambdaFunction f([&](Tape& t, Var x) {
    return sum(x * matmul(x, t.constant(A)), {1}) + sum(matmul(x, t.constant(b)), {1});
  });
  const Tensor x = random_tensor(Shape{2, d}, 53, -2.f, 2.f);
  const Tensor base = make_baseline(x, "mean", 0, 0);  // per-example mean: non-zero
  const Explanation e = explain("integrated-hessians", request(f, x, {0, 0}), {{"baseline", "mean"}, {"steps", "2"}});
  for (int64_t n = 0; n < 2; ++n) {
    double delta[d], xb[d];
    for (int64_t i = 0; i < d; ++i) {
      xb[i] = base[n * d + i];
      delta[i] = double(x[n * d + i]) - xb[i];
    }
    for (int64_t i = 0; i < d; ++i)
      for (int64_t j = 0; j < d; ++j) {
        const double s_ij = double(A[i * d + j]) + A[j * d + i];
        double want = delta[i] * delta[j] * s_ij / 4.0;
        if (i == j) {
          double sxb = b[i], sdelta = 0;
          for (int64_t k = 0; k < d; ++k) {
            const double s_ik = double(A[i * d + k]) + A[k * d + i];
            sxb += s_ik * xb[k];
            sdelta += s_ik * delta[k];
          }
          want += delta[i] * (sxb + sdelta / 4.0);
        }
        INFO("n " << n << " (" << i << "," << j << ")");
        CHECK(gamma_at(e.attribution, n, i, j) == doctest::Approx(want).epsilon(2e-5).scale(1.0));
      }
  }
  MESSAGE("quadratic form: completeness gap " << max_abs(e.per_example.at("completeness_gap")));
  CHECK(max_abs(e.per_example.at("completeness_gap")) < 1e-5);
}

TEST_CASE("integrated-hessians: rows sum to integrated gradients, the matrix is symmetric, the gap shrinks with steps") {
  const Tensor x = random_tensor(Shape{3, 5}, 61, -1.5f, 1.5f);
  const Request r = request(kSmoothNet, x, {0, 1, 2});
  const Explanation ig = explain("integrated-gradients", r, {{"steps", "64"}});
  const Explanation ih = explain("integrated-hessians", r, {{"steps", "16"}});
  Tensor row_sums(x.shape());
  double asym = 0, scale = 0;
  for (int64_t n = 0; n < 3; ++n)
    for (int64_t i = 0; i < 5; ++i) {
      double s = 0;
      for (int64_t j = 0; j < 5; ++j) {
        s += gamma_at(ih.attribution, n, i, j);
        asym = std::max(asym, std::fabs(gamma_at(ih.attribution, n, i, j) - gamma_at(ih.attribution, n, j, i)));
        scale = std::max(scale, std::fabs(gamma_at(ih.attribution, n, i, j)));
      }
      row_sums[n * 5 + i] = float(s);
    }
  const double row_error = rel_l2(row_sums, ig.attribution);
  MESSAGE("smooth net, 16 gauss-log nodes: rows vs IG rel. L2 " << row_error << ", max |Γij − Γji| / max |Γ| "
                                                                << asym / scale << ", completeness gap "
                                                                << max_abs(ih.per_example.at("completeness_gap")));
  CHECK(row_error < 1e-5);
  CHECK(asym < 1e-5 * scale);
  CHECK(max_abs(ih.per_example.at("completeness_gap")) < 1e-5 * max_abs(ih.per_example.at("input_score")) + 1e-6);

  // Convergence against the 16-node result: gauss-log with n² nodes against the n×n Gauss–Legendre
  // product (the same n² points' cost), and gauss-log decreasing with n.
  double previous_log = 1e300;
  for (int64_t n : {1, 2, 3}) {
    const Explanation lg = explain("integrated-hessians", r, {{"steps", std::to_string(n * n)}});
    const Explanation pr = explain("integrated-hessians", r, {{"steps", std::to_string(n)}, {"rule", "gauss-legendre-product"}});
    const double gl = rel_l2(lg.attribution, ih.attribution), gp = rel_l2(pr.attribution, ih.attribution);
    MESSAGE((n * n) << " points: gauss-log error " << gl << ", gauss-legendre-product (" << n << "x" << n
                  << ") error " << gp);
    CHECK(gl < previous_log);
    if (n > 1) CHECK(gl < gp);
    previous_log = gl;
  }
  CHECK(previous_log < 1e-4);
}

TEST_CASE("integrated-hessians: --features selects rows of the full matrix") {
  const Tensor x = random_tensor(Shape{2, 5}, 71);
  const Request r = request(kSmoothNet, x, {1, 0}, 7);
  const Explanation all = explain("integrated-hessians", r, {{"steps", "4"}});
  const Explanation some = explain("integrated-hessians", r, {{"steps", "4"}, {"features", "3,0-1"}});
  REQUIRE(some.attribution.shape() == Shape{2, 3, 5});
  const int64_t rows[3] = {3, 0, 1};
  // Equal up to the last bits: the rows run in chunks of another composition, and the engine's
  // GEMM does not guarantee bitwise row results across row counts (see the determinism test).
  for (int64_t n = 0; n < 2; ++n)
    for (int64_t i = 0; i < 3; ++i)
      for (int64_t j = 0; j < 5; ++j)
        CHECK(gamma_at(some.attribution, n, i, j) == doctest::Approx(gamma_at(all.attribution, n, rows[i], j)).epsilon(1e-6));
  CHECK(some.per_example.count("completeness_gap") == 0);
  for (const char* bad : {"5", "1,1", "2-1", "a", "", "0,-3"})
    CHECK_THROWS_WITH_AS(explain("integrated-hessians", r, {{"features", bad}}), doctest::Contains("--features"), Error);
}

TEST_CASE("integrated-hessians: --softplus-beta equals the same network written with softplus") {
  const Tensor W1 = random_tensor(Shape{4, 6}, 81), W2 = random_tensor(Shape{6, 2}, 82);
  const LambdaFunction with_relu([&](Tape& t, Var x) { return matmul(relu(matmul(x, t.constant(W1))), t.constant(W2)); });
  const LambdaFunction with_softplus(
      [&](Tape& t, Var x) { return matmul(softplus(matmul(x, t.constant(W1)), 5.f), t.constant(W2)); });
  const Tensor x = random_tensor(Shape{2, 4}, 83);
  const Explanation a = explain("integrated-hessians", request(with_relu, x, {0, 1}), {{"softplus-beta", "5"}});
  const Explanation b = explain("integrated-hessians", request(with_softplus, x, {0, 1}), {});
  CHECK(bitwise_equal(a.attribution, b.attribution));
  CHECK(a.per_example.at("input_score") == b.per_example.at("input_score"));
  CHECK(max_abs(a.per_example.at("completeness_gap")) < 1e-5);
  // Without it the ReLU network's Hessian is zero almost everywhere: only the diagonal's gradient
  // term remains, and interaction completeness fails.
  const Explanation plain = explain("integrated-hessians", request(with_relu, x, {0, 1}), {});
  for (int64_t n = 0; n < 2; ++n)
    for (int64_t i = 0; i < 4; ++i)
      for (int64_t j = 0; j < 4; ++j)
        if (i != j) CHECK(gamma_at(plain.attribution, n, i, j) == 0.0);
}

TEST_CASE("integrated-hessians: bitwise identical for 1 or 2 threads; --batch and --max-memory change only the last bits") {
  // Rows are independent and summed in row order, so the thread count cannot matter. Across
  // --batch the chunks hold other numbers of rows, and the engine's GEMM (Eigen per block) may
  // round a row differently for another row count (integrated-gradients behaves the same on these
  // models), so those runs agree to float precision instead.
  const Tensor x = random_tensor(Shape{2, 5}, 91);
  const int saved = omp_get_max_threads();
  std::vector<Explanation> runs;
  for (int64_t batch : {1, 7, 64})
    for (int threads : {1, 2}) {
      omp_set_num_threads(threads);
      runs.push_back(explain("integrated-hessians", request(kSmoothNet, x, {0, 2}, batch), {{"steps", "6"}}));
    }
  omp_set_num_threads(saved);
  // --max-memory of three one-row tapes (the tape of a one-row run, which includes the part every
  // chunk holds whatever its rows) gives chunks of at least three rows, within the budget.
  int64_t row_bytes = 0;
  {
    test::MaxMemory budget(1);
    row_bytes = std::stoll(explain("integrated-hessians", request(kSmoothNet, x, {0, 2}, 64), {{"steps", "6"}})
                               .notes.at("tape_bytes"));
  }
  {
    test::MaxMemory budget(3 * row_bytes);
    runs.push_back(explain("integrated-hessians", request(kSmoothNet, x, {0, 2}, 64), {{"steps", "6"}}));
  }
  for (size_t i = 0; i + 1 < runs.size(); i += 2) CHECK(bitwise_equal(runs[i].attribution, runs[i + 1].attribution));
  for (size_t i = 1; i < runs.size(); ++i) {
    INFO("run " << i);
    CHECK(rel_l2(runs[i].attribution, runs[0].attribution) < 1e-6);
  }
  const Explanation& probed = runs.back();
  CHECK(std::stoll(probed.notes.at("chunk_rows")) >= 3);
  CHECK(std::stoll(probed.notes.at("tape_bytes")) <= 3 * row_bytes);
  CHECK(std::stoll(probed.notes.at("chunks")) > 2);
}

TEST_CASE("integrated-hessians: an op without a second-derivative rule is a one-line error naming it") {
  test::GraphBuilder b(95);
  b.input("x", {-1, 3});
  std::string t = b.linear("x", 3, 4);
  t = b.node("Einsum", {t, t}, {{"equation", Attribute::of(std::string("ni,nj->nij"))}}, "einsum_7");
  t = b.node("Flatten", {t});
  t = b.linear(t, 16, 2);
  b.output(t);
  Model model(b.build());
  ModelFunction f(model);
  CHECK_THROWS_WITH_AS(explain("integrated-hessians", request(f, random_tensor(Shape{1, 3}, 96), {0}), {}),
                       "integrated-hessians: op Einsum (node 'einsum_7') has no second-derivative rule", Error);
  CHECK_THROWS_WITH_AS(explain("integrated-hessians", request(f, random_tensor(Shape{1, 3}, 96), {0}), {{"rule", "simpson"}}),
                       doctest::Contains("--rule 'simpson'"), Error);
}

TEST_CASE("integrated-hessians matches the PyTorch float64 reference on the mlp fixture (softplus beta 10)") {
  const fs::path dir = fs::path(GRADLENS_TEST_DATA) / "fixtures" / "mlp";
  Model model(load_onnx((dir / "model.onnx").string()));
  ModelFunction f(model);
  const Tensor x = read_npy((dir / "input.npy").string());
  const Tensor target = read_npy((dir / "target.npy").string());
  std::vector<int64_t> targets;
  for (int64_t i = 0; i < target.numel(); ++i) targets.push_back(int64_t(target[i]));
  const Explanation e = explain("integrated-hessians", request(f, x, targets),
                               {{"steps", "8"}, {"softplus-beta", "10"}});
  const Tensor want = read_npy((dir / "path_ih_gauss-log_8_softplus10.npy").string());
  REQUIRE(e.attribution.shape() == want.shape());
  const double err = rel_l2(e.attribution, want);
  MESSAGE("mlp integrated Hessians vs PyTorch float64: rel. L2 " << err << ", completeness gap "
                                                                 << max_abs(e.per_example.at("completeness_gap")));
  CHECK(err < 1e-4);
}

TEST_CASE("integrated-hessians rows match the PyTorch float64 reference on small_cnn (Conv, Pad, pools; softplus beta 10)") {
  const fs::path dir = fs::path(GRADLENS_TEST_DATA) / "fixtures" / "small_cnn";
  Model model(load_onnx((dir / "model.onnx").string()));
  ModelFunction f(model);
  const Tensor x = read_npy((dir / "input.npy").string());
  const Tensor target = read_npy((dir / "target.npy").string());
  std::vector<int64_t> targets;
  for (int64_t i = 0; i < target.numel(); ++i) targets.push_back(int64_t(target[i]));
  const Explanation e = explain("integrated-hessians", request(f, x, targets),
                               {{"steps", "4"}, {"softplus-beta", "10"}, {"baseline", (dir / "path_baseline.npy").string()},
                                {"features", "0,1000,2500,3071"}});
  const Tensor want = read_npy((dir / "path_ih_gauss-log_4_softplus10_rows.npy").string());
  REQUIRE(e.attribution.shape() == want.shape());
  const double err = rel_l2(e.attribution, want);
  MESSAGE("small_cnn integrated-Hessian rows vs PyTorch float64: rel. L2 " << err);
  CHECK(err < 1e-4);
}

using test::CliRun;
using test::kCli;
using test::run_cli;

TEST_CASE("integrated-hessians on the command line: methods, explain --out-npy, and the refused renderings") {
  if (!*kCli || !fs::is_regular_file(kCli)) {
    MESSAGE("SKIPPED: the gradlens CLI binary is not built");
    return;
  }
  test::ScratchDir scratch;
  const CliRun listed = run_cli(scratch, {"methods", "--json"});
  CHECK(listed.exit_code == 0);
  CHECK(listed.out.find("\"name\":\"integrated-hessians\",\"family\":\"path\"") != std::string::npos);
  CHECK(listed.out.find("\"output\":\"interaction matrix [N,d_sel,d]\"") != std::string::npos);
  CHECK(listed.out.find("\"name\":\"softplus-beta\"") != std::string::npos);

  const fs::path dir = fs::path(GRADLENS_TEST_DATA) / "fixtures" / "mlp";
  const std::string model = (dir / "model.onnx").string(), input = (dir / "input.npy").string();
  const std::vector<std::string> base = {"explain", model, input, "--method", "integrated-hessians",
                                         "--softplus-beta", "10", "--steps", "2", "--features", "0-2"};
  std::vector<std::string> args = base;
  for (const char* a : {"--out-npy", "", "--json"}) args.push_back(a);
  args[args.size() - 2] = scratch / "ih.npy";
  const CliRun ok = run_cli(scratch, args);
  INFO("stderr: " << ok.err);
  REQUIRE(ok.exit_code == 0);
  CHECK(read_npy(scratch / "ih.npy").shape() == Shape{2, 3, 20});
  CHECK(ok.out.find("\"attribution_shape\":[2,3,20]") != std::string::npos);
  CHECK(ok.out.find("\"interaction_sum\"") != std::string::npos);

  args = base;
  args.push_back("--out-png");
  args.push_back(scratch / "ih.png");
  const CliRun png = run_cli(scratch, args);
  CHECK(png.exit_code == 2);
  CHECK(png.err.find("--out-png: method 'integrated-hessians' produces an interaction matrix") != std::string::npos);
  CHECK(std::count(png.err.begin(), png.err.end(), '\n') == 1);

  const CliRun compare = run_cli(scratch, {"compare", (fs::path(GRADLENS_TEST_DATA) / "fixtures" / "small_cnn" / "model.onnx").string(),
                                           scratch / "missing.png", "--methods", "saliency,integrated-hessians",
                                           "--out", scratch / "cmp"});
  CHECK(compare.exit_code == 2);
  CHECK(compare.err.find("method 'integrated-hessians' produces an interaction matrix [N,d_sel,d], which compare cannot render") != std::string::npos);
}
