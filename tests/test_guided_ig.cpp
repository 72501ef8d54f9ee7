// Guided IG (attribution/guided_ig.cpp): the path's invariants observed through a function that
// records the points it is evaluated at (starts at x′, keeps the L1 schedule, stays within the
// max-dist band), the end at x (a linear model gives exactly (x − x′) ⊙ w), max-dist 0 is IG with
// the left Riemann rule, completeness shrinking with steps, IDGI, determinism over --batch and
// threads, and the PyTorch references of tools/make_path_references.py.
#include <omp.h>

#include <cmath>
#include <filesystem>

#include "attribution/method.h"
#include "attribution/path.h"
#include "engine/error.h"
#include "engine/ops.h"
#include "io/npy.h"
#include "io/onnx.h"
#include "layers/model.h"
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

const Tensor kW = random_tensor(Shape{3, 16}, 51);
const Tensor kB(Shape{3}, {0.3f, -0.2f, 0.1f});
const LambdaFunction kLinear([](Tape& t, Var x) {
  return matmul(x, transpose(t.constant(kW), {1, 0})) + t.constant(kB);
});

// tanh(x·W1ᵀ + b1)·W2ᵀ on 16 features.
const Tensor kW1 = random_tensor(Shape{10, 16}, 52, -0.7f, 0.7f), kB1 = random_tensor(Shape{10}, 53);
const Tensor kW2 = random_tensor(Shape{3, 10}, 54);
Var tanh_net(Tape& t, Var x) {
  Var h = tanh(matmul(x, transpose(t.constant(kW1), {1, 0})) + t.constant(kB1));
  return matmul(h, transpose(t.constant(kW2), {1, 0}));
}
const LambdaFunction kTanhNet(tanh_net);

// The same network, recording every batch of points it is evaluated at.
std::vector<Tensor> recorded;
const LambdaFunction kRecording([](Tape& t, Var x) {
  recorded.push_back(x.value().clone());
  return tanh_net(t, x);
});

}  // namespace

TEST_CASE("guided-ig of a linear model is (x - x') * w: the path ends exactly at the input") {
  const Tensor x = random_tensor(Shape{3, 16}, 4, -2.f, 2.f);
  const std::vector<int64_t> targets = {2, 0, 1};
  for (const char* baseline : {"zero", "black", "uniform"})
    for (const char* steps : {"1", "5", "40"})
      for (const char* fraction : {"0.1", "0.25", "1"})
        for (const char* max_dist : {"0", "0.02", "0.3", "1"}) {
          INFO(baseline << " steps " << steps << " fraction " << fraction << " max-dist " << max_dist);
          const Explanation e =
              explain("guided-ig", request(kLinear, x, targets),
                      {{"steps", steps}, {"fraction", fraction}, {"max-dist", max_dist}, {"baseline", baseline}});
          const Tensor xb = make_baseline(x, baseline, 0, 0);
          for (int64_t n = 0; n < 3; ++n)
            for (int64_t i = 0; i < 16; ++i) {
              const double want = (double(x[n * 16 + i]) - xb[n * 16 + i]) * kW[targets[size_t(n)] * 16 + i];
              CHECK(e.attribution[n * 16 + i] == doctest::Approx(want).epsilon(1e-5).scale(1e-6));
            }
          CHECK(max_abs(e.per_example.at("completeness_gap")) < 1e-5);
        }
}

