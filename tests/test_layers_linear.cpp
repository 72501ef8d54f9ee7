// Gemm, MatMul and BatchNormalization: forwards against plain loops, input gradients against
// finite differences, bias reports (FullGrad), and the completeness of the FullGrad decomposition
// on small piecewise-linear networks built as Graphs.
#include <cmath>

#include "engine/error.h"
#include "engine/ops.h"
#include "engine/taps.h"
#include "layer_testing.h"
#include "layers/model.h"

using namespace gradlens;
using namespace gradlens::test;

namespace {

// C broadcast to [M,N] at (m, n): C is a scalar, [N], [1,N], [M,1] or [M,N].
float c_at(const Tensor& c, int64_t m, int64_t n) {
  if (c.rank() == 0) return c[0];
  if (c.rank() == 1) return c[c.dim(0) == 1 ? 0 : n];
  return c[(c.dim(0) == 1 ? 0 : m) * c.dim(1) + (c.dim(1) == 1 ? 0 : n)];
}

Tensor gemm_loop(const Tensor& a, const Tensor& b, const Tensor* c, float alpha, float beta,
                 bool ta, bool tb) {
  const int64_t M = ta ? a.dim(1) : a.dim(0), K = ta ? a.dim(0) : a.dim(1);
  const int64_t N = tb ? b.dim(0) : b.dim(1);
  Tensor y(Shape{M, N});
  for (int64_t m = 0; m < M; ++m)
    for (int64_t n = 0; n < N; ++n) {
      double s = 0;
      for (int64_t k = 0; k < K; ++k)
        s += double(ta ? a[k * M + m] : a[m * K + k]) * double(tb ? b[n * K + k] : b[k * N + n]);
      y[m * N + n] = float(alpha * s + (c ? beta * c_at(*c, m, n) : 0.0));
    }
  return y;
}

NodeBuilder gemm_node(bool ta, bool tb, float alpha, float beta, bool with_c, int64_t opset = 13) {
  NodeBuilder n("Gemm", with_c ? std::vector<std::string>{"A", "B", "C"} : std::vector<std::string>{"A", "B"}, "fc");
  n.attr("transA", Attribute::of(int64_t(ta))).attr("transB", Attribute::of(int64_t(tb))).opset(opset);
  if (alpha != 1.f) n.attr("alpha", Attribute::of(alpha));
  if (beta != 1.f) n.attr("beta", Attribute::of(beta));
  return n;
}

}  // namespace

TEST_CASE("Gemm with constant B: every transpose, alpha/beta, C shapes; input gradient") {
  const int64_t M = 3, K = 5, N = 4;
  const Shape c_shapes[] = {Shape{}, Shape{N}, Shape{1, N}, Shape{M, 1}, Shape{M, N}};
  int seed = 100;
  for (bool ta : {false, true})
    for (bool tb : {false, true})
      for (const Shape& cs : c_shapes) {
        INFO("transA " << ta << " transB " << tb << " C " << cs.str());
        Tensor a = random_tensor(ta ? Shape{K, M} : Shape{M, K}, uint64_t(++seed));
        Initializer b(random_tensor(tb ? Shape{N, K} : Shape{K, N}, uint64_t(++seed)));
        Initializer c(random_tensor(cs, uint64_t(++seed)));
        const float alpha = 0.75f, beta = -1.5f;
        std::vector<const Initializer*> consts{nullptr, &b, &c};
        auto layer = load_layer(gemm_node(ta, tb, alpha, beta, true), consts);
        check_equal(evaluate(*layer, {a}, consts), gemm_loop(a, b.value, &c.value, alpha, beta, ta, tb), 1e-5);
        CHECK(layer->infer({a.shape(), b.value.shape(), cs})[0] == Shape{M, N});
        CHECK(layer->macs({a.shape(), b.value.shape(), cs}) == M * N * K);
        CHECK_GRADIENTS(gradcheck_layer(*layer, {a}, consts));

        // Bias = β·C as given; BiasTap's map is g ⊙ broadcast(β·C).
        Tape tape;
        BiasTap tap;
        tape.observe(&tap);
        Var x = tape.input(a);
        Var y = run(*layer, tape, {x}, consts);
        REQUIRE(tape.info(y).bias != nullptr);
        CHECK(tape.info(y).name == "fc_out");
        const Tensor& bias = *tape.info(y).bias;
        REQUIRE(bias.shape() == cs);
        for (int64_t i = 0; i < bias.numel(); ++i) CHECK(bias[i] == doctest::Approx(beta * c.value[i]));
        Tensor g = random_tensor(y.shape(), uint64_t(++seed));
        tape.backward(y, g);
        REQUIRE(tap.entries().size() == 1);
        for (int64_t m = 0; m < M; ++m)
          for (int64_t n = 0; n < N; ++n)
            CHECK(tap.entries()[0].map[m * N + n] ==
                  doctest::Approx(g[m * N + n] * beta * c_at(c.value, m, n)).epsilon(1e-5));
      }
}

