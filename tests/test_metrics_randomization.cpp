// Model-randomisation test (Adebayo et al. 2018) and its similarity measures against closed forms:
// Spearman of known rankings (ties as average ranks), top-k on hand-made maps, HOG of a constant
// image (all zeros) and of a vertical edge (one orientation bin); re-drawing a layer the scores do
// not depend on leaves the map unchanged (every similarity 1); re-drawing the Gemm of a linear
// model turns its gradient map into the re-drawn row w′_c = μ + σz, z from the documented seed;
// bitwise identical for 1, 2 and 3 threads; bad options. random-logit and the robustness metrics
// recompute maps with the function the given maps explain (MetricInput::map_function).
#include <doctest/doctest.h>
#include <omp.h>

#include <cmath>
#include <cstdio>
#include <filesystem>

#include "attribution/function.h"
#include "attribution/method.h"
#include "attribution/metrics/metric.h"
#include "attribution/metrics/randomized_model.h"
#include "attribution/metrics/similarity.h"
#include "engine/error.h"
#include "engine/random.h"
#include "graph_builder.h"
#include "io/npy.h"
#include "io/onnx.h"
#include "method_testing.h"
#include "metric_testing.h"
#include "support.h"

using namespace gradlens;
using namespace gradlens::test;

TEST_CASE("spearman: known rankings, ties as average ranks, constant maps") {
  CHECK(spearman({1, 2, 3, 4}, {10, 20, 30, 40}) == doctest::Approx(1.0));
  CHECK(spearman({1, 2, 3, 4}, {4, 3, 2, 1}) == doctest::Approx(-1.0));
  CHECK(spearman({1, 2, 3, 4}, {1, 4, 9, 100}) == doctest::Approx(1.0));  // monotone, not linear
  CHECK(average_ranks({3, 1, 3, 2}) == std::vector<double>{3.5, 1, 3.5, 2});
  // ranks (1, 2.5, 2.5, 4) against (1, 2, 3, 4): 4.5 / √(4.5 · 5)
  CHECK(spearman({1, 2, 2, 3}, {1, 2, 3, 4}) == doctest::Approx(4.5 / std::sqrt(22.5)).epsilon(1e-12));
  // d = (0, 1, −1, 0, 0): 1 − 6·2 / (5·24) = 0.9
  CHECK(spearman({1, 2, 3, 4, 5}, {1, 3, 2, 4, 5}) == doctest::Approx(0.9).epsilon(1e-12));
  CHECK(spearman({2, 2, 2}, {5, 5, 5}) == 1.0);
  CHECK(spearman({2, 2, 2}, {1, 2, 3}) == 0.0);
}

TEST_CASE("top-k intersection on hand-made maps") {
  CHECK(top_k_intersection({9, 8, 7, 1, 0, 0}, {0, 8, 9, 7, 1, 0}, 3) == doctest::Approx(2.0 / 3.0));
  CHECK(top_k_intersection({9, 8, 7, 1, 0, 0}, {9, 8, 7, 1, 0, 0}, 2) == 1.0);
  CHECK(top_k_intersection({1, 2, 3, 4}, {4, 3, 2, 1}, 2) == 0.0);
  CHECK(top_k_intersection({1, 1, 1, 1}, {0, 0, 0, 1}, 1) == 0.0);  // the tie goes to index 0
  CHECK(top_k_intersection({1, 1, 1, 1}, {1, 0, 0, 0}, 1) == 1.0);
}

