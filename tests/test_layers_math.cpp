// Math layers: unary functions and activations, Pow, PRelu, the variadic Sum/Mean/Max/Min, the
// reductions, LayerNormalization (and the decomposed form torch exports below opset 17) and
// InstanceNormalization. Forwards against plain loops and hand values, gradients against finite
// differences, bias maps, opset rules and errors.
#include <cmath>
#include <functional>
#include <limits>

#include "engine/error.h"
#include "engine/ops.h"
#include "engine/taps.h"
#include "graph_builder.h"
#include "layer_testing.h"
#include "layers/model.h"

using namespace gradlens;
using namespace gradlens::test;

namespace {

Attribute ints_attr(std::vector<int64_t> v) { return Attribute::of(v); }

// Checks the layer's forward on x against f elementwise and its gradient on x.
void check_unary(const NodeDef& node, const Tensor& x, const std::function<double(double)>& f) {
  auto layer = load_layer(node);
  Tensor y = evaluate(*layer, {x});
  REQUIRE(y.shape() == x.shape());
  for (int64_t i = 0; i < x.numel(); ++i) {
    INFO(node.op_type << " element " << i << " x = " << x[i]);
    CHECK(y[i] == doctest::Approx(f(x[i])).epsilon(1e-5));
  }
  INFO(node.op_type);
  CHECK_GRADIENTS(gradcheck_layer(*layer, {x}));
}

Tensor values(std::initializer_list<float> v) { return Tensor(Shape{int64_t(v.size())}, v); }

Tensor eval1(const NodeDef& node, const Tensor& x) { return evaluate(*load_layer(node), {x}); }

const Shape kShape{2, 3, 4};

double gelu_ref(double v) { return 0.5 * v * (1 + std::erf(v / std::sqrt(2.0))); }
double gelu_tanh_ref(double v) {
  return 0.5 * v * (1 + std::tanh(std::sqrt(2 / M_PI) * (v + 0.044715 * v * v * v)));
}

}  // namespace

// ---- unary ----------------------------------------------------------------------------------

TEST_CASE("unary math and activations: forward against plain loops, gradients against FD") {
  const Tensor x = random_tensor(kShape, 7, -3.f, 3.f);
  const Tensor pos = random_tensor(kShape, 8, 0.2f, 4.f);
  const Tensor x0 = away_from(x, 0.f, 0.2f);
  check_unary(NodeBuilder("Exp", {"x"}), x, [](double v) { return std::exp(v); });
  check_unary(NodeBuilder("Log", {"x"}), pos, [](double v) { return std::log(v); });
  check_unary(NodeBuilder("Sqrt", {"x"}), pos, [](double v) { return std::sqrt(v); });
  check_unary(NodeBuilder("Neg", {"x"}), x, [](double v) { return -v; });
  check_unary(NodeBuilder("Abs", {"x"}), x0, [](double v) { return std::fabs(v); });
  check_unary(NodeBuilder("Reciprocal", {"x"}), x0, [](double v) { return 1 / v; });
  check_unary(NodeBuilder("Erf", {"x"}), x, [](double v) { return std::erf(v); });
  check_unary(NodeBuilder("Gelu", {"x"}).opset(20), x, gelu_ref);
  check_unary(NodeBuilder("Gelu", {"x"}).opset(20).attr("approximate", Attribute::of("tanh")), x,
              gelu_tanh_ref);
  check_unary(NodeBuilder("Elu", {"x"}), x0, [](double v) { return v >= 0 ? v : std::expm1(v); });
  check_unary(NodeBuilder("Elu", {"x"}).attr("alpha", Attribute::of(0.5f)), x0,
              [](double v) { return v >= 0 ? v : 0.5 * std::expm1(v); });
  const double sa = 1.67326319217681884765625, sg = 1.05070102214813232421875;
  check_unary(NodeBuilder("Selu", {"x"}), x0,
              [=](double v) { return v > 0 ? sg * v : sg * sa * std::expm1(v); });
  check_unary(NodeBuilder("Selu", {"x"}).attr("alpha", Attribute::of(2.f)).attr("gamma", Attribute::of(0.5f)),
              x0, [](double v) { return v > 0 ? 0.5 * v : 0.5 * 2 * std::expm1(v); });
  check_unary(NodeBuilder("Celu", {"x"}).opset(12), x0,
              [](double v) { return std::max(0.0, v) + std::min(0.0, std::expm1(v)); });
  check_unary(NodeBuilder("Celu", {"x"}).opset(12).attr("alpha", Attribute::of(2.f)), x0,
              [](double v) { return std::max(0.0, v) + std::min(0.0, 2 * std::expm1(v / 2)); });
  check_unary(NodeBuilder("Mish", {"x"}).opset(18), x,
              [](double v) { return v * std::tanh(std::log1p(std::exp(v))); });
  check_unary(NodeBuilder("Softsign", {"x"}), x0, [](double v) { return v / (1 + std::fabs(v)); });
  check_unary(NodeBuilder("ThresholdedRelu", {"x"}).opset(10), away_from(x, 1.f, 0.2f),
              [](double v) { return v > 1 ? v : 0; });
  check_unary(NodeBuilder("ThresholdedRelu", {"x"}).opset(10).attr("alpha", Attribute::of(-0.5f)),
              away_from(x, -0.5f, 0.2f), [](double v) { return v > -0.5 ? v : 0; });
}