TEST_CASE("Gemm without C (opset 11+) has no bias; runtime B and C compose from engine ops") {
  const int64_t M = 2, K = 3, N = 4;
  Tensor a = random_tensor(Shape{K, M}, 1);
  Initializer b(random_tensor(Shape{N, K}, 2));
  Tensor c = random_tensor(Shape{N}, 3);
  auto no_c = load_layer(gemm_node(true, true, 2.f, 1.f, false), {nullptr, &b});
  check_equal(evaluate(*no_c, {a}, {nullptr, &b}), gemm_loop(a, b.value, nullptr, 2.f, 1.f, true, true), 1e-5);
  {
    Tape tape;
    Var y = run(*no_c, tape, {tape.input(a)}, {nullptr, &b});
    CHECK(tape.info(y).bias == nullptr);
  }
  // Everything at run time: gradients reach A, B and C.
  auto runtime = load_layer(gemm_node(true, true, 2.f, 0.5f, true));
  check_equal(evaluate(*runtime, {a, b.value, c}), gemm_loop(a, b.value, &c, 2.f, 0.5f, true, true), 1e-5);
  CHECK_GRADIENTS(gradcheck_layer(*runtime, {a, b.value, c}));
  {
    Tape tape;
    Var y = run(*runtime, tape, {tape.input(a), tape.input(b.value), tape.input(c)});
    CHECK(tape.info(y).name == "fc_out");
    CHECK(tape.info(y).bias == nullptr);  // C is not a constant
  }
  // Runtime B with constant C: the final add carries the β·C bias.
  Initializer cc(c);
  auto mixed = load_layer(gemm_node(false, false, 1.f, 0.5f, true), {nullptr, nullptr, &cc});
  Tensor a2 = random_tensor(Shape{M, K}, 4), b2 = random_tensor(Shape{K, N}, 5);
  check_equal(evaluate(*mixed, {a2, b2}, {nullptr, nullptr, &cc}), gemm_loop(a2, b2, &c, 1.f, 0.5f, false, false), 1e-5);
  CHECK_GRADIENTS(gradcheck_layer(*mixed, {a2, b2}, {nullptr, nullptr, &cc}));
  Tape tape;
  Var y = run(*mixed, tape, {tape.input(a2), tape.input(b2)}, {nullptr, nullptr, &cc});
  REQUIRE(tape.info(y).bias != nullptr);
  CHECK(tape.info(y).name == "fc_out");
  for (int64_t i = 0; i < N; ++i) CHECK((*tape.info(y).bias)[i] == doctest::Approx(0.5f * c[i]));
}

