// Gradient and rule methods, contrastive scores and noise wrappers, on analytic models whose
// answers are known in closed form or by replaying the engine's rules directly.
#include <cmath>

#include "attribution/gradients.h"
#include "attribution/method.h"
#include "attribution/noise.h"
#include "engine/error.h"
#include "engine/ops.h"
#include "support.h"

using namespace gradlens;
using gradlens::test::check_equal;
using gradlens::test::random_tensor;
using gradlens::test::rel_l2;

namespace {
// f(x) = x·Wᵀ + b with W [3, 4]: ∂y_c/∂x = W[c].
const Tensor kW = random_tensor(Shape{3, 4}, 21);
const Tensor kB(Shape{3}, {0.1f, -0.2f, 0.3f});
const LambdaFunction kLinear([](Tape& t, Var x) { return matmul(x, transpose(t.constant(kW), {1, 0})) + t.constant(kB); });

// A ReLU network: y = relu(x·W1ᵀ + b1)·W2ᵀ.
const Tensor kW1 = random_tensor(Shape{16, 6}, 22), kB1 = random_tensor(Shape{16}, 23);
const Tensor kW2 = random_tensor(Shape{4, 16}, 24);
Var relu_net(Tape& t, Var x) {
  Var h = relu(matmul(x, transpose(t.constant(kW1), {1, 0})) + t.constant(kB1));
  return matmul(h, transpose(t.constant(kW2), {1, 0}));
}
const LambdaFunction kReluNet(relu_net);

Request request(const Function& f, const Tensor& x, std::vector<int64_t> targets) {
  Request r;
  r.function = &f;
  r.input = x;
  r.targets = std::move(targets);
  r.batch = 2;  // force several chunks
  return r;
}
}  // namespace

TEST_CASE("gradient, saliency and input-x-gradient on a linear model") {
  const Tensor x = random_tensor(Shape{5, 4}, 1);
  Request r = request(kLinear, x, {0, 1, 2, 1, 0});
  Explanation g = method("gradient").explain(r);
  Explanation s = method("saliency").explain(r);
  Explanation ixg = method("input-x-gradient").explain(r);
  for (int64_t n = 0; n < 5; ++n)
    for (int64_t i = 0; i < 4; ++i) {
      const float w = kW[r.targets[size_t(n)] * 4 + i];
      CHECK(g.attribution[n * 4 + i] == doctest::Approx(w).epsilon(1e-6));
      CHECK(s.attribution[n * 4 + i] == doctest::Approx(std::fabs(w)).epsilon(1e-6));
      CHECK(ixg.attribution[n * 4 + i] == doctest::Approx(w * x[n * 4 + i]).epsilon(1e-6));
    }
  CHECK(g.forward_passes == 5);
  CHECK(g.backward_passes == 5);
}

TEST_CASE("contrastive gradient = difference of the two gradients") {
  const Tensor x = random_tensor(Shape{3, 6}, 2);
  Request r = request(kReluNet, x, {0, 1, 3});
  Explanation plain_c = method("gradient").explain(r);
  Request other = request(kReluNet, x, {2, 2, 0});
  Explanation plain_other = method("gradient").explain(other);
  r.contrast = {2, 2, 0};
  Explanation contrast = method("gradient").explain(r);
  Tensor diff = plain_c.attribution.clone();
  diff.vec() -= plain_other.attribution.vec();
  CHECK(rel_l2(contrast.attribution, diff) < 1e-6);
  for (size_t n = 0; n < 3; ++n)
    CHECK(contrast.scores[n] == doctest::Approx(plain_c.scores[n] - plain_other.scores[n]));
}