TEST_CASE("unary math and activations: hand-computed values") {
  check_equal(eval1(NodeBuilder("Exp", {"x"}), values({0.f, 1.f})), values({1.f, 2.7182818f}), 1e-6);
  check_equal(eval1(NodeBuilder("Log", {"x"}), values({1.f, 2.7182818f})), values({0.f, 1.f}), 1e-6);
  check_equal(eval1(NodeBuilder("Sqrt", {"x"}), values({4.f, 2.25f})), values({2.f, 1.5f}), 1e-7);
  check_equal(eval1(NodeBuilder("Neg", {"x"}), values({-2.f, 3.f})), values({2.f, -3.f}));
  check_equal(eval1(NodeBuilder("Abs", {"x"}), values({-2.f, 0.f, 3.f})), values({2.f, 0.f, 3.f}));
  check_equal(eval1(NodeBuilder("Reciprocal", {"x"}), values({4.f, -0.5f})), values({0.25f, -2.f}));
  check_equal(eval1(NodeBuilder("Erf", {"x"}), values({0.f, 0.5f, -1.f})),
              values({0.f, 0.5204999f, -0.8427008f}), 1e-6);
  check_equal(eval1(NodeBuilder("Gelu", {"x"}).opset(20), values({1.f, -1.f, 0.f})),
              values({0.8413447f, -0.1586553f, 0.f}), 1e-6);
  check_equal(eval1(NodeBuilder("Gelu", {"x"}).opset(20).attr("approximate", Attribute::of("tanh")),
                    values({1.f, -1.f})),
              values({0.8411920f, -0.1588080f}), 1e-6);
  check_equal(eval1(NodeBuilder("Elu", {"x"}), values({-1.f, 2.f})), values({-0.6321206f, 2.f}), 1e-6);
  check_equal(eval1(NodeBuilder("Selu", {"x"}), values({-1.f, 2.f})), values({-1.1113307f, 2.1014020f}), 1e-6);
  check_equal(eval1(NodeBuilder("Celu", {"x"}).opset(12).attr("alpha", Attribute::of(2.f)), values({-1.f, 3.f})),
              values({-0.7869387f, 3.f}), 1e-6);
  check_equal(eval1(NodeBuilder("Mish", {"x"}).opset(18), values({1.f, -1.f})),
              values({0.8650984f, -0.3034015f}), 1e-6);
  check_equal(eval1(NodeBuilder("Softsign", {"x"}), values({3.f, -1.f})), values({0.75f, -0.5f}));
  check_equal(eval1(NodeBuilder("ThresholdedRelu", {"x"}).opset(10), values({1.5f, 1.f, 0.5f})),
              values({1.5f, 0.f, 0.f}));
}

TEST_CASE("unary layers: bad attributes and input counts throw naming the node") {
  CHECK_THROWS_WITH_AS(load_layer(NodeBuilder("Gelu", {"x"}, "g").opset(20).attr("approximate", Attribute::of("erf"))),
                       doctest::Contains("node 'g' (Gelu): approximate must be 'none' or 'tanh', got 'erf'"), Error);
  CHECK_THROWS_WITH_AS(load_layer(NodeBuilder("Celu", {"x"}, "c").opset(12).attr("alpha", Attribute::of(0.f))),
                       doctest::Contains("node 'c' (Celu): alpha must not be 0"), Error);
  CHECK_THROWS_WITH_AS(load_layer(NodeBuilder("Exp", {"x", "y"}, "e")),
                       doctest::Contains("node 'e' (Exp): expected 1 inputs, got 2"), Error);
  CHECK_THROWS_WITH_AS(load_layer(NodeBuilder("Elu", {"x"}, "e").attr("alpha", Attribute::of(int64_t(1)))),
                       doctest::Contains("node 'e' (Elu): attribute 'alpha' is int, expected float"), Error);
  CHECK_THROWS_WITH_AS(load_layer(NodeBuilder("Mish", {"x"}, "m").opset(18).attr("beta", Attribute::of(1.f))),
                       doctest::Contains("node 'm' (Mish): unsupported attribute 'beta'"), Error);
  // consumed_inputs only before opset 6.
  CHECK_NOTHROW(load_layer(NodeBuilder("Exp", {"x"}).opset(1).attr("consumed_inputs", ints_attr({0}))));
  CHECK_THROWS_WITH_AS(load_layer(NodeBuilder("Exp", {"x"}, "e").opset(13).attr("consumed_inputs", ints_attr({0}))),
                       doctest::Contains("node 'e' (Exp): unsupported attribute 'consumed_inputs'"), Error);
}

// ---- Pow, PRelu -----------------------------------------------------------------------------

TEST_CASE("Pow: constant or runtime exponent, numpy broadcasting, gradients to both") {
  const Tensor base = random_tensor(kShape, 11, 0.5f, 2.f);
  // Constant exponent 2 (a scalar initializer), as in an exported LayerNorm.
  const Initializer two(Tensor(Shape{}, {2.f}));
  auto sq = load_layer(NodeBuilder("Pow", {"x", "p"}), {nullptr, &two});
  Tensor y = evaluate(*sq, {base}, {nullptr, &two});
  for (int64_t i = 0; i < y.numel(); ++i) CHECK(y[i] == doctest::Approx(base[i] * base[i]));
  CHECK_GRADIENTS(gradcheck_layer(*sq, {base}, {nullptr, &two}));
  // Runtime exponent [4] broadcast along the last axis.
  const Tensor e = random_tensor(Shape{4}, 12, -1.5f, 2.5f);
  auto p = load_layer(NodeBuilder("Pow", {"x", "e"}));
  y = evaluate(*p, {base, e});
  for (int64_t i = 0; i < y.numel(); ++i) CHECK(y[i] == doctest::Approx(std::pow(base[i], e[i % 4])).epsilon(1e-5));
  CHECK_GRADIENTS(gradcheck_layer(*p, {base, e}));
  check_equal(evaluate(*p, {values({2.f, 3.f}), values({3.f})}), values({8.f, 27.f}));
  // Negative base, integer exponent.
  check_equal(evaluate(*p, {values({-2.f}), values({3.f})}), values({-8.f}));
  CHECK_THROWS_WITH_AS(evaluate(*p, {Tensor(Shape{2, 3}), Tensor(Shape{2})}),
                       doctest::Contains("node 'n' (Pow)"), Error);
}

