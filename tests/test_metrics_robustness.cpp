// Robustness and sampled faithfulness metrics against closed forms: the gradient of a linear
// model does not move (sensitivity-max = avg-sensitivity = local-lipschitz = 0); the gradient
// 2x of f = Σx² moves by 2δ (local-lipschitz = 2); infidelity of the exact gradient of a linear
// model is 0, of twice the gradient it is mean (Iᵀw)², 0 again with --normalize; faithfulness
// correlation of input × gradient on a linear model with a zero baseline is 1; random-logit is
// SSIM 1 when every class has the same map. Also: seeds, and the error when no method is given.
#include <doctest/doctest.h>

#include <cmath>

#include "attribution/function.h"
#include "attribution/method.h"
#include "attribution/metrics/metric.h"
#include "attribution/metrics/ssim.h"
#include "engine/error.h"
#include "engine/ops.h"
#include "metric_testing.h"
#include "support.h"

using namespace gradlens;
using namespace gradlens::test;

namespace {
constexpr int64_t kD = 12;
const Tensor kW = random_tensor(Shape{kD, 1}, 31);
const Tensor kW2 = random_tensor(Shape{kD, 1}, 33);
const LambdaFunction kLinear([](Tape& t, Var x) { return matmul(reshape(x, Shape{x.value().dim(0), kD}), t.constant(kW)); });
const LambdaFunction kSquare([](Tape&, Var x) {
  Var v = reshape(x, Shape{x.value().dim(0), kD});
  return sum(mul(v, v), {1}, true);
});

MetricInput input_for(const Function& f, const Tensor& attribution) {
  MetricInput in;
  in.function = &f;
  in.input = random_tensor(Shape{2, 1, 3, 4}, 32);
  in.attribution = attribution;
  in.targets = {0, 0};
  in.method = &method("gradient");
  in.batch = 4;
  return in;
}

Tensor gradient_of(const Function& f, const Tensor& x) {
  Request r;
  r.function = &f;
  r.input = x;
  r.targets = {0, 0};
  return method("gradient").explain(r).attribution;
}
}  // namespace

TEST_CASE("robustness: a linear model's gradient does not move") {
  MetricInput in = input_for(kLinear, Tensor());
  in.attribution = gradient_of(kLinear, in.input);
  for (const char* name : {"sensitivity-max", "avg-sensitivity", "local-lipschitz"}) {
    const MetricResult r = run_metric(name, in, {{"radius", "0.1"}, {"samples", "6"}});
    CHECK(r.values[0] == 0.0);
    CHECK(r.values[1] == 0.0);
    CHECK(r.forward_passes == 14);
  }
}

TEST_CASE("robustness: the gradient 2x of Σx² moves by 2δ") {
  MetricInput in = input_for(kSquare, Tensor());
  in.attribution = gradient_of(kSquare, in.input);
  const MetricResult lip = run_metric("local-lipschitz", in, {{"radius", "0.05"}, {"samples", "5"}});
  CHECK(lip.values[0] == doctest::Approx(2.0).epsilon(1e-5));
  CHECK(lip.values[1] == doctest::Approx(2.0).epsilon(1e-5));
  // ‖2δ‖ / ‖2x‖ with ‖δ‖∞ ≤ r: positive and at most r·√d / ‖x‖.
  const MetricResult sens = run_metric("sensitivity-max", in, {{"radius", "0.05"}, {"samples", "5"}});
  const MetricResult avg = run_metric("avg-sensitivity", in, {{"radius", "0.05"}, {"samples", "5"}});
  for (int n = 0; n < 2; ++n) {
    double norm = 0;
    for (int64_t i = 0; i < kD; ++i) norm += double(in.input[n * kD + i]) * in.input[n * kD + i];
    CHECK(sens.values[size_t(n)] > 0);
    CHECK(sens.values[size_t(n)] <= 0.05 * std::sqrt(double(kD)) / std::sqrt(norm) + 1e-6);
    CHECK(avg.values[size_t(n)] <= sens.values[size_t(n)]);
  }
  // Another seed draws other perturbations.
  MetricInput other = in;
  other.seed = 3;
  CHECK(run_metric("sensitivity-max", other, {{"radius", "0.05"}, {"samples", "5"}}).values[0] != sens.values[0]);
  CHECK(run_metric("sensitivity-max", in, {{"radius", "0.05"}, {"samples", "5"}}).values == sens.values);
  MetricInput no_method = in;
  no_method.method = nullptr;
  CHECK_THROWS_WITH_AS(run_metric("avg-sensitivity", no_method), doctest::Contains("avg-sensitivity: needs the method"),
                       Error);
}