TEST_CASE("rule methods equal the engine's rules replayed on one recorded forward") {
  const Tensor x = random_tensor(Shape{3, 6}, 3);
  const std::vector<int64_t> targets = {1, 0, 3};
  Tape tape;
  Var v = tape.input(x);
  Var y = relu_net(tape, v);
  Tensor seed(y.shape());
  for (int64_t n = 0; n < 3; ++n) seed[n * 4 + targets[size_t(n)]] = 1.f;
  struct Case { const char* method; ReluRule rule; } cases[] = {
      {"gradient", ReluRule::standard}, {"deconvnet", ReluRule::deconvnet},
      {"guided-backprop", ReluRule::guided}, {"rectgrad", ReluRule::rectgrad}};
  std::vector<Tensor> maps;
  for (const Case& c : cases) {
    GradRules rules;
    rules.relu = c.rule;
    tape.backward(y, seed, rules);
    Explanation e = method(c.method).explain(request(kReluNet, x, targets));
    INFO(c.method);
    CHECK(rel_l2(e.attribution, tape.grad(v)) < 1e-7);
    maps.push_back(e.attribution);
  }
  // The rules really differ on this network.
  CHECK(rel_l2(maps[1], maps[2]) > 1e-3);
  CHECK(rel_l2(maps[0], maps[2]) > 1e-3);
}

TEST_CASE("rectgrad's percentile is a parameter and is validated") {
  const Tensor x = random_tensor(Shape{2, 6}, 4);
  Request r = request(kReluNet, x, {0, 1});
  r.options.set("percentile", "0");
  Explanation low = method("rectgrad").explain(r);
  r.options.set("percentile", "99.9");
  Explanation high = method("rectgrad").explain(r);
  CHECK(rel_l2(low.attribution, high.attribution) > 1e-3);
  r.options.set("percentile", "120");
  CHECK_THROWS_WITH_AS(method("rectgrad").explain(r), doctest::Contains("--percentile must be in [0, 100]"), Error);
  Request bad = request(kReluNet, x, {0, 1});
  bad.options.set("steps", "3");
  CHECK_THROWS_WITH_AS(method("saliency").explain(bad), doctest::Contains("method 'saliency' has no parameter 'steps'"), Error);
  CHECK_THROWS_WITH_AS(method("no-such-method"), doctest::Contains("unknown method 'no-such-method'"), Error);
}

TEST_CASE("a target out of range is reported") {
  Request r = request(kLinear, random_tensor(Shape{1, 4}, 5), {7});
  CHECK_THROWS_WITH_AS(method("gradient").explain(r), doctest::Contains("target class 7 is out of range for 3 classes"), Error);
}

TEST_CASE("smoothgrad with zero noise is the base method") {
  const Tensor x = random_tensor(Shape{2, 6}, 6);
  Request r = request(kReluNet, x, {0, 2});
  NoiseOptions zero;
  zero.kind = NoiseKind::smoothgrad;
  zero.samples = 5;
  zero.level = 0.0;
  for (const char* m : {"gradient", "guided-backprop", "input-x-gradient"}) {
    INFO(m);
    Explanation base = method(m).explain(r);
    Explanation smooth = explain_with_noise(method(m), r, zero);
    CHECK(rel_l2(smooth.attribution, base.attribution) < 1e-7);
    CHECK(smooth.forward_passes == 10);
  }
  zero.kind = NoiseKind::vargrad;
  Explanation var = explain_with_noise(method("gradient"), r, zero);
  for (int64_t i = 0; i < var.attribution.numel(); ++i) CHECK(std::fabs(var.attribution[i]) < 1e-10);
}