TEST_CASE("PRelu: per-channel constant slope, forward, gradient, errors") {
  const Tensor x = away_from(random_tensor(Shape{2, 3, 4, 5}, 13, -2.f, 2.f), 0.f);
  const Initializer slope(Tensor(Shape{3, 1, 1}, {0.1f, -0.5f, 2.f}));
  auto layer = load_layer(NodeBuilder("PRelu", {"x", "s"}, "pr"), {nullptr, &slope});
  const Tensor y = evaluate(*layer, {x}, {nullptr, &slope});
  for (int64_t i = 0; i < x.numel(); ++i) {
    const float s = slope.value[(i / 20) % 3];
    CHECK(y[i] == (x[i] >= 0 ? x[i] : s * x[i]));
  }
  CHECK_GRADIENTS(gradcheck_layer(*layer, {x}, {nullptr, &slope}));
  const Initializer scalar(Tensor(Shape{1}, {0.25f}));
  check_equal(evaluate(*load_layer(NodeBuilder("PRelu", {"x", "s"}), {nullptr, &scalar}),
                       {values({-4.f, 4.f})}, {nullptr, &scalar}),
              values({-1.f, 4.f}));
  CHECK_THROWS_WITH_AS(layer->infer({Shape{2, 4, 4, 5}}),
                       doctest::Contains("node 'pr' (PRelu): slope of shape [3,1,1] does not broadcast to input X of shape [2,4,4,5]"),
                       Error);
  CHECK_THROWS_WITH_AS(load_layer(NodeBuilder("PRelu", {"x", "s"}, "pr")),
                       doctest::Contains("node 'pr' (PRelu): slope (input 1) must be a constant"), Error);
}

// ---- variadic ---------------------------------------------------------------------------------

TEST_CASE("Sum/Mean/Max/Min: three broadcast inputs against plain loops, gradients") {
  // Values on three interleaved lattices (offsets 0.1, 0.2, 0 modulo 0.3): any two operands
  // differ by at least 0.1, so no max/min switches within the finite-difference step.
  Tensor a(Shape{2, 3, 4});
  for (int64_t i = 0; i < a.numel(); ++i) a[i] = float((i * 7) % 24 - 12) * 0.3f + 0.1f;
  const Tensor b(Shape{3, 1}, {-1.f, 0.2f, 1.4f});
  const Tensor c(Shape{4}, {-0.9f, 0.3f, 0.f, 1.5f});
  struct Op {
    const char* name;
    std::function<double(double, double, double)> f;
  };
  const Op ops[] = {
      {"Sum", [](double p, double q, double r) { return p + q + r; }},
      {"Mean", [](double p, double q, double r) { return (p + q + r) / 3; }},
      {"Max", [](double p, double q, double r) { return std::max(p, std::max(q, r)); }},
      {"Min", [](double p, double q, double r) { return std::min(p, std::min(q, r)); }},
  };
  for (const Op& op : ops) {
    INFO(op.name);
    auto layer = load_layer(NodeBuilder(op.name, {"a", "b", "c"}).opset(13));
    REQUIRE(layer->infer({a.shape(), b.shape(), c.shape()})[0] == kShape);
    const Tensor y = evaluate(*layer, {a, b, c});
    REQUIRE(y.shape() == kShape);
    for (int64_t i = 0; i < y.numel(); ++i) {
      const int64_t row = (i / 4) % 3, col = i % 4;
      CHECK(y[i] == doctest::Approx(op.f(a[i], b[row], c[col])).epsilon(1e-6));
    }
    CHECK_GRADIENTS(gradcheck_layer(*layer, {a, b, c}));
  }
  // One input: a copy.
  check_equal(evaluate(*load_layer(NodeBuilder("Sum", {"a"})), {a}), a);
}

TEST_CASE("Max/Min split the gradient evenly among ties (torch.maximum halves it)") {
  for (const char* op : {"Max", "Min"}) {
    INFO(op);
    auto layer = load_layer(NodeBuilder(op, {"a", "b", "c"}));
    Tape tape;
    Var a = tape.input(values({1.f, 2.f, 5.f}));
    Var b = tape.input(values({1.f, 2.f, 0.f}));
    Var c = tape.input(values({1.f, 7.f, 5.f}));
    Var y = run(*layer, tape, {a, b, c});
    tape.backward(y, values({3.f, 3.f, 3.f}));
    const bool max = std::string(op) == "Max";
    // element 0: three-way tie; element 1: a = b tie (min) or c wins (max); element 2: a = c tie
    // (max) or b wins (min).
    check_equal(tape.grad(a), max ? values({1.f, 0.f, 1.5f}) : values({1.f, 1.5f, 0.f}));
    check_equal(tape.grad(b), max ? values({1.f, 0.f, 0.f}) : values({1.f, 1.5f, 3.f}));
    check_equal(tape.grad(c), max ? values({1.f, 3.f, 1.5f}) : values({1.f, 0.f, 0.f}));
  }
  // Two inputs: the same as the engine's maximum (torch.maximum).
  Tape tape;
  Var a = tape.input(values({2.f, 1.f})), b = tape.input(values({2.f, 0.f}));
  Var y = run(*load_layer(NodeBuilder("Max", {"a", "b"})), tape, {a, b});
  tape.backward(y, values({1.f, 1.f}));
  check_equal(tape.grad(a), values({0.5f, 1.f}));
  check_equal(tape.grad(b), values({0.5f, 0.f}));
}

TEST_CASE("Sum/Mean/Max/Min: opset rules and errors") {
  // Opsets 6-7: no broadcasting.
  auto old = load_layer(NodeBuilder("Sum", {"a", "b"}, "s").opset(6));
  CHECK_THROWS_WITH_AS(old->infer({Shape{2, 3}, Shape{3}}),
                       doctest::Contains("node 's' (Sum): input 1 has shape [3], input 0 has [2,3]; opset 6 does not broadcast"),
                       Error);
  CHECK(old->infer({Shape{2, 3}, Shape{2, 3}})[0] == Shape({2, 3}));
  CHECK_NOTHROW(load_layer(NodeBuilder("Max", {"a", "b"}).opset(1).attr("consumed_inputs", ints_attr({0, 1}))));
  auto m = load_layer(NodeBuilder("Mean", {"a", "b"}, "m"));
  CHECK_THROWS_WITH_AS(m->infer({Shape{2, 3}, Shape{4}}), doctest::Contains("node 'm' (Mean): "), Error);
  CHECK_THROWS_WITH_AS(load_layer(NodeBuilder("Min", {}, "z")),
                       doctest::Contains("node 'z' (Min): expected at least 1 input, got 0"), Error);
  CHECK_THROWS_WITH_AS(load_layer(NodeBuilder("Min", {"a", ""}, "z")),
                       doctest::Contains("node 'z' (Min): input 1 is missing"), Error);
}