TEST_CASE("infidelity: 0 for the exact gradient of a linear model; β-normalised 0 for a scaled one") {
  MetricInput in = input_for(kLinear, Tensor());
  in.attribution = gradient_of(kLinear, in.input);
  const MetricResult exact = run_metric("infidelity", in, {{"samples", "8"}});
  CHECK(std::fabs(exact.values[0]) < 1e-10);
  Tensor doubled = in.attribution.clone();
  for (int64_t i = 0; i < doubled.numel(); ++i) doubled[i] *= 2;
  in.attribution = doubled;
  const MetricResult twice = run_metric("infidelity", in, {{"samples", "8"}});
  CHECK(twice.values[0] > 1e-4);  // mean (Iᵀw)², I ~ N(0, 0.1²): about 0.01·‖w‖²
  CHECK(std::fabs(run_metric("infidelity", in, {{"samples", "8"}, {"normalize", "true"}}).values[0]) < 1e-10);
}

TEST_CASE("faithfulness-correlation: input × gradient of a linear model with a zero baseline correlates perfectly") {
  MetricInput in = input_for(kLinear, Tensor());
  Tensor ixg = gradient_of(kLinear, in.input);
  for (int64_t i = 0; i < ixg.numel(); ++i) ixg[i] *= in.input[i];
  in.attribution = ixg;
  const MetricResult r = run_metric("faithfulness-correlation", in, {{"subset", "0.25"}, {"runs", "20"}});
  CHECK(r.values[0] == doctest::Approx(1.0).epsilon(1e-5));
  CHECK(r.values[1] == doctest::Approx(1.0).epsilon(1e-5));
  CHECK(r.forward_passes == 42);
  // The negated map anti-correlates.
  for (int64_t i = 0; i < ixg.numel(); ++i) ixg[i] = -ixg[i];
  in.attribution = ixg;
  CHECK(run_metric("faithfulness-correlation", in, {{"subset", "0.25"}, {"runs", "20"}}).values[0] ==
        doctest::Approx(-1.0).epsilon(1e-5));
}

TEST_CASE("random-logit: SSIM 1 when every class has the same map, low when the other class's map is negated") {
  // Two identical class columns: the gradient does not depend on the class.
  const LambdaFunction same([](Tape& t, Var x) {
    Var y = matmul(reshape(x, Shape{x.value().dim(0), kD}), t.constant(kW));
    return concat({y, y}, 1);
  });
  MetricInput in = input_for(same, Tensor());
  in.attribution = gradient_of(same, in.input);
  const MetricResult r = run_metric("random-logit", in);
  CHECK(r.values[0] == doctest::Approx(1.0));
  CHECK(r.per_example.at("class")[0] == 1.0);  // the only other class
  // Class 1 with other weights: the value is the SSIM of the two classes' gradients (ssim.h is
  // checked against its reference in test_metric_references_small_cnn.cpp).
  const LambdaFunction other([](Tape& t, Var x) {
    Var v = reshape(x, Shape{x.value().dim(0), kD});
    return concat({matmul(v, t.constant(kW)), matmul(v, t.constant(kW2))}, 1);
  });
  MetricInput op = input_for(other, Tensor());
  op.attribution = gradient_of(other, op.input);
  std::vector<double> w1(kW.data(), kW.data() + kD), w2(kW2.data(), kW2.data() + kD);
  CHECK(run_metric("random-logit", op).values[0] == doctest::Approx(ssim(w1, w2, 3, 4)).epsilon(1e-6));
  CHECK(ssim(w1, w2, 3, 4) < 0.9);
}
