// Elementwise layers: activations, Clip, Identity, and the broadcasting Add/Sub/Mul/Div with
// their bias reports. Forwards against plain loops, gradients against finite differences.
#include <cmath>
#include <functional>
#include <limits>

#include "engine/error.h"
#include "engine/ops.h"
#include "engine/taps.h"
#include "layer_testing.h"

using namespace gradlens;
using namespace gradlens::test;

namespace {

// Checks the layer's forward on x against f elementwise and its gradient on x.
void check_unary(const NodeDef& node, const Tensor& x, const std::function<double(double)>& f) {
  auto layer = load_layer(node);
  Tensor y = evaluate(*layer, {x});
  REQUIRE(y.shape() == x.shape());
  for (int64_t i = 0; i < x.numel(); ++i) {
    INFO(node.op_type << " element " << i << " x = " << x[i]);
    CHECK(y[i] == doctest::Approx(f(x[i])).epsilon(1e-6));
  }
  CHECK_GRADIENTS(gradcheck_layer(*layer, {x}));
}

const Shape kShape{2, 3, 4};

}  // namespace

TEST_CASE("activations: forward against plain loops, gradients against finite differences") {
  Tensor x = random_tensor(kShape, 7, -4.f, 4.f);
  check_unary(NodeBuilder("Sigmoid", {"x"}), x, [](double v) { return 1 / (1 + std::exp(-v)); });
  check_unary(NodeBuilder("Tanh", {"x"}), x, [](double v) { return std::tanh(v); });
  check_unary(NodeBuilder("Softplus", {"x"}), x, [](double v) { return std::log1p(std::exp(v)); });
  check_unary(NodeBuilder("Identity", {"x"}), x, [](double v) { return v; });
  // Kinked activations on inputs away from their kinks.
  Tensor xl = away_from(x, 0.f);
  check_unary(NodeBuilder("LeakyRelu", {"x"}), xl, [](double v) { return v > 0 ? v : 0.01 * v; });
  check_unary(NodeBuilder("LeakyRelu", {"x"}).attr("alpha", Attribute::of(0.3f)), xl,
              [](double v) { return v > 0 ? v : 0.3 * v; });
  Tensor xs = away_from(away_from(x, -3.f), 3.f);
  check_unary(NodeBuilder("HardSwish", {"x"}).opset(14), xs,
              [](double v) { return v * std::min(1.0, std::max(0.0, v / 6 + 0.5)); });
  // HardSigmoid defaults α = 0.2, β = 0.5: kinks at x = ±2.5.
  Tensor xh = away_from(away_from(x, -2.5f), 2.5f);
  check_unary(NodeBuilder("HardSigmoid", {"x"}), xh,
              [](double v) { return std::min(1.0, std::max(0.0, 0.2 * v + 0.5)); });
  Tensor xh2 = away_from(away_from(x, -0.25f), 2.25f);  // 0.4x + 0.1 hits 0 and 1 there
  check_unary(NodeBuilder("HardSigmoid", {"x"}).attr("alpha", Attribute::of(0.4f)).attr("beta", Attribute::of(0.1f)),
              xh2, [](double v) { return std::min(1.0, std::max(0.0, 0.4 * v + 0.1)); });
}

TEST_CASE("activations: hand-computed values") {
  Tensor x(Shape{4}, {-2.f, 0.f, 1.f, 4.f});
  check_equal(evaluate(*load_layer(NodeBuilder("LeakyRelu", {"x"})), {x}),
              Tensor(Shape{4}, {-0.02f, 0.f, 1.f, 4.f}), 1e-6);
  check_equal(evaluate(*load_layer(NodeBuilder("HardSigmoid", {"x"})), {x}),
              Tensor(Shape{4}, {0.1f, 0.5f, 0.7f, 1.f}), 1e-6);
  check_equal(evaluate(*load_layer(NodeBuilder("HardSwish", {"x"})), {x}),
              Tensor(Shape{4}, {-2.f / 6.f, 0.f, 1.f * (1.f / 6.f + 0.5f), 4.f}), 1e-6);
}