// ---- reductions --------------------------------------------------------------------------------

namespace {

// Plain-loop reduction of x [2,3,4] over `axes` (sorted, non-negative) with keepdims.
Tensor ref_reduce(const Tensor& x, const std::vector<int>& axes, bool keepdims, const std::string& op) {
  const Shape& s = x.shape();
  Shape kept = s, out;
  for (int a : axes) kept[a] = 1;
  for (int i = 0; i < s.rank(); ++i)
    if (keepdims || std::find(axes.begin(), axes.end(), i) == axes.end()) out.push_back(kept[i]);
  std::vector<double> acc(size_t(kept.numel()), op == "ReduceMax" ? -1e30 : op == "ReduceMin" ? 1e30 : 0.0);
  std::vector<double> count(acc.size(), 0);
  for (int64_t i = 0; i < x.numel(); ++i) {
    int64_t rem = i, o = 0, stride = 1;
    std::vector<int64_t> idx(size_t(s.rank()));
    for (int d = s.rank() - 1; d >= 0; --d) {
      idx[size_t(d)] = rem % s[d];
      rem /= s[d];
    }
    for (int d = s.rank() - 1; d >= 0; --d) {
      o += (kept[d] == 1 ? 0 : idx[size_t(d)]) * stride;
      stride *= kept[d];
    }
    const double v = x[i];
    double& t = acc[size_t(o)];
    if (op == "ReduceMax") t = std::max(t, v);
    else if (op == "ReduceMin") t = std::min(t, v);
    else if (op == "ReduceL2" || op == "ReduceSumSquare") t += v * v;
    else t += v;
    count[size_t(o)] += 1;
  }
  Tensor y(out);
  for (size_t i = 0; i < acc.size(); ++i) {
    double v = acc[i];
    if (op == "ReduceMean") v /= count[i];
    if (op == "ReduceL2") v = std::sqrt(v);
    y[int64_t(i)] = float(v);
  }
  return y;
}

}  // namespace

TEST_CASE("Reduce*: axes attribute or input, keepdims, negative axes, against plain loops") {
  // Distinct values 0.15 apart (a permutation): no max/min ties within the finite-difference step.
  Tensor x(kShape);
  for (int64_t i = 0; i < x.numel(); ++i) x[i] = float((i * 7) % 24 - 12) * 0.15f + 0.05f;
  const char* ops[] = {"ReduceSum", "ReduceMean", "ReduceMax", "ReduceMin", "ReduceL2", "ReduceSumSquare"};
  const std::vector<std::vector<int64_t>> axes_sets = {{1}, {0, 2}, {-1}, {2, -3}, {0, 1, 2}, {}};
  int checked = 0;
  for (const char* op : ops) {
    const int64_t input_opset = std::string(op) == "ReduceSum" ? 13 : 18;
    for (const auto& axes : axes_sets)
      for (int keepdims : {0, 1})
        for (bool as_input : {false, true}) {
          INFO(op << " axes " << axes.size() << " keepdims " << keepdims << " input " << as_input);
          std::vector<int> norm;
          for (int64_t a : axes) norm.push_back(int(a < 0 ? a + 3 : a));
          if (axes.empty()) norm = {0, 1, 2};
          std::sort(norm.begin(), norm.end());
          const Tensor want = ref_reduce(x, norm, keepdims != 0, op);
          Initializer axes_init = Initializer::from_ints(Shape{int64_t(axes.size())}, axes);
          NodeBuilder nb(op, as_input ? std::vector<std::string>{"x", "axes"} : std::vector<std::string>{"x"});
          nb.opset(as_input ? input_opset : 11).attr("keepdims", Attribute::of(int64_t(keepdims)));
          if (!as_input && !axes.empty()) nb.attr("axes", ints_attr(axes));
          std::vector<const Initializer*> constants{nullptr};
          if (as_input) constants.push_back(&axes_init);
          auto layer = load_layer(nb, constants);
          CHECK(layer->infer({kShape})[0] == want.shape());
          const Tensor y = evaluate(*layer, {x}, constants);
          REQUIRE(y.shape() == want.shape());
          check_equal(y, want, 1e-5);
          CHECK_GRADIENTS(gradcheck_layer(*layer, {x}, constants));
          // The same axes as a runtime input tensor.
          if (as_input && !axes.empty()) {
            auto runtime = load_layer(nb);
            Tensor axes_values(Shape{int64_t(axes.size())});
            for (size_t i = 0; i < axes.size(); ++i) axes_values[int64_t(i)] = float(axes[i]);
            check_equal(evaluate(*runtime, {x, axes_values}), want, 1e-5);
          }
          ++checked;
        }
  }
  CHECK(checked == 6 * 6 * 2 * 2);
}