TEST_CASE("Gemm rejects bad shapes, attributes and inputs, naming the node") {
  Initializer b(random_tensor(Shape{5, 4}, 1)), c_bad(random_tensor(Shape{3}, 2)), c(random_tensor(Shape{4}, 3));
  auto layer = load_layer(gemm_node(false, false, 1.f, 1.f, false), {nullptr, &b});
  CHECK_THROWS_WITH_AS(evaluate(*layer, {random_tensor(Shape{2, 6}, 4)}, {nullptr, &b}),
                       doctest::Contains("node 'fc' (Gemm): inner dimensions differ"), Error);
  CHECK_THROWS_WITH_AS(evaluate(*layer, {random_tensor(Shape{2, 5, 1}, 4)}, {nullptr, &b}),
                       doctest::Contains("node 'fc' (Gemm): A must be 2-D"), Error);
  CHECK_THROWS_WITH_AS(layer->infer({Shape{2, 6}, Shape{5, 4}}),
                       doctest::Contains("node 'fc' (Gemm): inner dimensions differ"), Error);
  auto with_bad_c = load_layer(gemm_node(false, false, 1.f, 1.f, true), {nullptr, &b, &c_bad});
  CHECK_THROWS_WITH_AS(evaluate(*with_bad_c, {random_tensor(Shape{2, 5}, 4)}, {nullptr, &b, &c_bad}),
                       doctest::Contains("node 'fc' (Gemm): C of shape [3] does not broadcast to the output [2,4]"), Error);
  // C is required before opset 11.
  CHECK_THROWS_WITH_AS(load_layer(gemm_node(false, false, 1.f, 1.f, false, 9), {nullptr, &b}),
                       doctest::Contains("node 'fc' (Gemm): expected 3 inputs, got 2"), Error);
  // Before opset 7, broadcast = 0 (default) wants C exactly [M,N]; broadcast = 1 relaxes it.
  auto strict = load_layer(gemm_node(false, false, 1.f, 1.f, true, 6), {nullptr, &b, &c});
  CHECK_THROWS_WITH_AS(evaluate(*strict, {random_tensor(Shape{2, 5}, 4)}, {nullptr, &b, &c}),
                       doctest::Contains("node 'fc' (Gemm): C of shape [4] does not broadcast"), Error);
  auto relaxed = load_layer(gemm_node(false, false, 1.f, 1.f, true, 6).attr("broadcast", Attribute::of(1)), {nullptr, &b, &c});
  CHECK_NOTHROW(evaluate(*relaxed, {random_tensor(Shape{2, 5}, 4)}, {nullptr, &b, &c}));
  CHECK_THROWS_WITH_AS(load_layer(gemm_node(false, false, 1.f, 1.f, true, 7).attr("broadcast", Attribute::of(1)), {nullptr, &b, &c}),
                       doctest::Contains("node 'fc' (Gemm): unsupported attribute 'broadcast'"), Error);
  CHECK_THROWS_WITH_AS(load_layer(gemm_node(false, false, 1.f, 1.f, false).attr("transA", Attribute::of(2)), {nullptr, &b}),
                       doctest::Contains("node 'fc' (Gemm): attribute 'transA' must be 0 or 1, got 2"), Error);
  CHECK_THROWS_WITH_AS(load_layer(gemm_node(false, false, 1.f, 1.f, false).attr("gamma", Attribute::of(1.f)), {nullptr, &b}),
                       doctest::Contains("node 'fc' (Gemm): unsupported attribute 'gamma'"), Error);
  Initializer b3(random_tensor(Shape{5, 4, 1}, 1));
  CHECK_THROWS_WITH_AS(load_layer(gemm_node(false, false, 1.f, 1.f, false), {nullptr, &b3}),
                       doctest::Contains("node 'fc' (Gemm): B must be 2-D, got shape [5,4,1]"), Error);
}

// ---- MatMul -----------------------------------------------------------------------------------

TEST_CASE("MatMul: numpy semantics against loops, gradients to both operands, macs") {
  auto layer = load_layer(NodeBuilder("MatMul", {"a", "b"}, "mm"));
  // Batch broadcast [2,1,3,4] x [3,4,2] -> [2,3,3,2].
  Tensor a = random_tensor(Shape{2, 1, 3, 4}, 51), b = random_tensor(Shape{3, 4, 2}, 52);
  Tensor y = evaluate(*layer, {a, b});
  REQUIRE(y.shape() == Shape{2, 3, 3, 2});
  for (int i = 0; i < 2; ++i)
    for (int j = 0; j < 3; ++j)
      for (int m = 0; m < 3; ++m)
        for (int n = 0; n < 2; ++n) {
          double s = 0;
          for (int k = 0; k < 4; ++k) s += double(a[(i * 3 + m) * 4 + k]) * double(b[(j * 4 + k) * 2 + n]);
          CHECK(y[((i * 3 + j) * 3 + m) * 2 + n] == doctest::Approx(s).epsilon(1e-5));
        }
  CHECK(layer->infer({a.shape(), b.shape()})[0] == Shape{2, 3, 3, 2});
  CHECK(layer->macs({a.shape(), b.shape()}) == 6 * 3 * 2 * 4);
  CHECK_GRADIENTS(gradcheck_layer(*layer, {a, b}));
  // 1-D operands: vector · matrix drops the promoted axis; vector · vector is a scalar.
  Tensor v = random_tensor(Shape{4}, 53), w = random_tensor(Shape{4, 3}, 54);
  Tensor vw = evaluate(*layer, {v, w});
  REQUIRE(vw.shape() == Shape{3});
  for (int n = 0; n < 3; ++n) {
    double s = 0;
    for (int k = 0; k < 4; ++k) s += double(v[k]) * double(w[k * 3 + n]);
    CHECK(vw[n] == doctest::Approx(s).epsilon(1e-5));
  }
  CHECK(layer->infer({Shape{4}, Shape{4}})[0] == Shape{});
  CHECK_GRADIENTS(gradcheck_layer(*layer, {v, w}));
  CHECK_GRADIENTS(gradcheck_layer(*layer, {w.reshaped(Shape{3, 4}).clone(), v}));
  CHECK_THROWS_WITH_AS(layer->infer({Shape{2, 3}, Shape{4, 2}}), doctest::Contains("node 'mm' (MatMul): inner dimensions"), Error);
  CHECK_THROWS_WITH_AS(evaluate(*layer, {random_tensor(Shape{2, 3}, 1), random_tensor(Shape{4, 2}, 2)}),
                       doctest::Contains("(MatMul): inner dimensions"), Error);
  CHECK_THROWS_WITH_AS(layer->infer({Shape{2, 2, 3}, Shape{3, 3, 2}}), doctest::Contains("node 'mm' (MatMul): batch axes"), Error);
}

