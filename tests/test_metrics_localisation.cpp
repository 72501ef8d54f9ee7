// Localisation and complexity metrics on hand-made maps whose values are worked out by hand:
// pointing game (tolerance disk), energy pointing game, relevance mass / rank accuracy (Arras et
// al.'s poolings), WSL IoU (largest component, threshold), Gini and entropy of known vectors;
// and the input checks (empty mask, box outside, shapes, unknown metric, missing region).
#include <doctest/doctest.h>

#include <cmath>

#include "engine/error.h"
#include "metric_testing.h"

using namespace gradlens;
using namespace gradlens::test;

namespace {
// A [1, 1, 8, 8] map, zero but for the given (y, x, value) entries.
Tensor map8(std::initializer_list<std::tuple<int, int, float>> entries) {
  Tensor a(Shape{1, 1, 8, 8});
  for (const auto& [y, x, v] : entries) a[y * 8 + x] = v;
  return a;
}
Tensor mask8(int y0, int x0, int y1, int x1) {
  Tensor m(Shape{1, 8, 8});
  for (int y = y0; y < y1; ++y)
    for (int x = x0; x < x1; ++x) m[y * 8 + x] = 1;
  return m;
}
}  // namespace

TEST_CASE("pointing-game: hit inside, miss outside, the tolerance disk's edge") {
  MetricInput in = metric_input(map8({{2, 5, 3.f}, {7, 0, 2.f}}));
  in.masks = mask8(0, 4, 4, 8);  // rows 0..3, columns 4..7
  CHECK(run_metric("pointing-game", in, {{"tolerance", "0"}}).values[0] == 1.0);
  in.masks = mask8(5, 5, 8, 8);  // nearest mask pixel (5, 5): distance 3 from (2, 5)
  CHECK(run_metric("pointing-game", in, {{"tolerance", "2.99"}}).values[0] == 0.0);
  CHECK(run_metric("pointing-game", in, {{"tolerance", "3"}}).values[0] == 1.0);
  const MetricResult r = run_metric("pointing-game", in);  // default 15 covers the image
  CHECK(r.values[0] == 1.0);
  CHECK(r.per_example.at("max_x")[0] == 5.0);
  CHECK(r.per_example.at("max_y")[0] == 2.0);
  // A box instead of a mask: the same region.
  MetricInput boxed = metric_input(map8({{2, 5, 3.f}}));
  boxed.boxes = {Box{5, 5, 8, 8}};
  CHECK(run_metric("pointing-game", boxed, {{"tolerance", "2"}}).values[0] == 0.0);
  CHECK(run_metric("pointing-game", boxed, {{"tolerance", "3"}}).values[0] == 1.0);
}

TEST_CASE("pointing-game: channels are summed before the maximum") {
  Tensor a(Shape{1, 2, 8, 8});
  a[0 * 64 + 1 * 8 + 1] = 2.f;    // channel 0 at (1, 1)
  a[1 * 64 + 1 * 8 + 1] = 2.f;    // channel 1 at (1, 1): sum 4
  a[1 * 64 + 6 * 8 + 6] = 3.f;    // the largest single value, at (6, 6)
  MetricInput in = metric_input(a);
  in.masks = mask8(0, 0, 3, 3);
  CHECK(run_metric("pointing-game", in, {{"tolerance", "0"}}).values[0] == 1.0);
}

TEST_CASE("energy-pointing-game and relevance-mass-accuracy: shares of positive energy") {
  // Inside the mask: 3 + 1; outside: 2 and −5 (ignored by the positive part).
  MetricInput in = metric_input(map8({{0, 0, 3.f}, {1, 1, 1.f}, {6, 6, 2.f}, {7, 7, -5.f}}));
  in.masks = mask8(0, 0, 2, 2);
  CHECK(run_metric("energy-pointing-game", in).values[0] == doctest::Approx(4.0 / 6.0));
  CHECK(run_metric("relevance-mass-accuracy", in).values[0] == doctest::Approx(4.0 / 6.0));
  CHECK(run_metric("relevance-mass-accuracy", in, {{"pooling", "sum-abs"}}).values[0] == doctest::Approx(4.0 / 11.0));
  CHECK(run_metric("relevance-mass-accuracy", in, {{"pooling", "max-norm"}}).values[0] == doctest::Approx(4.0 / 11.0));
  // A map with no positive value has no energy anywhere.
  MetricInput negative = metric_input(map8({{0, 0, -1.f}}));
  negative.masks = mask8(0, 0, 2, 2);
  CHECK(run_metric("energy-pointing-game", negative).values[0] == 0.0);
  CHECK_THROWS_WITH_AS(run_metric("relevance-mass-accuracy", in, {{"pooling", "l7"}}),
                       doctest::Contains("relevance-mass-accuracy: --pooling"), Error);
}

TEST_CASE("relevance-rank-accuracy: the K = |GT| top pixels") {
  // Mask of 4 pixels; the top 4 values: 9, 8 (inside), 7 (outside), 6 (inside) → 3/4.
  MetricInput in = metric_input(map8({{0, 0, 9.f}, {0, 1, 8.f}, {5, 5, 7.f}, {1, 0, 6.f}, {1, 1, 0.5f}}));
  in.masks = mask8(0, 0, 2, 2);
  CHECK(run_metric("relevance-rank-accuracy", in).values[0] == doctest::Approx(0.75));
}