TEST_CASE("Reduce*: noop_with_empty_axes, ties, hand values, opset rules and errors") {
  const Tensor x(Shape{2, 3}, {1.f, 5.f, 5.f, -2.f, 0.f, 4.f});
  // noop_with_empty_axes = 1 with no axes: identity (opset 18; ReduceSum from 13).
  check_equal(evaluate(*load_layer(NodeBuilder("ReduceMean", {"x"}).opset(18).attr("noop_with_empty_axes", Attribute::of(1))), {x}), x);
  check_equal(evaluate(*load_layer(NodeBuilder("ReduceSum", {"x", ""}).opset(13).attr("noop_with_empty_axes", Attribute::of(1))), {x}), x);
  check_equal(evaluate(*load_layer(NodeBuilder("ReduceSum", {"x"}).opset(13)), {x}), Tensor(Shape{1, 1}, {13.f}));
  check_equal(evaluate(*load_layer(NodeBuilder("ReduceMax", {"x"}).attr("axes", ints_attr({1})).attr("keepdims", Attribute::of(0))), {x}),
              values({5.f, 4.f}));
  check_equal(evaluate(*load_layer(NodeBuilder("ReduceL2", {"x"}).attr("axes", ints_attr({0}))), {x}),
              Tensor(Shape{1, 3}, {std::sqrt(5.f), 5.f, std::sqrt(41.f)}), 1e-6);
  check_equal(evaluate(*load_layer(NodeBuilder("ReduceSumSquare", {"x"}).attr("axes", ints_attr({1}))), {x}),
              Tensor(Shape{2, 1}, {51.f, 20.f}));
  // Ties: the gradient of ReduceMax splits evenly (torch.amax).
  {
    auto layer = load_layer(NodeBuilder("ReduceMax", {"x"}).attr("axes", ints_attr({1})));
    Tape tape;
    Var xv = tape.input(x);
    Var y = run(*layer, tape, {xv});
    tape.backward(y, Tensor(Shape{2, 1}, {2.f, 3.f}));
    check_equal(tape.grad(xv), Tensor(Shape{2, 3}, {0.f, 1.f, 1.f, 0.f, 0.f, 3.f}));
  }
  // ReduceL2 at an all-zero row: gradient 0, not NaN.
  {
    auto layer = load_layer(NodeBuilder("ReduceL2", {"x"}).attr("axes", ints_attr({1})));
    Tape tape;
    Var xv = tape.input(Tensor(Shape{1, 2}, {0.f, 0.f}));
    Var y = run(*layer, tape, {xv});
    tape.backward(y, Tensor(Shape{1, 1}, {1.f}));
    check_equal(tape.grad(xv), Tensor(Shape{1, 2}, {0.f, 0.f}));
  }
  // Errors.
  CHECK_THROWS_WITH_AS(evaluate(*load_layer(NodeBuilder("ReduceMean", {"x"}, "r").attr("axes", ints_attr({1, -1}))), {x}),
                       doctest::Contains("node 'r' (ReduceMean): axis -1 is repeated in axes [1,-1]"), Error);
  CHECK_THROWS_WITH_AS(load_layer(NodeBuilder("ReduceMean", {"x"}, "r").attr("axes", ints_attr({2})))->infer({Shape{2, 3}}),
                       doctest::Contains("node 'r' (ReduceMean): axis 2 is out of range for shape [2,3]"), Error);
  CHECK_THROWS_WITH_AS(load_layer(NodeBuilder("ReduceMax", {"x"}, "r").opset(1).attr("axes", ints_attr({-1})))->infer({Shape{2, 3}}),
                       doctest::Contains("node 'r' (ReduceMax): axis -1 is negative, which opset 1 does not allow"), Error);
  // Axes are an attribute before the input opset, an input from it.
  CHECK_THROWS_WITH_AS(load_layer(NodeBuilder("ReduceMean", {"x", "a"}, "r").opset(17)),
                       doctest::Contains("node 'r' (ReduceMean): expected 1 inputs, got 2"), Error);
  CHECK_THROWS_WITH_AS(load_layer(NodeBuilder("ReduceMean", {"x"}, "r").opset(18).attr("axes", ints_attr({1}))),
                       doctest::Contains("node 'r' (ReduceMean): unsupported attribute 'axes'"), Error);
  CHECK_THROWS_WITH_AS(load_layer(NodeBuilder("ReduceSum", {"x"}, "r").opset(13).attr("axes", ints_attr({1}))),
                       doctest::Contains("node 'r' (ReduceSum): unsupported attribute 'axes'"), Error);
  CHECK_THROWS_WITH_AS(load_layer(NodeBuilder("ReduceL2", {"x"}, "r").opset(13).attr("noop_with_empty_axes", Attribute::of(1))),
                       doctest::Contains("node 'r' (ReduceL2): unsupported attribute 'noop_with_empty_axes'"), Error);
  CHECK_THROWS_WITH_AS(load_layer(NodeBuilder("ReduceMin", {"x"}, "r").opset(18).attr("noop_with_empty_axes", Attribute::of(2))),
                       doctest::Contains("node 'r' (ReduceMin): noop_with_empty_axes must be 0 or 1, got 2"), Error);
  CHECK_THROWS_WITH_AS(load_layer(NodeBuilder("ReduceSum", {"x", "a"}, "r").opset(13))->infer({Shape{2, 3}}),
                       doctest::Contains("node 'r' (ReduceSum): axes are a runtime input"), Error);
}

// ---- LayerNormalization ---------------------------------------------------------------------

namespace {

// Plain-loop LayerNorm over the trailing `inner` elements, scale/bias indexed by j mod their size.
Tensor ref_layer_norm(const Tensor& x, int64_t inner, const Tensor& g, const Tensor* b, double eps) {
  Tensor y(x.shape());
  for (int64_t r = 0; r < x.numel() / inner; ++r) {
    double m = 0, v = 0;
    for (int64_t j = 0; j < inner; ++j) m += x[r * inner + j];
    m /= double(inner);
    for (int64_t j = 0; j < inner; ++j) v += (x[r * inner + j] - m) * (x[r * inner + j] - m);
    v /= double(inner);
    for (int64_t j = 0; j < inner; ++j)
      y[r * inner + j] = float((x[r * inner + j] - m) / std::sqrt(v + eps) * g[j % g.numel()] +
                               (b ? (*b)[j % b->numel()] : 0.f));
  }
  return y;
}

}  // namespace