// ---- BatchNormalization ------------------------------------------------------------------------

namespace {
struct BnParams {
  Initializer gamma, beta, mean, var;
  explicit BnParams(int64_t C, uint64_t seed)
      : gamma(random_tensor(Shape{C}, seed, 0.5f, 2.f)), beta(random_tensor(Shape{C}, seed + 1)),
        mean(random_tensor(Shape{C}, seed + 2)), var(random_tensor(Shape{C}, seed + 3, 0.2f, 3.f)) {}
  std::vector<const Initializer*> slots() const { return {nullptr, &gamma, &beta, &mean, &var}; }
};
NodeBuilder bn_node(int64_t opset = 15) {
  return NodeBuilder("BatchNormalization", {"x", "gamma", "beta", "mean", "var"}, "bn").opset(opset);
}
}  // namespace

TEST_CASE("BatchNormalization: formula, gradient, one node whose bias is t as [C,1,...,1]") {
  const int64_t C = 3;
  BnParams p(C, 61);
  const float eps = 1e-3f;
  auto layer = load_layer(bn_node().attr("epsilon", Attribute::of(eps)).attr("momentum", Attribute::of(0.8f)), p.slots());
  for (const Shape& shape : {Shape{2, C}, Shape{2, C, 4}, Shape{2, C, 2, 3}}) {
    INFO("input " << shape.str());
    Tensor x = random_tensor(shape, 62);
    Tensor y = evaluate(*layer, {x}, p.slots());
    const int64_t inner = x.numel() / (2 * C);
    for (int64_t i = 0; i < x.numel(); ++i) {
      const int64_t c = (i / inner) % C;
      const double want = p.gamma.value[c] * (x[i] - p.mean.value[c]) / std::sqrt(double(p.var.value[c]) + eps) +
                          p.beta.value[c];
      CHECK(y[i] == doctest::Approx(want).epsilon(1e-5));
    }
    CHECK_GRADIENTS(gradcheck_layer(*layer, {x}, p.slots()));

    Tape tape;
    BiasTap tap;
    tape.observe(&tap);
    const int32_t before = tape.size();
    Var v = tape.input(x);
    Var out = run(*layer, tape, {v}, p.slots());
    CHECK(tape.size() - before == 1 + 5);  // the input, 4 parameter constants, one BN node
    const Tensor* bias = tape.info(out).bias;
    REQUIRE(bias != nullptr);
    Shape want_shape{C};
    while (want_shape.rank() < shape.rank() - 1) want_shape.push_back(1);
    CHECK(bias->shape() == want_shape);
    for (int64_t c = 0; c < C; ++c) {
      const double t = p.beta.value[c] - p.gamma.value[c] * p.mean.value[c] / std::sqrt(double(p.var.value[c]) + eps);
      CHECK((*bias)[c] == doctest::Approx(t).epsilon(1e-5));
    }
    Tensor g = random_tensor(shape, 63);
    tape.backward(out, g);
    REQUIRE(tap.entries().size() == 1);
    for (int64_t i = 0; i < g.numel(); ++i)
      CHECK(tap.entries()[0].map[i] == doctest::Approx(g[i] * (*bias)[(i / inner) % C]).epsilon(1e-6));
  }
}