TEST_CASE("activations: consumed_inputs only before opset 6, unknown attributes rejected") {
  auto legacy = NodeBuilder("Sigmoid", {"x"}, "sig").attr("consumed_inputs", Attribute::of(std::vector<int64_t>{0})).opset(1);
  CHECK_NOTHROW(load_layer(legacy));
  legacy.opset(13);
  CHECK_THROWS_WITH_AS(load_layer(legacy),
                       doctest::Contains("node 'sig' (Sigmoid): unsupported attribute 'consumed_inputs'"), Error);
  CHECK_THROWS_WITH_AS(load_layer(NodeBuilder("LeakyRelu", {"x"}, "lr").attr("beta", Attribute::of(1.f))),
                       doctest::Contains("node 'lr' (LeakyRelu): unsupported attribute 'beta'"), Error);
  CHECK_THROWS_WITH_AS(load_layer(NodeBuilder("LeakyRelu", {"x"}, "lr").attr("alpha", Attribute::of(int64_t(1)))),
                       doctest::Contains("node 'lr' (LeakyRelu): attribute 'alpha' is int, expected float"), Error);
  CHECK_THROWS_WITH_AS(load_layer(NodeBuilder("Tanh", {"x", "z"}, "t")),
                       doctest::Contains("node 't' (Tanh): expected 1 inputs, got 2"), Error);
}

// ---- Clip -----------------------------------------------------------------------------------

TEST_CASE("Clip before opset 11: min/max attributes with float-limit defaults") {
  Tensor x(Shape{5}, {-3.f, -0.5f, 0.25f, 2.f, 1e30f});
  auto clip6 = load_layer(NodeBuilder("Clip", {"x"}).attr("min", Attribute::of(-1.f)).attr("max", Attribute::of(1.5f)).opset(6));
  check_equal(evaluate(*clip6, {x}), Tensor(Shape{5}, {-1.f, -0.5f, 0.25f, 1.5f, 1.5f}));
  auto only_max = load_layer(NodeBuilder("Clip", {"x"}).attr("max", Attribute::of(0.f)).opset(6));
  check_equal(evaluate(*only_max, {x}), Tensor(Shape{5}, {-3.f, -0.5f, 0.f, 0.f, 0.f}));
  auto none = load_layer(NodeBuilder("Clip", {"x"}).opset(6));
  check_equal(evaluate(*none, {x}), x);
  CHECK_THROWS_WITH_AS(load_layer(NodeBuilder("Clip", {"x", "lo"}, "c").opset(6)),
                       doctest::Contains("node 'c' (Clip): expected 1 inputs, got 2"), Error);
  CHECK_THROWS_WITH_AS(load_layer(NodeBuilder("Clip", {"x"}, "c").attr("min", Attribute::of(2.f)).attr("max", Attribute::of(1.f)).opset(6)),
                       doctest::Contains("node 'c' (Clip): min 2 exceeds max 1"), Error);
}