TEST_CASE("HOG: a constant image has no gradients; a vertical edge fills bin 0 only") {
  const std::vector<double> flat(16 * 16, 0.7);
  const std::vector<double> h = hog(flat, 16, 16, 4);
  REQUIRE(h.size() == size_t(3 * 3 * 4 * kHogBins));  // 4 × 4 cells, 3 × 3 blocks of 2 × 2 cells
  for (double v : h) CHECK(v == 0.0);
  CHECK(hog(flat, 15, 16, 8).empty());  // fewer than 2 × 2 cells
  std::vector<double> edge(16 * 16, 0.0), across(16 * 16, 0.0);
  for (int y = 0; y < 16; ++y)
    for (int x = 8; x < 16; ++x) edge[size_t(y * 16 + x)] = 1.0, across[size_t(x * 16 + y)] = 1.0;
  const std::vector<double> e = hog(edge, 16, 16, 4);
  for (size_t i = 0; i < e.size(); ++i)
    if (i % kHogBins != 0) CHECK(e[i] == 0.0);
  // Columns 7 and 8 have g_x = 1: cells in cell columns 1 and 2 hold 4·1/16 in bin 0. Block (0, 1)
  // holds four such cells: ¼ each → ½ each, clipped to 0.2 and renormalised back to ½; block (0, 0)
  // holds two (cell column 1 of both rows) → 1/√2 each, clipped and renormalised back to 1/√2.
  CHECK(e[size_t(1 * 36 + 0)] == doctest::Approx(0.5).epsilon(1e-9));              // block (0, 1), cell (0, 1)
  CHECK(e[size_t(1 * 36 + 9)] == doctest::Approx(0.5).epsilon(1e-9));              // block (0, 1), cell (0, 2)
  CHECK(e[size_t(0 * 36 + 9)] == doctest::Approx(std::sqrt(0.5)).epsilon(1e-9));   // block (0, 0), cell (0, 1)
  CHECK(e[size_t(0 * 36 + 0)] == 0.0);                                              // block (0, 0), cell (0, 0)
  CHECK(hog_similarity(edge, edge, 16, 16, 4) == doctest::Approx(1.0));
  CHECK(hog_similarity(edge, across, 16, 16, 4) < 0.0);  // bin 0 against the 90° bin
  CHECK(hog_similarity(flat, flat, 16, 16, 4) == 1.0);
}

namespace {
constexpr int64_t kD = 12;
// logits = x Wᵀ + b (3 classes) and a second output aux = x Vᵀ + c the logits do not depend on.
Graph two_head_graph() {
  GraphBuilder b(41);
  b.input("x", {-1, kD});
  b.node("Gemm", {"x", b.weight("W", Shape{3, kD}), b.weight("b", Shape{3})}, {{"transB", Attribute::of(1)}}, "logits");
  b.node("Gemm", {"x", b.weight("V", Shape{4, kD}), b.weight("c", Shape{4})}, {{"transB", Attribute::of(1)}}, "aux");
  b.output("logits").output("aux");
  return b.build();
}

MetricInput gradient_input(const Function& f, const Tensor& x, std::vector<int64_t> targets) {
  Request r;
  r.function = &f;
  r.input = x;
  r.targets = targets;
  MetricInput in;
  in.function = &f;
  in.input = x;
  in.attribution = method("gradient").explain(r).attribution;
  in.targets = targets;
  in.method = &method("gradient");
  in.seed = 5;
  return in;
}

std::vector<double> abs_of(const std::vector<double>& v) {
  std::vector<double> out;
  for (double e : v) out.push_back(std::fabs(e));
  return out;
}
}  // namespace

TEST_CASE("model-randomization: a layer the scores do not depend on leaves the map unchanged") {
  const Model model(two_head_graph());
  const std::vector<ParametrisedLayer> layers = parametrised_layers(model);
  REQUIRE(layers.size() == 2);
  CHECK(layers[0].tensors.size() == 2);
  const ModelFunction f(model, ScoreKind::logit);
  const MetricInput in = gradient_input(f, random_tensor(Shape{2, kD}, 42), {0, 2});
  const MetricResult r = run_metric("model-randomization", in, {{"layers", "aux"}, {"randomization", "independent"}});
  for (const char* m : {"spearman_abs", "spearman", "ssim", "top_k"})
    for (double v : r.per_example.at(std::string("independent:000:") + m + ":aux")) CHECK(v == 1.0);
  CHECK(r.values == std::vector<double>{1.0, 1.0});
  CHECK(!r.per_example.count("hog"));  // a 1 × 12 map holds no HOG block
}