TEST_CASE("guided-ig path: starts at the baseline, follows the L1 schedule, stays within the max-dist band") {
  const Tensor x = random_tensor(Shape{2, 16}, 5, -2.f, 2.f);
  const int64_t steps = 20;
  for (double max_dist : {0.02, 0.1, 1.0}) {
    INFO("max-dist " << max_dist);
    recorded.clear();
    explain("guided-ig", request(kRecording, x, {0, 1}, 2),
            {{"steps", std::to_string(steps)}, {"max-dist", std::to_string(max_dist)}, {"baseline", "uniform"}});
    // One gradient pass of both examples per step, then f(x) and f(x′) one row at a time; the
    // first step's pass is the --max-memory probe (one row), then one more row: joined here.
    REQUIRE(int64_t(recorded.size()) == steps + 5);
    REQUIRE(recorded[0].numel() == 16);
    Tensor first(Shape{2, 16});
    std::copy_n(recorded[0].data(), 16, first.data());
    std::copy_n(recorded[1].data(), 16, first.data() + 16);
    recorded.erase(recorded.begin());
    recorded[0] = first;
    const Tensor xb = make_baseline(x, "uniform", 0, 0);
    bool moved_unevenly = false;
    for (int64_t k = 0; k < steps; ++k) {
      const double alpha = double(k) / double(steps);  // point k is where step k − 1 ended
      for (int64_t n = 0; n < 2; ++n) {
        double l1 = 0, l1_total = 0;
        for (int64_t i = 0; i < 16; ++i) {
          const double p = recorded[size_t(k)][n * 16 + i], b = xb[n * 16 + i], d = double(x[n * 16 + i]) - b;
          l1 += std::fabs(p - x[n * 16 + i]);
          l1_total += std::fabs(d);
          if (k == 0) CHECK(p == b);
          if (std::fabs(d) < 0.05) continue;  // float rounding of p makes the progress of short moves inexact
          const double progress = (p - b) / d;
          CHECK(progress >= std::max(alpha - max_dist, 0.0) - 1e-5);
          CHECK(progress <= std::min(alpha + max_dist, 1.0) + 1e-5);
          if (std::fabs(progress - alpha) > 1e-3) moved_unevenly = true;
        }
        CHECK(l1 == doctest::Approx(l1_total * (1 - alpha)).epsilon(1e-5));
      }
    }
    CHECK(moved_unevenly);  // not the straight line
  }
}

TEST_CASE("guided-ig with max-dist 0 is integrated gradients with the left Riemann rule") {
  const Tensor x = random_tensor(Shape{3, 16}, 6, -2.f, 2.f);
  Request r = request(kTanhNet, x, {0, 1, 2});
  for (const char* steps : {"3", "17"}) {
    const Explanation g = explain("guided-ig", r, {{"steps", steps}, {"max-dist", "0"}, {"baseline", "black"}});
    const Explanation ig =
        explain("integrated-gradients", r, {{"steps", steps}, {"rule", "riemann-left"}, {"baseline", "black"}});
    CHECK(rel_l2(g.attribution, ig.attribution) < 1e-6);
  }
}

TEST_CASE("guided-ig completeness gap shrinks with steps; --idgi is complete") {
  const Tensor x = random_tensor(Shape{4, 16}, 7, -2.f, 2.f);
  const std::vector<int64_t> targets = {0, 1, 2, 1};
  std::vector<double> gaps;
  for (int64_t steps : {16, 64, 256}) {
    const Explanation e = explain("guided-ig", request(kTanhNet, x, targets, 64), {{"steps", std::to_string(steps)}});
    gaps.push_back(max_abs(e.per_example.at("completeness_gap")));
    for (int64_t i = 0; i < x.numel(); ++i) CHECK(std::isfinite(e.attribution[i]));
  }
  MESSAGE("guided-ig completeness gaps at 16/64/256 steps: " << gaps[0] << " " << gaps[1] << " " << gaps[2]);
  CHECK(gaps[1] < 0.5 * gaps[0]);
  CHECK(gaps[2] < 0.5 * gaps[1]);
  const Explanation with_idgi =
      explain("guided-ig", request(kTanhNet, x, targets, 64), {{"steps", "16"}, {"idgi", "true"}});
  CHECK(max_abs(with_idgi.per_example.at("completeness_gap")) < 1e-5);
  // On a linear model every segment's change is split by w² / ‖w‖².
  const Explanation linear = explain("guided-ig", request(kLinear, x, targets), {{"steps", "9"}, {"idgi", "true"}});
  for (int64_t n = 0; n < 4; ++n) {
    const float* w = kW.data() + targets[size_t(n)] * 16;
    double delta = 0, norm2 = 0;
    for (int64_t i = 0; i < 16; ++i) {
      delta += double(w[i]) * x[n * 16 + i];
      norm2 += double(w[i]) * w[i];
    }
    for (int64_t i = 0; i < 16; ++i)
      CHECK(linear.attribution[n * 16 + i] == doctest::Approx(delta * w[i] * w[i] / norm2).epsilon(1e-4).scale(1e-6));
  }
}