TEST_CASE("noise wrappers reduce exactly the given draws") {
  // Linear model: A(x + ε) for input-x-gradient is (x + ε) ⊙ W[c]; compute the three reductions
  // by hand from the draws.
  const Tensor x = random_tensor(Shape{2, 4}, 7);
  const Tensor draws = random_tensor(Shape{2, 3, 4}, 8);
  Request r = request(kLinear, x, {1, 2});
  NoiseOptions given;
  given.noise = draws;
  for (NoiseKind kind : {NoiseKind::smoothgrad, NoiseKind::smoothgrad_sq, NoiseKind::vargrad}) {
    given.kind = kind;
    Explanation e = explain_with_noise(method("input-x-gradient"), r, given);
    for (int64_t n = 0; n < 2; ++n)
      for (int64_t i = 0; i < 4; ++i) {
        double sum = 0, sq = 0;
        for (int64_t s = 0; s < 3; ++s) {
          double a = (x[n * 4 + i] + draws[(n * 3 + s) * 4 + i]) * kW[r.targets[size_t(n)] * 4 + i];
          sum += a;
          sq += a * a;
        }
        const double mean = sum / 3, want = kind == NoiseKind::smoothgrad ? mean
                                          : kind == NoiseKind::smoothgrad_sq ? sq / 3 : sq / 3 - mean * mean;
        INFO(noise_kind_name(kind) << " n=" << n << " i=" << i);
        CHECK(e.attribution[n * 4 + i] == doctest::Approx(want).epsilon(1e-5));
      }
  }
  given.noise = random_tensor(Shape{2, 3, 5}, 9);
  CHECK_THROWS_WITH_AS(explain_with_noise(method("gradient"), r, given), doctest::Contains("noise file has shape [2,3,5]"), Error);
}

TEST_CASE("noise draws are reproducible for a seed and scaled by the input's range") {
  const Tensor x = random_tensor(Shape{1, 6}, 10, -3.f, 3.f);
  Request r = request(kReluNet, x, {1});
  NoiseOptions n;
  n.samples = 8;
  n.seed = 42;
  Explanation a = explain_with_noise(method("gradient"), r, n);
  Explanation b = explain_with_noise(method("gradient"), r, n);
  CHECK(gradlens::test::bitwise_equal(a.attribution, b.attribution));
  n.seed = 43;
  Explanation c = explain_with_noise(method("gradient"), r, n);
  CHECK(rel_l2(a.attribution, c.attribution) > 1e-4);
}

TEST_CASE("an absolute noise σ (Captum's stdevs) draws what the relative level giving that σ draws") {
  const Tensor x = random_tensor(Shape{1, 6}, 12, -2.f, 5.f);
  Request r = request(kReluNet, x, {2});
  NoiseOptions relative;
  relative.samples = 7;
  relative.seed = 3;
  relative.level = 0.2;
  NoiseOptions absolute = relative;
  absolute.level = 0.9;  // ignored when std is set
  absolute.std = relative_sigma(x, 0, 0.2);
  const auto [lo, hi] = std::minmax_element(x.data(), x.data() + x.numel());
  CHECK(absolute.std == doctest::Approx(0.2 * (double(*hi) - double(*lo))));
  const Explanation a = explain_with_noise(method("gradient"), r, relative);
  const Explanation b = explain_with_noise(method("gradient"), r, absolute);
  CHECK(gradlens::test::bitwise_equal(a.attribution, b.attribution));
  CHECK(b.notes.at("noise_std") == std::to_string(absolute.std));
  CHECK(!b.notes.count("noise_level"));
  absolute.std = 0;  // σ = 0: the base method, as with level 0
  CHECK(rel_l2(explain_with_noise(method("gradient"), r, absolute).attribution, method("gradient").explain(r).attribution) < 1e-7);
}

TEST_CASE("smoothgrad, smoothgrad-sq and vargrad methods equal the noise wrappers around gradient") {
  const Tensor x = random_tensor(Shape{2, 6}, 11);
  for (const char* name : {"smoothgrad", "smoothgrad-sq", "vargrad"}) {
    INFO(name);
    Request r = request(kReluNet, x, {0, 3});
    r.options.set("samples", "6");
    r.options.set("seed", "5");
    Explanation m = method(name).explain(r);
    NoiseOptions n;
    n.kind = parse_noise_kind(name);
    n.samples = 6;
    n.seed = 5;
    Explanation w = explain_with_noise(method("gradient"), request(kReluNet, x, {0, 3}), n);
    CHECK(gradlens::test::bitwise_equal(m.attribution, w.attribution));
    CHECK(m.forward_passes == 12);
  }
}