TEST_CASE("wsl-iou: the largest component's box against the ground truth") {
  // Component A: 2×3 block at rows 1..2, columns 1..3 (value 1); component B: one pixel (7, 7)
  // with the maximum 5. τ = 0.2 keeps everything ≥ 1; the largest component is A.
  MetricInput in = metric_input(map8({{1, 1, 1.f}, {1, 2, 1.f}, {1, 3, 1.f}, {2, 1, 1.f}, {2, 2, 1.f},
                                      {2, 3, 1.f}, {7, 7, 5.f}}));
  in.boxes = {Box{1, 1, 3, 3}};  // 2×2 inside A's 3×2 box: IoU = 4/6
  const MetricResult r = run_metric("wsl-iou", in);
  CHECK(r.values[0] == doctest::Approx(4.0 / 6.0));
  CHECK(r.per_example.at("localised")[0] == 1.0);
  CHECK(r.per_example.at("box_x0")[0] == 1.0);
  CHECK(r.per_example.at("box_x1")[0] == 4.0);
  // τ = 0.5 keeps only B: IoU 0.
  CHECK(run_metric("wsl-iou", in, {{"threshold", "0.5"}}).values[0] == 0.0);
  // With a true label that differs from the explained class, it is not localised.
  in.labels = {3};
  CHECK(run_metric("wsl-iou", in).per_example.at("localised")[0] == 0.0);
  // Diagonal neighbours join a component (8-connectivity).
  MetricInput diag = metric_input(map8({{0, 0, 1.f}, {1, 1, 1.f}, {2, 2, 1.f}, {6, 6, 1.f}, {6, 7, 1.f}}));
  diag.boxes = {Box{0, 0, 3, 3}};
  CHECK(run_metric("wsl-iou", diag).values[0] == doctest::Approx(1.0));
}

TEST_CASE("sparseness (Gini) and complexity (entropy) of known vectors") {
  auto row = [](std::initializer_list<float> v) {
    Tensor t(Shape{1, int64_t(v.size())}, v);
    return metric_input(t);
  };
  CHECK(run_metric("sparseness", row({1, 2, 3, 4})).values[0] == doctest::Approx(0.25));
  CHECK(run_metric("sparseness", row({-4, 3, 2, -1})).values[0] == doctest::Approx(0.25));  // |a|, order-free
  CHECK(run_metric("sparseness", row({0, 0, 0, 7})).values[0] == doctest::Approx(0.75));   // 1 − 1/d
  CHECK(run_metric("sparseness", row({2, 2, 2, 2})).values[0] == doctest::Approx(0.0));
  CHECK(run_metric("sparseness", row({0, 0})).values[0] == 0.0);
  CHECK(run_metric("complexity", row({1, 1, 1, 1})).values[0] == doctest::Approx(std::log(4.0)));
  CHECK(run_metric("complexity", row({1, -1, 2})).values[0] == doctest::Approx(1.5 * std::log(2.0)));
  CHECK(run_metric("complexity", row({0, 0, 3})).values[0] == doctest::Approx(0.0));
}

TEST_CASE("metric inputs: one error naming the metric and what is wrong") {
  MetricInput in = metric_input(map8({{0, 0, 1.f}}));
  CHECK_THROWS_WITH_AS(run_metric("pointing-game", in), doctest::Contains("pointing-game: needs masks or boxes"), Error);
  in.masks = Tensor(Shape{1, 8, 8});
  CHECK_THROWS_WITH_AS(run_metric("pointing-game", in), doctest::Contains("mask of example 0 is empty"), Error);
  in.masks = Tensor(Shape{1, 7, 8}, 1.f);
  CHECK_THROWS_WITH_AS(run_metric("pointing-game", in), doctest::Contains("do not match the inputs"), Error);
  in.masks = Tensor();
  in.boxes = {Box{4, 4, 9, 6}};
  CHECK_THROWS_WITH_AS(run_metric("wsl-iou", in), doctest::Contains("outside the 8x8 image"), Error);
  in.boxes = {Box{1, 1, 2, 2}, Box{1, 1, 2, 2}};
  CHECK_THROWS_WITH_AS(run_metric("wsl-iou", in), doctest::Contains("2 boxes for 1 examples"), Error);
  MetricInput bad_shape = metric_input(map8({{0, 0, 1.f}}));
  bad_shape.input = Tensor(Shape{1, 1, 8, 9});
  CHECK_THROWS_WITH_AS(run_metric("sparseness", bad_shape), doctest::Contains("attribution shape [1,1,8,8]"), Error);
  CHECK_THROWS_WITH_AS(run_metric("sparseness", in, {{"tolerance", "3"}}), doctest::Contains("tolerance"), Error);
  CHECK_THROWS_WITH_AS(metric("no-such-metric"), doctest::Contains("unknown metric 'no-such-metric'"), Error);
}

TEST_CASE("the metric registry lists every metric once with paper, formula and cost") {
  for (const Metric* m : metrics()) {
    const MetricInfo& i = m->info();
    CHECK(!i.paper.empty());
    CHECK(!i.formula.empty());
    CHECK(!i.cost.empty());
    CHECK(&metric(i.name) == m);
  }
  for (const char* name : {"pointing-game", "energy-pointing-game", "relevance-mass-accuracy",
                           "relevance-rank-accuracy", "wsl-iou", "sparseness", "complexity"})
    CHECK(find_metric(name));
}