TEST_CASE("Clip from opset 11: optional constant or runtime bound inputs") {
  Tensor x(Shape{5}, {-3.f, -0.5f, 0.25f, 2.f, 1e30f});
  Initializer lo(Tensor(Shape{}, {-1.f})), hi(Tensor(Shape{1}, {1.5f}));
  auto both = load_layer(NodeBuilder("Clip", {"x", "lo", "hi"}).opset(13), {nullptr, &lo, &hi});
  check_equal(evaluate(*both, {x}, {nullptr, &lo, &hi}), Tensor(Shape{5}, {-1.f, -0.5f, 0.25f, 1.5f, 1.5f}));
  // Absent min ("" input), max given: unbounded below.
  auto max_only = load_layer(NodeBuilder("Clip", {"x", "", "hi"}).opset(13), {nullptr, nullptr, &hi});
  check_equal(evaluate(*max_only, {x}, {nullptr, nullptr, &hi}), Tensor(Shape{5}, {-3.f, -0.5f, 0.25f, 1.5f, 1.5f}));
  // No bounds at all: the identity, even on huge values.
  auto unbounded = load_layer(NodeBuilder("Clip", {"x"}).opset(13));
  check_equal(evaluate(*unbounded, {x}), x);
  // Runtime bounds are read when the node runs.
  auto runtime = load_layer(NodeBuilder("Clip", {"x", "lo", "hi"}).opset(13));
  check_equal(evaluate(*runtime, {x, Tensor(Shape{}, {0.f}), Tensor(Shape{}, {1.f})}),
              Tensor(Shape{5}, {0.f, 0.f, 0.25f, 1.f, 1.f}));
  CHECK_THROWS_WITH_AS(evaluate(*runtime, {x, Tensor(Shape{}, {2.f}), Tensor(Shape{}, {1.f})}),
                       doctest::Contains("(Clip): min 2 exceeds max 1"), Error);
  // Attributes are not accepted any more, bounds must be scalars.
  CHECK_THROWS_WITH_AS(load_layer(NodeBuilder("Clip", {"x"}, "c").attr("min", Attribute::of(0.f)).opset(11)),
                       doctest::Contains("node 'c' (Clip): unsupported attribute 'min'"), Error);
  Initializer vec(Tensor(Shape{2}, {0.f, 1.f}));
  CHECK_THROWS_WITH_AS(load_layer(NodeBuilder("Clip", {"x", "lo"}, "c").opset(13), {nullptr, &vec}),
                       doctest::Contains("node 'c' (Clip): min (input 1) must be a scalar, got shape [2]"), Error);
  Initializer big(Tensor(Shape{}, {5.f}));
  CHECK_THROWS_WITH_AS(load_layer(NodeBuilder("Clip", {"x", "lo", "hi"}, "c").opset(13), {nullptr, &big, &hi}),
                       doctest::Contains("node 'c' (Clip): min 5 exceeds max 1.5"), Error);
}

TEST_CASE("Clip gradients; Clip(0, 6) is a rectifier under the ReLU rules") {
  Tensor x = away_from(away_from(random_tensor(kShape, 3, -3.f, 3.f), -1.f), 1.5f);
  Initializer lo(Tensor(Shape{}, {-1.f})), hi(Tensor(Shape{}, {1.5f}));
  auto layer = load_layer(NodeBuilder("Clip", {"x", "lo", "hi"}).opset(13), {nullptr, &lo, &hi});
  CHECK_GRADIENTS(gradcheck_layer(*layer, {x}, {nullptr, &lo, &hi}));

  Initializer zero(Tensor(Shape{}, {0.f})), six(Tensor(Shape{}, {6.f}));
  auto relu6 = load_layer(NodeBuilder("Clip", {"x", "lo", "hi"}).opset(13), {nullptr, &zero, &six});
  Tape tape;
  Var v = tape.input(Tensor(Shape{4}, {-1.f, 2.f, 3.f, 7.f}));
  Var y = run(*relu6, tape, {v}, {nullptr, &zero, &six});
  GradRules guided;
  guided.relu = ReluRule::guided;
  tape.backward(y, Tensor(Shape{4}, {1.f, -1.f, 2.f, 1.f}), guided);
  check_equal(tape.grad(v), Tensor(Shape{4}, {0.f, 0.f, 2.f, 0.f}));
}

// ---- Add / Sub / Mul / Div --------------------------------------------------------------------

namespace {
// a [2,3,4] op b [3,1] by plain loops.
Tensor broadcast_loop(const Tensor& a, const Tensor& b, const std::function<float(float, float)>& f) {
  Tensor y(a.shape());
  for (int i = 0; i < 2; ++i)
    for (int j = 0; j < 3; ++j)
      for (int k = 0; k < 4; ++k) y[(i * 3 + j) * 4 + k] = f(a[(i * 3 + j) * 4 + k], b[j]);
  return y;
}
}  // namespace