TEST_CASE("BatchNormalization: opset variants and rejected training configurations") {
  BnParams p(2, 71);
  Tensor x = random_tensor(Shape{1, 2, 3}, 72);
  // Defaults: epsilon 1e-5.
  Tensor y = evaluate(*load_layer(bn_node(), p.slots()), {x}, p.slots());
  CHECK(y[0] == doctest::Approx(p.gamma.value[0] * (x[0] - p.mean.value[0]) / std::sqrt(p.var.value[0] + 1e-5) +
                                p.beta.value[0]).epsilon(1e-5));
  // Old opsets: spatial = 1, is_test = 1, consumed_inputs accepted.
  CHECK_NOTHROW(load_layer(bn_node(1).attr("spatial", Attribute::of(1)).attr("is_test", Attribute::of(1))
                               .attr("consumed_inputs", Attribute::of(std::vector<int64_t>{0, 0, 0, 1, 1})), p.slots()));
  CHECK_NOTHROW(load_layer(bn_node(6).attr("spatial", Attribute::of(1)).attr("is_test", Attribute::of(1)), p.slots()));
  CHECK_THROWS_WITH_AS(load_layer(bn_node(6).attr("consumed_inputs", Attribute::of(std::vector<int64_t>{0})), p.slots()),
                       doctest::Contains("unsupported attribute 'consumed_inputs'"), Error);
  CHECK_NOTHROW(load_layer(bn_node(7).attr("spatial", Attribute::of(1)), p.slots()));
  CHECK_THROWS_WITH_AS(load_layer(bn_node(7).attr("spatial", Attribute::of(0)), p.slots()),
                       doctest::Contains("node 'bn' (BatchNormalization): spatial = 0"), Error);
  CHECK_THROWS_WITH_AS(load_layer(bn_node(9).attr("spatial", Attribute::of(1)), p.slots()),
                       doctest::Contains("node 'bn' (BatchNormalization): unsupported attribute 'spatial'"), Error);
  CHECK_THROWS_WITH_AS(load_layer(bn_node(6).attr("is_test", Attribute::of(0)), p.slots()),
                       doctest::Contains("node 'bn' (BatchNormalization): is_test = 0"), Error);
  CHECK_THROWS_WITH_AS(load_layer(bn_node(15).attr("training_mode", Attribute::of(1)), p.slots()),
                       doctest::Contains("node 'bn' (BatchNormalization): training_mode = 1 is not supported"), Error);
  CHECK_NOTHROW(load_layer(bn_node(15).attr("training_mode", Attribute::of(0)), p.slots()));
  CHECK_THROWS_WITH_AS(load_layer(bn_node(9).attr("training_mode", Attribute::of(0)), p.slots()),
                       doctest::Contains("unsupported attribute 'training_mode'"), Error);
  CHECK_THROWS_WITH_AS(load_layer(bn_node().outputs({"y", "running_mean", "running_var"}), p.slots()),
                       doctest::Contains("node 'bn' (BatchNormalization): output 1 ('running_mean') exists only in training mode"), Error);
  CHECK_THROWS_WITH_AS(load_layer(bn_node(), {nullptr, nullptr, &p.beta, &p.mean, &p.var}),
                       doctest::Contains("node 'bn' (BatchNormalization): scale (input 1) must be a constant initializer"), Error);
  Initializer three(Tensor(Shape{3}, {1.f, 1.f, 1.f}));
  CHECK_THROWS_WITH_AS(load_layer(bn_node(), {nullptr, &p.gamma, &p.beta, &p.mean, &three}),
                       doctest::Contains("node 'bn' (BatchNormalization): var has 3 channels, scale has 2"), Error);
  auto layer = load_layer(bn_node(), p.slots());
  CHECK_THROWS_WITH_AS(evaluate(*layer, {random_tensor(Shape{1, 3, 2}, 1)}, p.slots()),
                       doctest::Contains("node 'bn' (BatchNormalization): input [1,3,2] has 3 channels, the parameters have 2"), Error);
  CHECK_THROWS_WITH_AS(layer->infer({Shape{2}}), doctest::Contains("node 'bn' (BatchNormalization): input must be [N, C, ...]"), Error);
}

// ---- FullGrad completeness ------------------------------------------------------------------------

