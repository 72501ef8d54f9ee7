// The four rectifier rules on the hand-worked 3x3 example of the foundation issue.
#include <cstring>

#include "engine/error.h"
#include "engine/ops.h"
#include "engine/rules.h"
#include "support.h"

using namespace gradlens;
using gradlens::test::check_equal;

namespace {
const Tensor kInput(Shape{1, 1, 3, 3}, {1, -1, 5, 2, -1, -7, -3, 2, 4});
const Tensor kUpstream(Shape{1, 1, 3, 3}, {-2, 3, -1, 6, -3, 1, 2, -1, 3});

Tensor replay(ReluRule rule, float q = 98.f) {
  Tape tape;
  Var x = tape.input(kInput);
  Var y = relu(x);
  GradRules rules;
  rules.relu = rule;
  rules.rectgrad_percentile = q;
  tape.backward(y, kUpstream, rules);
  return tape.grad(x);
}
}  // namespace

TEST_CASE("rule table: standard, deconvnet, guided on the hand-worked example") {
  check_equal(replay(ReluRule::standard), Tensor(Shape{1, 1, 3, 3}, {-2, 0, -1, 6, 0, 0, 0, -1, 3}));
  check_equal(replay(ReluRule::deconvnet), Tensor(Shape{1, 1, 3, 3}, {0, 3, 0, 6, 0, 1, 2, 0, 3}));
  check_equal(replay(ReluRule::guided), Tensor(Shape{1, 1, 3, 3}, {0, 0, 0, 6, 0, 0, 0, 0, 3}));
}

// a = relu(x) = [1,0,5, 2,0,0, 0,2,4]; a·g = [-2,0,-5, 12,0,0, 0,-2,12].
// Sorted: -5 -2 -2 0 0 0 0 12 12 (n = 9; the q-th percentile sits at rank q/100·8).
TEST_CASE("rule table: rectgrad hand-derived at several thresholds") {
  // q = 50: rank 4 -> τ = 0; only a·g = 12 passes.
  check_equal(replay(ReluRule::rectgrad, 50.f), Tensor(Shape{1, 1, 3, 3}, {0, 0, 0, 6, 0, 0, 0, 0, 3}));
  // q = 25: rank 2 -> τ = -2; a·g in {0, 12} passes, including dead units (a = 0) — the rule
  // thresholds importance, not the sign of x.
  check_equal(replay(ReluRule::rectgrad, 25.f), Tensor(Shape{1, 1, 3, 3}, {0, 3, 0, 6, -3, 1, 2, 0, 3}));
  // q = 10: rank 0.8 -> τ = -5 + 0.8·3 = -2.6; a·g = -2 now passes too.
  check_equal(replay(ReluRule::rectgrad, 10.f), Tensor(Shape{1, 1, 3, 3}, {-2, 3, 0, 6, -3, 1, 2, -1, 3}));
  // q = 98 (the default): rank 7.84 -> τ = 12; nothing is strictly above it.
  check_equal(replay(ReluRule::rectgrad, 98.f), Tensor(Shape{1, 1, 3, 3}, {0, 0, 0, 0, 0, 0, 0, 0, 0}));
}

TEST_CASE("rectgrad thresholds each sample of a batch separately") {
  Tensor x(Shape{2, 1, 3, 3}), g(Shape{2, 1, 3, 3});
  for (int i = 0; i < 9; ++i) {
    x[i] = x[9 + i] = kInput[i];
    g[i] = kUpstream[i];
    g[9 + i] = 10.f * kUpstream[i];  // scaling one sample must not move the other's threshold
  }
  Tape tape;
  Var v = tape.input(x);
  GradRules rules;
  rules.relu = ReluRule::rectgrad;
  rules.rectgrad_percentile = 50.f;
  tape.backward(relu(v), g, rules);
  Tensor dx = tape.grad(v);
  const float want[9] = {0, 0, 0, 6, 0, 0, 0, 0, 3};
  for (int i = 0; i < 9; ++i) {
    CHECK(dx[i] == want[i]);
    CHECK(dx[9 + i] == 10.f * want[i]);
  }
}

TEST_CASE("one recorded forward replays under every rule") {
  Tape tape;
  Var x = tape.input(kInput);
  Var y = relu(x);
  for (ReluRule rule : {ReluRule::guided, ReluRule::standard, ReluRule::deconvnet, ReluRule::guided}) {
    GradRules rules;
    rules.relu = rule;
    tape.backward(y, kUpstream, rules);
    check_equal(tape.grad(x), replay(rule));
  }
}

TEST_CASE("Clip(min=0) follows the rules, with its upper kink") {
  // ReLU6 on the same example with max 4.5: x = 5 is saturated, so only the rules that look at
  // x drop it; deconvnet ignores x altogether.
  Tape tape;
  Var x = tape.input(kInput);
  Var y = clip(x, 0.f, 4.5f);
  GradRules rules;
  tape.backward(y, kUpstream, rules);
  check_equal(tape.grad(x), Tensor(Shape{1, 1, 3, 3}, {-2, 0, 0, 6, 0, 0, 0, -1, 3}));
  rules.relu = ReluRule::deconvnet;
  tape.backward(y, kUpstream, rules);
  check_equal(tape.grad(x), Tensor(Shape{1, 1, 3, 3}, {0, 3, 0, 6, 0, 1, 2, 0, 3}));
  rules.relu = ReluRule::guided;
  tape.backward(y, kUpstream, rules);
  check_equal(tape.grad(x), Tensor(Shape{1, 1, 3, 3}, {0, 0, 0, 6, 0, 0, 0, 0, 3}));
}

TEST_CASE("other activations ignore the rules") {
  Tape tape;
  Var x = tape.input(kInput);
  Var y = leaky_relu(x, 0.1f);
  tape.backward(y, kUpstream, GradRules{});
  Tensor standard = tape.grad(x);
  GradRules guided;
  guided.relu = ReluRule::guided;
  tape.backward(y, kUpstream, guided);
  check_equal(tape.grad(x), standard);
}

TEST_CASE("rule names parse and unknown names are rejected") {
  CHECK(parse_relu_rule("guided") == ReluRule::guided);
  CHECK(std::string(relu_rule_name(ReluRule::rectgrad)) == "rectgrad");
  CHECK_THROWS_WITH_AS(parse_relu_rule("lrp"), doctest::Contains("unknown ReLU rule 'lrp'"), Error);
}