TEST_CASE("LayerNormalization: axis, scale/bias broadcast, forward against plain loops, gradients") {
  const Tensor x = random_tensor(Shape{2, 3, 5}, 41, -2.f, 2.f);
  const Initializer g5(random_tensor(Shape{5}, 42, 0.5f, 1.5f));
  const Initializer b5(random_tensor(Shape{5}, 43));
  auto ln = load_layer(NodeBuilder("LayerNormalization", {"x", "g", "b"}), {nullptr, &g5, &b5});
  check_equal(evaluate(*ln, {x}, {nullptr, &g5, &b5}), ref_layer_norm(x, 5, g5.value, &b5.value, 1e-5), 1e-5);
  CHECK_GRADIENTS(gradcheck_layer(*ln, {x}, {nullptr, &g5, &b5}));
  // axis 1 (= −2) over [3, 5], scale [3, 5], bias [5] broadcast, epsilon 0.1, no bias.
  const Initializer g15(random_tensor(Shape{3, 5}, 44, 0.5f, 1.5f));
  for (int64_t axis : {1, -2}) {
    auto ln2 = load_layer(NodeBuilder("LayerNormalization", {"x", "g", "b"})
                              .attr("axis", Attribute::of(axis)).attr("epsilon", Attribute::of(0.1f)),
                          {nullptr, &g15, &b5});
    check_equal(evaluate(*ln2, {x}, {nullptr, &g15, &b5}), ref_layer_norm(x, 15, g15.value, &b5.value, 0.1), 1e-5);
    CHECK_GRADIENTS(gradcheck_layer(*ln2, {x}, {nullptr, &g15, &b5}));
  }
  auto nob = load_layer(NodeBuilder("LayerNormalization", {"x", "g"}).attr("axis", Attribute::of(0)),
                        {nullptr, &g5});
  check_equal(evaluate(*nob, {x}, {nullptr, &g5}), ref_layer_norm(x, 30, g5.value, nullptr, 1e-5), 1e-5);
  CHECK_GRADIENTS(gradcheck_layer(*nob, {x}, {nullptr, &g5}));
  // Hand values: [1, 3] → mean 2, variance 1 → [−1, 1]/√(1 + ε).
  check_equal(evaluate(*load_layer(NodeBuilder("LayerNormalization", {"x", "g"}).attr("epsilon", Attribute::of(0.f)),
                                   {nullptr, &g5}),
                       {values({1.f, 3.f, 3.f, 1.f, 2.f})}, {nullptr, &g5}),
              ref_layer_norm(values({1.f, 3.f, 3.f, 1.f, 2.f}), 5, g5.value, nullptr, 0.0), 1e-6);
  const Initializer ones(Tensor(Shape{2}, {1.f, 1.f}));
  check_equal(evaluate(*load_layer(NodeBuilder("LayerNormalization", {"x", "g"}).attr("epsilon", Attribute::of(0.f)),
                                   {nullptr, &ones}),
                       {values({1.f, 3.f})}, {nullptr, &ones}),
              values({-1.f, 1.f}), 1e-6);
}

TEST_CASE("LayerNormalization reports B as its bias; the BiasTap map is grad ⊙ B") {
  const Initializer g(random_tensor(Shape{4}, 45, 0.5f, 1.5f));
  const Initializer b(Tensor(Shape{4}, {0.5f, -1.f, 2.f, 0.25f}));
  auto ln = load_layer(NodeBuilder("LayerNormalization", {"x", "g", "b"}, "ln"), {nullptr, &g, &b});
  Tape tape;
  BiasTap tap;
  tape.observe(&tap);
  Var y = run(*ln, tape, {tape.input(random_tensor(Shape{2, 3, 4}, 46))}, {nullptr, &g, &b});
  REQUIRE(tape.info(y).bias != nullptr);
  CHECK(tape.info(y).bias->shape() == Shape({4}));
  const Tensor u = random_tensor(y.shape(), 47);
  tape.backward(y, u);
  REQUIRE(tap.entries().size() == 1);
  CHECK(tap.entries()[0].op == "LayerNormalization");
  const Tensor& map = tap.entries()[0].map;
  REQUIRE(map.shape() == y.shape());
  for (int64_t i = 0; i < u.numel(); ++i) CHECK(map[i] == u[i] * b.value[i % 4]);
  // Without B: no bias.
  auto nob = load_layer(NodeBuilder("LayerNormalization", {"x", "g"}), {nullptr, &g});
  Tape tape2;
  Var y2 = run(*nob, tape2, {tape2.input(random_tensor(Shape{2, 4}, 48))}, {nullptr, &g});
  CHECK(tape2.info(y2).bias == nullptr);
}

TEST_CASE("LayerNormalization: errors name the node") {
  const Initializer g(random_tensor(Shape{4}, 49));
  auto ln = load_layer(NodeBuilder("LayerNormalization", {"x", "g"}, "ln"), {nullptr, &g});
  CHECK_THROWS_WITH_AS(ln->infer({Shape{2, 5}}),
                       doctest::Contains("node 'ln' (LayerNormalization): Scale of shape [4] does not broadcast to the normalized shape [5]"),
                       Error);
  auto ax = load_layer(NodeBuilder("LayerNormalization", {"x", "g"}, "ln").attr("axis", Attribute::of(2)), {nullptr, &g});
  CHECK_THROWS_WITH_AS(ax->infer({Shape{2, 4}}),
                       doctest::Contains("node 'ln' (LayerNormalization): axis 2 is out of range for input X of shape [2,4]"), Error);
  CHECK_THROWS_WITH_AS(load_layer(NodeBuilder("LayerNormalization", {"x", "g"}, "ln")),
                       doctest::Contains("node 'ln' (LayerNormalization): Scale (input 1) must be a constant"), Error);
  CHECK_THROWS_WITH_AS(load_layer(NodeBuilder("LayerNormalization", {"x"}, "ln"), {nullptr}),
                       doctest::Contains("node 'ln' (LayerNormalization): expected 2 to 3 inputs, got 1"), Error);
  CHECK_THROWS_WITH_AS(load_layer(NodeBuilder("LayerNormalization", {"x", "g"}, "ln").attr("stash_type", Attribute::of(7)), {nullptr, &g}),
                       doctest::Contains("node 'ln' (LayerNormalization): stash_type must be 1 (float) or 11 (double), got 7"), Error);
  CHECK_THROWS_WITH_AS(load_layer(NodeBuilder("LayerNormalization", {"x", "g"}, "ln").outputs({"y", "mean", "inv", "extra"}), {nullptr, &g}),
                       doctest::Contains("node 'ln' (LayerNormalization): expected at most 3 outputs, got 4"), Error);
}