TEST_CASE("Add/Sub/Mul/Div broadcast by numpy rules; gradients reach both operands") {
  Tensor a = random_tensor(Shape{2, 3, 4}, 11);
  Tensor b = away_from(random_tensor(Shape{3, 1}, 12), 0.f, 0.5f);  // Div: keep b off zero
  const std::pair<const char*, std::function<float(float, float)>> ops[] = {
      {"Add", [](float p, float q) { return p + q; }},
      {"Sub", [](float p, float q) { return p - q; }},
      {"Mul", [](float p, float q) { return p * q; }},
      {"Div", [](float p, float q) { return p / q; }}};
  for (const auto& [op, f] : ops) {
    INFO(std::string(op));
    auto layer = load_layer(NodeBuilder(op, {"a", "b"}));
    check_equal(evaluate(*layer, {a, b}), broadcast_loop(a, b, f), 1e-6);
    CHECK(layer->infer({a.shape(), b.shape()})[0] == a.shape());
    CHECK_GRADIENTS(gradcheck_layer(*layer, {a, b}));
    // Reversed operand order broadcasts the other way (a kept off zero for Div).
    CHECK_GRADIENTS(gradcheck_layer(*layer, {b, away_from(a, 0.f, 0.5f)}));
  }
  CHECK_THROWS_WITH_AS(evaluate(*load_layer(NodeBuilder("Mul", {"a", "b"}, "m")), {a, Tensor(Shape{5})}),
                       doctest::Contains("node 'm' (Mul): "), Error);
  CHECK_THROWS_WITH_AS(load_layer(NodeBuilder("Mul", {"a", "b"}, "m")).get()->infer({a.shape(), Shape{5}}),
                       doctest::Contains("node 'm' (Mul): "), Error);
  CHECK_THROWS_WITH_AS(load_layer(NodeBuilder("Add", {"a"}, "s")),
                       doctest::Contains("node 's' (Add): expected 2 inputs, got 1"), Error);
}

TEST_CASE("Add/Sub before opset 7: legacy broadcast and axis") {
  Tensor a = random_tensor(Shape{2, 3, 4}, 21);
  Tensor b = random_tensor(Shape{3}, 22);
  // broadcast = 1, axis = 1: b's axis 0 aligns with a's axis 1.
  auto add = load_layer(NodeBuilder("Add", {"a", "b"}).attr("broadcast", Attribute::of(1)).attr("axis", Attribute::of(1)).opset(6));
  check_equal(evaluate(*add, {a, b}), broadcast_loop(a, b, [](float p, float q) { return p + q; }), 1e-6);
  CHECK_GRADIENTS(gradcheck_layer(*add, {a, b}));
  // Without axis, b aligns with a's trailing axes (as numpy).
  Tensor b4 = random_tensor(Shape{4}, 23);
  auto suffix = load_layer(NodeBuilder("Sub", {"a", "b"}).attr("broadcast", Attribute::of(1)).opset(6));
  Tensor want(a.shape());
  for (int64_t i = 0; i < a.numel(); ++i) want[i] = a[i] - b4[i % 4];
  check_equal(evaluate(*suffix, {a, b4}), want, 1e-6);
  // broadcast = 0 (the default) wants equal shapes.
  auto strict = load_layer(NodeBuilder("Add", {"a", "b"}, "old").opset(6));
  CHECK_THROWS_WITH_AS(evaluate(*strict, {a, b4}),
                       doctest::Contains("node 'old' (Add): shapes [2,3,4] and [4] differ and broadcast = 0"), Error);
  CHECK_THROWS_WITH_AS(evaluate(*add, {a, b4}), doctest::Contains("(Add): B of shape [4]"), Error);
  // The attributes do not exist from opset 7.
  CHECK_THROWS_WITH_AS(load_layer(NodeBuilder("Add", {"a", "b"}, "new").attr("broadcast", Attribute::of(1)).opset(7)),
                       doctest::Contains("node 'new' (Add): unsupported attribute 'broadcast'"), Error);
}