TEST_CASE("model-randomization: re-drawing a linear model's weights gives the re-drawn row as its gradient") {
  const Model model(two_head_graph());
  const std::vector<ParametrisedLayer> layers = parametrised_layers(model);
  const int64_t l = layers[0].name == "logits" ? 0 : 1;
  REQUIRE(layers[size_t(l)].tensors == std::vector<std::string>{"W", "b"});
  const Tensor& W = model.graph().initializers.at("W").value;
  double mu = 0, var = 0;
  for (int64_t i = 0; i < W.numel(); ++i) mu += W[i] / double(W.numel());
  for (int64_t i = 0; i < W.numel(); ++i) var += (W[i] - mu) * (W[i] - mu) / double(W.numel());
  Rng rng(5 * 1000003u + uint64_t(l) * 1009u + 0u);
  std::vector<double> redrawn;
  for (int64_t i = 0; i < W.numel(); ++i) redrawn.push_back(double(float(mu + std::sqrt(var) * rng.normal())));

  const ModelFunction f(model, ScoreKind::logit);
  const Tensor x = random_tensor(Shape{2, kD}, 43);
  const MetricInput in = gradient_input(f, x, {0, 2});
  // The copy's gradient is the re-drawn row of the target; the original model is untouched.
  const std::unique_ptr<Model> copy = randomized_model(model, layers, {l}, 5);
  const ModelFunction g(*copy, ScoreKind::logit);
  const MetricInput after = gradient_input(g, x, {0, 2});
  for (int64_t n = 0; n < 2; ++n)
    for (int64_t i = 0; i < kD; ++i) {
      const int64_t c = in.targets[size_t(n)];
      CHECK(after.attribution[n * kD + i] == doctest::Approx(redrawn[size_t(c * kD + i)]).epsilon(1e-6));
      CHECK(in.attribution[n * kD + i] == W[c * kD + i]);
    }
  CHECK(model.graph().initializers.at("W").value[0] == W[0]);

  const MetricResult r = run_metric("model-randomization", in, {{"layers", "logits"}, {"top-k", "0.25"}});
  for (int64_t n = 0; n < 2; ++n) {
    const int64_t c = in.targets[size_t(n)];
    const std::vector<double> before(W.data() + c * kD, W.data() + (c + 1) * kD);
    const std::vector<double> now(redrawn.begin() + c * kD, redrawn.begin() + (c + 1) * kD);
    for (const char* mode : {"cascading", "independent"}) {
      const std::string k = std::string(mode) + ":000:";
      CHECK(r.per_example.at(k + "spearman:logits")[size_t(n)] == doctest::Approx(spearman(before, now)).epsilon(1e-6));
      CHECK(r.per_example.at(k + "spearman_abs:logits")[size_t(n)] ==
            doctest::Approx(spearman(abs_of(before), abs_of(now))).epsilon(1e-6));
      CHECK(r.per_example.at(k + "top_k:logits")[size_t(n)] ==
            doctest::Approx(top_k_intersection(abs_of(before), abs_of(now), 3)));
    }
    CHECK(r.values[size_t(n)] == r.per_example.at("cascading:000:spearman_abs:logits")[size_t(n)]);
    CHECK(r.values[size_t(n)] < 0.9);
  }
  CHECK(r.forward_passes == 4);
  CHECK(r.maps.at("cascading").shape() == Shape{2, 1, kD});
}

TEST_CASE("model-randomization: cascading and independent steps on small_cnn, bitwise for 1, 2, 3 threads") {
  const auto dir = fixture("small_cnn");
  const Model model(load_onnx((dir / "model.onnx").string()));
  const std::vector<ParametrisedLayer> layers = parametrised_layers(model);
  REQUIRE(layers.size() == 4);  // two Conv, two Gemm; output side first
  CHECK(layers[0].op == "Gemm");
  CHECK(layers[3].op == "Conv");
  const ModelFunction f(model, ScoreKind::logit);
  const MetricInput in = gradient_input(f, read_npy((dir / "input.npy").string()), fixture_targets(dir));
  const int saved = omp_get_max_threads();
  std::vector<MetricResult> runs;
  for (int threads : {1, 2, 3}) {
    omp_set_num_threads(threads);
    runs.push_back(run_metric("model-randomization", in));
  }
  omp_set_num_threads(saved);
  CHECK(runs[0].per_example == runs[1].per_example);
  CHECK(runs[0].per_example == runs[2].per_example);
  CHECK(runs[0].values == runs[2].values);
  const MetricResult& r = runs[0];
  // The first cascading step is the first independent one; the last cascading step is the value.
  const std::string top = layers[0].name, bottom = layers[3].name;
  CHECK(r.per_example.at("cascading:000:ssim:" + top) == r.per_example.at("independent:000:ssim:" + top));
  CHECK(r.values == r.per_example.at("cascading:003:spearman_abs:" + bottom));
  CHECK(r.per_example.at("hog") == r.per_example.at("cascading:003:hog:" + bottom));
  CHECK(r.maps.at("cascading").shape() == Shape{5, 32, 32});
  for (double v : r.values) CHECK(v < 0.9);
  // Another seed re-draws other weights.
  MetricInput other = in;
  other.seed = 6;
  CHECK(run_metric("model-randomization", other, {{"randomization", "cascading"}}).values != r.values);
}