TEST_CASE("decomposed LayerNorm (torch export below opset 17) matches LayerNormalization, values and gradients") {
  const int64_t D = 6;
  GraphBuilder b(3);
  b.input("x", {-1, 4, D});
  const std::string gamma = b.weight("ln.weight", Shape{D}, 0.5f, 1.5f);
  const std::string beta = b.weight("ln.bias", Shape{D});
  const std::string two = b.constant("two", Tensor(Shape{}, {2.f}));
  const std::string eps = b.constant("eps", Tensor(Shape{}, {1e-5f}));
  const std::map<std::string, Attribute> last{{"axes", ints_attr({-1})}};
  std::string mu = b.node("ReduceMean", {"x"}, last);
  std::string centred = b.node("Sub", {"x", mu});
  std::string sq = b.node("Pow", {centred, two});
  std::string var = b.node("ReduceMean", {sq}, last);
  std::string shifted = b.node("Add", {var, eps});
  std::string sd = b.node("Sqrt", {shifted});
  std::string normed = b.node("Div", {centred, sd});
  std::string scaled = b.node("Mul", {normed, gamma});
  std::string out = b.node("Add", {scaled, beta}, {}, "y");
  b.output(out);
  Graph decomposed = b.build();
  for (NodeDef& n : decomposed.nodes) n.opset = 13;

  Graph fused = decomposed;
  NodeDef ln;
  ln.name = "y";
  ln.op_type = "LayerNormalization";
  ln.inputs = {"x", "ln.weight", "ln.bias"};
  ln.outputs = {"y"};
  ln.attributes["epsilon"] = Attribute::of(1e-5f);
  fused.nodes = {ln};

  Model dm(decomposed), fm(fused);
  const Tensor x = random_tensor(Shape{2, 4, D}, 51, -2.f, 2.f);
  Tape t1, t2;
  Var x1 = t1.input(x), x2 = t2.input(x);
  Var y1 = dm.forward(t1, {x1})[0], y2 = fm.forward(t2, {x2})[0];
  CHECK(rel_l2(y1.value(), y2.value()) < 1e-5);
  const Tensor u = random_tensor(y1.shape(), 52);
  t1.backward(y1, u);
  t2.backward(y2, u);
  const double grad_diff = rel_l2(t1.grad(x1), t2.grad(x2));
  CHECK(grad_diff < 1e-4);
  MESSAGE("decomposed vs fused LayerNorm: gradient relative difference " << grad_diff);
  CHECK_GRADIENTS(check_gradients(
      [&](Tape& tape, const std::vector<Var>& v) { return dm.forward(tape, v)[0]; }, {x}));
  CHECK_GRADIENTS(check_gradients(
      [&](Tape& tape, const std::vector<Var>& v) { return fm.forward(tape, v)[0]; }, {x}));
}

// ---- InstanceNormalization ------------------------------------------------------------------

TEST_CASE("InstanceNormalization: forward against plain loops, gradients, bias map, errors") {
  const Tensor x = random_tensor(Shape{2, 3, 4, 5}, 61, -2.f, 2.f);
  const Initializer s(Tensor(Shape{3}, {0.5f, 1.5f, -1.f}));
  const Initializer b(Tensor(Shape{3}, {0.25f, -1.f, 2.f}));
  auto in = load_layer(NodeBuilder("InstanceNormalization", {"x", "s", "b"}, "in"), {nullptr, &s, &b});
  const Tensor y = evaluate(*in, {x}, {nullptr, &s, &b});
  for (int64_t plane = 0; plane < 6; ++plane) {
    double m = 0, v = 0;
    for (int64_t j = 0; j < 20; ++j) m += x[plane * 20 + j];
    m /= 20;
    for (int64_t j = 0; j < 20; ++j) v += (x[plane * 20 + j] - m) * (x[plane * 20 + j] - m);
    v /= 20;
    for (int64_t j = 0; j < 20; ++j) {
      const double want = (x[plane * 20 + j] - m) / std::sqrt(v + 1e-5) * s.value[plane % 3] + b.value[plane % 3];
      CHECK(y[plane * 20 + j] == doctest::Approx(want).epsilon(1e-5));
    }
  }
  CHECK_GRADIENTS(gradcheck_layer(*in, {x}, {nullptr, &s, &b}));
  const Tensor x3 = random_tensor(Shape{2, 3, 7}, 62, -2.f, 2.f);
  CHECK_GRADIENTS(gradcheck_layer(*in, {x3}, {nullptr, &s, &b}));

  Tape tape;
  BiasTap tap;
  tape.observe(&tap);
  Var yv = run(*in, tape, {tape.input(x)}, {nullptr, &s, &b});
  REQUIRE(tape.info(yv).bias != nullptr);
  CHECK(tape.info(yv).bias->shape() == Shape({3, 1, 1}));
  const Tensor u = random_tensor(yv.shape(), 63);
  tape.backward(yv, u);
  REQUIRE(tap.entries().size() == 1);
  for (int64_t i = 0; i < u.numel(); ++i) CHECK(tap.entries()[0].map[i] == u[i] * b.value[(i / 20) % 3]);

  CHECK_THROWS_WITH_AS(in->infer({Shape{2, 4, 5}}),
                       doctest::Contains("node 'in' (InstanceNormalization): input [2,4,5] has 4 channels, scale and B have 3"), Error);
  CHECK_THROWS_WITH_AS(in->infer({Shape{2, 3}}),
                       doctest::Contains("node 'in' (InstanceNormalization): input must be [N, C, D1, ...]"), Error);
  const Initializer b4(Tensor(Shape{4}));
  CHECK_THROWS_WITH_AS(load_layer(NodeBuilder("InstanceNormalization", {"x", "s", "b"}, "in"), {nullptr, &s, &b4}),
                       doctest::Contains("node 'in' (InstanceNormalization): B has shape [4], scale has [3]"), Error);
}

// ---- Einsum -----------------------------------------------------------------------------------