namespace {
// For every sample b and a target class k: f = y[b, k] must equal Σ x ⊙ ∇f + Σ bias maps, since
// the network is piecewise linear with biases.
void check_decomposition(const Model& model, const Tensor& x, int64_t k) {
  Tape tape;
  BiasTap tap;
  tape.observe(&tap);
  Var in = tape.input(x, true, model.graph().inputs[0].name);
  Var y = model.forward(tape, {in})[0];
  const Tensor out = y.value().clone();
  const int64_t batch = out.dim(0), classes = out.dim(1);
  Tensor seed(out.shape());
  for (int64_t b = 0; b < batch; ++b) seed[b * classes + k] = 1.f;
  tape.backward(y, seed);
  Tensor grad = tape.grad(in);
  std::vector<double> bias_totals = tap.totals_per_sample();
  REQUIRE(bias_totals.size() == size_t(batch));
  CHECK(tap.entries().size() >= 3);
  const int64_t per = x.numel() / batch;
  for (int64_t b = 0; b < batch; ++b) {
    double linear = 0;
    for (int64_t i = 0; i < per; ++i) linear += double(x[b * per + i]) * double(grad[b * per + i]);
    const double f = out[b * classes + k];
    INFO("sample " << b << ": f " << f << ", x·∇f " << linear << ", biases " << bias_totals[size_t(b)]);
    CHECK(std::fabs(linear + bias_totals[size_t(b)] - f) <= 1e-4 * std::max(1.0, std::fabs(f)));
  }
}

NodeDef graph_node(const std::string& op, std::vector<std::string> in, const std::string& out,
                   std::map<std::string, Attribute> attrs = {}) {
  NodeDef n;
  n.op_type = op;
  n.name = out;
  n.inputs = std::move(in);
  n.outputs = {out};
  n.attributes = std::move(attrs);
  return n;
}
}  // namespace

TEST_CASE("FullGrad decomposition on Gemm -> BN -> Relu -> Gemm") {
  const int64_t D = 6, H = 5, O = 3;
  Graph g;
  g.inputs = {{"x", {-1, D}}};
  g.outputs = {{"logits", {}}};
  g.initializers["w1"] = Initializer(random_tensor(Shape{H, D}, 81));
  g.initializers["b1"] = Initializer(random_tensor(Shape{H}, 82));
  BnParams p(H, 83);
  g.initializers["gamma"] = p.gamma;
  g.initializers["beta"] = p.beta;
  g.initializers["mean"] = p.mean;
  g.initializers["var"] = p.var;
  g.initializers["w2"] = Initializer(random_tensor(Shape{O, H}, 84));
  g.initializers["b2"] = Initializer(random_tensor(Shape{1, O}, 85));
  g.nodes = {graph_node("Gemm", {"x", "w1", "b1"}, "fc1", {{"transB", Attribute::of(1)}, {"beta", Attribute::of(0.5f)}}),
             graph_node("BatchNormalization", {"fc1", "gamma", "beta", "mean", "var"}, "bn"),
             graph_node("Relu", {"bn"}, "relu"),
             graph_node("Gemm", {"relu", "w2", "b2"}, "logits", {{"transB", Attribute::of(1)}})};
  Model model(g);
  Tensor x = random_tensor(Shape{4, D}, 86, -2.f, 2.f);
  for (int64_t k = 0; k < O; ++k) check_decomposition(model, x, k);
}

TEST_CASE("FullGrad decomposition on MatMul -> Add -> LeakyRelu -> Sub -> Gemm (constant-operand biases)") {
  const int64_t D = 4, H = 6, O = 2;
  Graph g;
  g.inputs = {{"x", {-1, D}}};
  g.outputs = {{"out", {}}};
  g.initializers["w1"] = Initializer(random_tensor(Shape{D, H}, 91));
  g.initializers["b1"] = Initializer(random_tensor(Shape{H}, 92));
  g.initializers["c"] = Initializer(random_tensor(Shape{H}, 93));
  g.initializers["w2"] = Initializer(random_tensor(Shape{H, O}, 94));
  g.initializers["b2"] = Initializer(random_tensor(Shape{O}, 95));
  g.nodes = {graph_node("MatMul", {"x", "w1"}, "mm"),
             graph_node("Add", {"mm", "b1"}, "lin"),
             graph_node("LeakyRelu", {"lin"}, "act", {{"alpha", Attribute::of(0.2f)}}),
             graph_node("Sub", {"c", "act"}, "shifted"),
             graph_node("Gemm", {"shifted", "w2", "b2"}, "out", {{"alpha", Attribute::of(1.5f)}})};
  Model model(g);
  Tensor x = random_tensor(Shape{3, D}, 96, -2.f, 2.f);
  for (int64_t k = 0; k < O; ++k) check_decomposition(model, x, k);
}