namespace {
// Runs `node` with the given constant slot, x requiring grad; returns the tape's reported bias
// (nullptr when none) and checks BiasTap's map equals g ⊙ broadcast(bias) by a plain loop.
void check_bias(const NodeDef& node, const Tensor& x, const Initializer& c, int const_slot,
                const Tensor* want_bias) {
  std::vector<const Initializer*> consts(2, nullptr);
  consts[size_t(const_slot)] = &c;
  auto layer = load_layer(node, consts);
  Tape tape;
  BiasTap tap;
  tape.observe(&tap);
  Var v = tape.input(x);
  Var y = run(*layer, tape, {v}, consts);
  const NodeInfo& info = tape.info(y);
  CHECK(info.name == node.outputs[0]);
  if (!want_bias) {
    CHECK(info.bias == nullptr);
    return;
  }
  REQUIRE(info.bias != nullptr);
  check_equal(*info.bias, *want_bias);
  Tensor g = random_tensor(y.shape(), 5);
  tape.backward(y, g);
  REQUIRE(tap.entries().size() == 1);
  const Tensor& map = tap.entries()[0].map;
  REQUIRE(map.shape() == y.shape());
  // want_bias is [3,1] or [2,3,4] against output [2,3,4].
  for (int64_t i = 0; i < map.numel(); ++i) {
    const float bias = want_bias->numel() == 3 ? (*want_bias)[(i / 4) % 3] : (*want_bias)[i];
    CHECK(map[i] == doctest::Approx(g[i] * bias).epsilon(1e-6));
  }
}
}  // namespace

TEST_CASE("bias: Add with a constant reports it, Sub reports −c or c, Mul/Div none") {
  Tensor x = random_tensor(Shape{2, 3, 4}, 31);
  Initializer c(random_tensor(Shape{3, 1}, 32));
  Tensor neg_c = c.value.clone();
  neg_c.vec() = -neg_c.vec();
  check_bias(NodeBuilder("Add", {"x", "c"}), x, c, 1, &c.value);
  check_bias(NodeBuilder("Add", {"c", "x"}), x, c, 0, &c.value);
  check_bias(NodeBuilder("Sub", {"x", "c"}), x, c, 1, &neg_c);
  check_bias(NodeBuilder("Sub", {"c", "x"}), x, c, 0, &c.value);
  check_bias(NodeBuilder("Mul", {"x", "c"}), x, c, 1, nullptr);
  check_bias(NodeBuilder("Div", {"x", "c"}), x, c, 1, nullptr);
  // Both runtime: no bias.
  auto add = load_layer(NodeBuilder("Add", {"a", "b"}));
  Tape tape;
  Var y = run(*add, tape, {tape.input(x), tape.input(x)});
  CHECK(tape.info(y).bias == nullptr);
  // The values themselves: x − c and c − x with c broadcast.
  auto sub = load_layer(NodeBuilder("Sub", {"c", "x"}), {&c, nullptr});
  check_equal(evaluate(*sub, {x}, {&c, nullptr}),
              broadcast_loop(x, c.value, [](float p, float q) { return q - p; }), 1e-6);
}

TEST_CASE("bias under legacy broadcasting with an axis has the output's alignment") {
  Tensor x = random_tensor(Shape{2, 3, 4}, 41);
  Initializer c(random_tensor(Shape{3}, 42));
  auto add = load_layer(NodeBuilder("Add", {"x", "c"}).attr("broadcast", Attribute::of(1)).attr("axis", Attribute::of(1)).opset(6),
                        {nullptr, &c});
  Tape tape;
  BiasTap tap;
  tape.observe(&tap);
  Var v = tape.input(x);
  Var y = run(*add, tape, {v}, {nullptr, &c});
  REQUIRE(tape.info(y).bias != nullptr);
  CHECK(tape.info(y).bias->shape() == Shape{3, 1});
  Tensor g = random_tensor(y.shape(), 43);
  tape.backward(y, g);
  REQUIRE(tap.entries().size() == 1);
  for (int64_t i = 0; i < g.numel(); ++i)
    CHECK(tap.entries()[0].map[i] == doctest::Approx(g[i] * c.value[(i / 4) % 3]).epsilon(1e-6));
}