TEST_CASE("Einsum: common contractions against plain loops, gradients against FD") {
  const Tensor a = random_tensor(Shape{3, 4}, 71), b = random_tensor(Shape{4, 5}, 72);
  const Tensor q = random_tensor(Shape{2, 3, 4}, 73), k = random_tensor(Shape{2, 5, 4}, 74);
  const Tensor sq = random_tensor(Shape{4, 4}, 75), v = random_tensor(Shape{4}, 76);
  auto eq = [](const char* e, std::vector<std::string> inputs) {
    return NodeBuilder("Einsum", std::move(inputs), "es").opset(12).attr("equation", Attribute::of(e));
  };
  // Matrix product, explicit and implicit output.
  for (const char* e : {"ij,jk->ik", "ij, jk"}) {
    auto layer = load_layer(eq(e, {"a", "b"}));
    const Tensor y = evaluate(*layer, {a, b});
    REQUIRE(y.shape() == Shape({3, 5}));
    for (int64_t i = 0; i < 3; ++i)
      for (int64_t j = 0; j < 5; ++j) {
        double s = 0;
        for (int64_t t = 0; t < 4; ++t) s += double(a[i * 4 + t]) * b[t * 5 + j];
        CHECK(y[i * 5 + j] == doctest::Approx(s).epsilon(1e-6));
      }
    CHECK_GRADIENTS(gradcheck_layer(*layer, {a, b}));
  }
  // Batched attention scores bid,bjd->bij.
  auto att = load_layer(eq("bid,bjd->bij", {"q", "k"}));
  const Tensor s = evaluate(*att, {q, k});
  REQUIRE(s.shape() == Shape({2, 3, 5}));
  for (int64_t bb = 0; bb < 2; ++bb)
    for (int64_t i = 0; i < 3; ++i)
      for (int64_t j = 0; j < 5; ++j) {
        double t = 0;
        for (int64_t d = 0; d < 4; ++d) t += double(q[(bb * 3 + i) * 4 + d]) * k[(bb * 5 + j) * 4 + d];
        CHECK(s[(bb * 3 + i) * 5 + j] == doctest::Approx(t).epsilon(1e-6));
      }
  CHECK_GRADIENTS(gradcheck_layer(*att, {q, k}));
  // Transpose, trace, diagonal, sum, outer product, three operands.
  check_equal(evaluate(*load_layer(eq("ij->ji", {"a"})), {a}).reshaped(Shape{12}),
              [&] { Tensor t(Shape{12}); for (int64_t i = 0; i < 3; ++i) for (int64_t j = 0; j < 4; ++j) t[j * 3 + i] = a[i * 4 + j]; return t; }());
  double trace = 0;
  for (int64_t i = 0; i < 4; ++i) trace += sq[i * 5];
  const Tensor tr = evaluate(*load_layer(eq("ii", {"m"})), {sq});
  REQUIRE(tr.shape() == Shape{});
  CHECK(tr[0] == doctest::Approx(trace).epsilon(1e-6));
  check_equal(evaluate(*load_layer(eq("ii->i", {"m"})), {sq}), Tensor(Shape{4}, {sq[0], sq[5], sq[10], sq[15]}));
  auto diag = load_layer(eq("ii->i", {"m"}));
  CHECK_GRADIENTS(gradcheck_layer(*diag, {sq}));
  {
    Tape tape;
    Var m = tape.input(sq);
    Var y = run(*diag, tape, {m});
    tape.backward(y, Tensor(Shape{4}, {1.f, 2.f, 3.f, 4.f}));
    check_equal(tape.grad(m), Tensor(Shape{4, 4}, {1, 0, 0, 0, 0, 2, 0, 0, 0, 0, 3, 0, 0, 0, 0, 4}));
  }
  auto outer = load_layer(eq("i,j->ij", {"v", "w"}));
  const Tensor o = evaluate(*outer, {v, Tensor(Shape{2}, {1.f, -2.f})});
  REQUIRE(o.shape() == Shape({4, 2}));
  CHECK(o[3] == -2.f * v[1]);
  auto three = load_layer(eq("ij,jk,k->i", {"a", "b", "c"}));
  const Tensor c5 = random_tensor(Shape{5}, 77);
  const Tensor y3 = evaluate(*three, {a, b, c5});
  for (int64_t i = 0; i < 3; ++i) {
    double t = 0;
    for (int64_t j = 0; j < 4; ++j)
      for (int64_t kk = 0; kk < 5; ++kk) t += double(a[i * 4 + j]) * b[j * 5 + kk] * c5[kk];
    CHECK(y3[i] == doctest::Approx(t).epsilon(1e-5));
  }
  CHECK_GRADIENTS(gradcheck_layer(*three, {a, b, c5}));
  CHECK_GRADIENTS(gradcheck_layer(*load_layer(eq("ij->j", {"a"})), {a}));
}

TEST_CASE("Einsum: bad equations and shapes throw naming the node") {
  auto eq = [](const char* e, std::vector<std::string> inputs) {
    return NodeBuilder("Einsum", std::move(inputs), "es").opset(12).attr("equation", Attribute::of(e));
  };
  CHECK_THROWS_WITH_AS(load_layer(eq("...ij,...jk->...ik", {"a", "b"})),
                       doctest::Contains("node 'es' (Einsum): equation '...ij,...jk->...ik': ellipsis broadcasting is not supported"), Error);
  CHECK_THROWS_WITH_AS(load_layer(eq("ij,jk->ik", {"a"})),
                       doctest::Contains("node 'es' (Einsum): equation 'ij,jk->ik' has 2 input terms but the node has 1 inputs"), Error);
  CHECK_THROWS_WITH_AS(load_layer(eq("ij->iz", {"a"})),
                       doctest::Contains("output label 'z' does not occur in any input"), Error);
  CHECK_THROWS_WITH_AS(load_layer(eq("ij->ii", {"a"})), doctest::Contains("output label 'i' is repeated"), Error);
  CHECK_THROWS_WITH_AS(load_layer(eq("i1->i", {"a"})), doctest::Contains("'1' is not a label"), Error);
  CHECK_THROWS_WITH_AS(load_layer(NodeBuilder("Einsum", {"a"}, "es").opset(12)),
                       doctest::Contains("node 'es' (Einsum): attribute 'equation' is required"), Error);
  auto mm = load_layer(eq("ij,jk->ik", {"a", "b"}));
  CHECK_THROWS_WITH_AS(mm->infer({Shape{3, 4}, Shape{5, 2}}),
                       doctest::Contains("node 'es' (Einsum): label 'j' has extent 4 and 5 (input 1 shape [5,2])"), Error);
  CHECK_THROWS_WITH_AS(mm->infer({Shape{3, 4, 1}, Shape{4, 2}}),
                       doctest::Contains("node 'es' (Einsum): input 0 has shape [3,4,1] but its term has 2 labels"), Error);
}