TEST_CASE("guided-ig: bitwise identical for --batch 1, 3, 64, 1 or 2 threads and --max-memory") {
  const fs::path dir = fixture("small_cnn");
  Model model(load_onnx((dir / "model.onnx").string()));
  ModelFunction f(model);
  const Tensor x = read_npy((dir / "input.npy").string());
  const std::vector<int64_t> targets = fixture_targets(dir);
  const int saved = omp_get_max_threads();
  std::vector<Explanation> runs;
  for (int threads : {1, 2}) {
    omp_set_num_threads(threads);
    for (int64_t batch : {1, 3, 64})
      runs.push_back(explain("guided-ig", request(f, x, targets, batch), {{"steps", "10"}, {"baseline", "black"}}));
  }
  omp_set_num_threads(saved);
  {
    test::MaxMemory budget(1);
    runs.push_back(explain("guided-ig", request(f, x, targets, 64), {{"steps", "10"}, {"baseline", "black"}}));
  }
  CHECK(runs.back().notes.at("chunk_rows") == "1");
  for (size_t i = 1; i < runs.size(); ++i) {
    INFO("run " << i);
    CHECK(bitwise_equal(runs[i].attribution, runs[0].attribution));
  }
  for (int64_t i = 0; i < x.numel(); ++i) REQUIRE(std::isfinite(runs[0].attribution[i]));
  CHECK(runs[0].backward_passes == 2 * 10);
  Request r = request(kLinear, random_tensor(Shape{1, 16}, 1), {0});
  CHECK_THROWS_WITH_AS(explain("guided-ig", r, {{"fraction", "0"}}), doctest::Contains("--fraction"), Error);
  CHECK_THROWS_WITH_AS(explain("guided-ig", r, {{"max-dist", "1.5"}}), doctest::Contains("--max-dist"), Error);
  CHECK_THROWS_WITH_AS(explain("guided-ig", r, {{"steps", "0"}}), doctest::Contains("--steps"), Error);
}

TEST_CASE("guided-ig matches the PyTorch references (tools/make_path_references.py)") {
  for (const char* name : {"mlp", "small_cnn"}) {
    const fs::path dir = fixture(name);
    Model model(load_onnx((dir / "model.onnx").string()));
    ModelFunction f(model);
    const Tensor x = read_npy((dir / "input.npy").string());
    const std::vector<int64_t> targets = fixture_targets(dir);
    const std::string baseline = std::string(name) == "mlp" ? "zero" : (dir / "path_baseline.npy").string();
    struct Case {
      std::string file;
      std::map<std::string, std::string> options;
    };
    const std::vector<Case> cases = {
        {"path_guidedig_32.npy", {{"steps", "32"}}},
        {"path_guidedig_32_d0.1_f0.1.npy", {{"steps", "32"}, {"max-dist", "0.1"}, {"fraction", "0.1"}}},
        {"path_guidedig_idgi_32.npy", {{"steps", "32"}, {"idgi", "true"}}},
    };
    for (const Case& c : cases) {
      INFO(name << " " << c.file);
      std::map<std::string, std::string> options = c.options;
      options["baseline"] = baseline;
      const Explanation e = explain("guided-ig", request(f, x, targets, 16), options);
      CHECK(rel_l2(e.attribution, read_npy((dir / c.file).string())) < 1e-4);
    }
  }
}