TEST_CASE("model-randomization: bad options and inputs name the metric") {
  const Model model(two_head_graph());
  const ModelFunction f(model, ScoreKind::logit);
  const MetricInput in = gradient_input(f, random_tensor(Shape{2, kD}, 44), {0, 1});
  CHECK_THROWS_WITH_AS(run_metric("model-randomization", in, {{"layers", "nope"}}),
                       doctest::Contains("no layer with weights named 'nope'"), Error);
  CHECK_THROWS_WITH_AS(run_metric("model-randomization", in, {{"top-k", "0"}}), doctest::Contains("--top-k"), Error);
  CHECK_THROWS_WITH_AS(run_metric("model-randomization", in, {{"top-k", "1.5"}}), doctest::Contains("--top-k"), Error);
  CHECK_THROWS_WITH_AS(run_metric("model-randomization", in, {{"randomization", "all"}}),
                       doctest::Contains("--randomization"), Error);
  MetricInput no_method = in;
  no_method.method = nullptr;
  CHECK_THROWS_WITH_AS(run_metric("model-randomization", no_method), doctest::Contains("needs the method"), Error);
  const LambdaFunction lambda([](Tape&, Var x) { return x; });
  MetricInput analytic = in;
  analytic.function = &lambda;
  CHECK_THROWS_WITH_AS(run_metric("model-randomization", analytic), doctest::Contains("needs an ONNX model"), Error);
}

TEST_CASE("recomputing metrics explain the function the given maps explain, not the scored one") {
  const auto dir = fixture("small_cnn");
  const Model model(load_onnx((dir / "model.onnx").string()));
  const ModelFunction logits(model, ScoreKind::logit), probs(model, ScoreKind::prob);
  const MetricInput on_logits = gradient_input(logits, read_npy((dir / "input.npy").string()), fixture_targets(dir));
  MetricInput scored = on_logits;  // as the CLI: metrics read probabilities, the maps explain logits
  scored.function = &probs;
  scored.map_function = &logits;
  for (const char* name : {"random-logit", "sensitivity-max"}) {
    const MetricResult want = run_metric(name, on_logits), got = run_metric(name, scored);
    CHECK(got.values == want.values);
    MetricInput wrong = scored;  // what random-logit did before: the probability's maps
    wrong.map_function = &probs;
    CHECK(run_metric(name, wrong).values != want.values);
  }
}

TEST_CASE("model-randomization matches the independent numpy/PyTorch reference on small_cnn") {
  // tools/make_randomization_references.py: its own ONNX interpreter in float64, gradlens's
  // generator re-implemented, the similarities from their definitions; seed 3, top-k 0.1, 8 px cells.
  const auto dir = fixture("small_cnn");
  const Model model(load_onnx((dir / "model.onnx").string()));
  const std::vector<ParametrisedLayer> layers = parametrised_layers(model);
  const ModelFunction f(model, ScoreKind::logit);
  const char* const measures[] = {"spearman_abs", "spearman", "ssim", "hog", "top_k"};
  for (const char* name : {"gradient", "guided-backprop"}) {
    MetricInput in = gradient_input(f, read_npy((dir / "input.npy").string()), fixture_targets(dir));
    in.method = &method(name);
    Request r;
    r.function = &f;
    r.input = in.input;
    r.targets = in.targets;
    in.attribution = method(name).explain(r).attribution;
    in.seed = 3;
    const MetricResult got = run_metric("model-randomization", in);
    for (const char* mode : {"cascading", "independent"}) {
      const Tensor want =
          read_npy((dir / (std::string("randomization_") + name + "_" + mode + ".npy")).string());  // [steps, 5, N]
      REQUIRE(want.dim(0) == int64_t(layers.size()));
      double worst = 0;
      for (int64_t s = 0; s < want.dim(0); ++s)
        for (int64_t m = 0; m < 5; ++m) {
          char step[8];
          std::snprintf(step, sizeof step, "%03d", int(s));
          const auto& v = got.per_example.at(std::string(mode) + ":" + step + ":" + measures[m] + ":" + layers[size_t(s)].name);
          for (int64_t n = 0; n < want.dim(2); ++n)
            worst = std::max(worst, std::fabs(v[size_t(n)] - double(want[(s * 5 + m) * want.dim(2) + n])));
        }
      INFO(std::string(name + std::string(" ") + mode + ": worst absolute difference " + std::to_string(worst)));
      CHECK(worst <= 1e-5);
    }
  }
}
