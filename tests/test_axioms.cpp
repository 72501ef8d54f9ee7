// The analytic model catalogue and the axiom checks (attribution/axioms/). Every closed form is
// checked against the method computing it; every checker is run on a method known to satisfy its
// axiom and on a construction known to violate it (Sundararajan et al. 2017: the gradient and
// input-x-gradient violate sensitivity (a) on 1 − relu(1 − x) at x = 2, integrated gradients
// satisfies it; saliency's |·| is not linear; a method weighting one feature breaks symmetry and
// one adding a constant breaks the dummy axiom, one scaled by the layer count breaks
// implementation invariance). The ONNX dummy channel and the generated twins leave the model's
// function unchanged.
#include <cmath>
#include <set>

#include "attribution/axioms/analytic_models.h"
#include "attribution/axioms/axioms.h"
#include "attribution/axioms/dummy_channel.h"
#include "attribution/axioms/twins.h"
#include "attribution/gradients.h"
#include "attribution/method.h"
#include "engine/error.h"
#include "engine/ops.h"
#include "graph_builder.h"
#include "io/npy.h"
#include "io/onnx.h"
#include "layers/model.h"
#include "method_testing.h"
#include "scratch_dir.h"
#include "support.h"

using namespace gradlens;
using gradlens::test::fixture;
using gradlens::test::random_tensor;

namespace {

Tensor row_of(const std::vector<float>& v) {
  Tensor x(Shape{1, int64_t(v.size())});
  for (size_t i = 0; i < v.size(); ++i) x[int64_t(i)] = v[i];
  return x;
}

std::vector<double> as_doubles(const Tensor& x, int64_t n) {
  const int64_t d = x.numel() / x.dim(0);
  std::vector<double> v;
  for (int64_t i = 0; i < d; ++i) v.push_back(x[n * d + i]);
  return v;
}

// The subject of an analytic model at inputs x: its dummy (or a zero-weight feature), its
// symmetric pair, the sine-sum partner.
struct AnalyticSubject {
  std::unique_ptr<Function> zero_weight;
  AxiomSubject s;
  AnalyticSubject(const AnalyticModel& m, const Tensor& x, int64_t target = 0) {
    s.function = &m.function;
    s.input = x;
    s.targets.assign(size_t(x.dim(0)), target);
    s.batch = 7;
    if (m.dummy >= 0) {
      s.dummy_function = &m.function, s.dummy_input = x, s.dummy_features = {m.dummy};
    } else {
      zero_weight = with_zero_weight_feature(m.function);
      s.dummy_function = zero_weight.get(), s.dummy_input = with_dummy_channel(x), s.dummy_features = {m.features};
    }
    s.symmetric = m.symmetric;
    s.partner = &sine_sum_function();
  }
};

// Test-only methods that break one axiom each.
class Distorted : public Method {
 public:
  enum class Kind { plus_one, weight_first, times_layers };
  explicit Distorted(Kind kind) : kind_(kind) { info_.name = "gradient-distorted"; }
  const MethodInfo& info() const override { return info_; }
  Explanation explain_rows(const Request& r) const override {
    Explanation e = method("gradient").explain(r);
    const int64_t per = e.attribution.numel() / e.attribution.dim(0);
    const float layers = r.function->model() ? float(r.function->model()->layers().size()) : 1.f;
    for (int64_t k = 0; k < e.attribution.numel(); ++k) {
      if (kind_ == Kind::plus_one) e.attribution[k] += 1.f;
      if (kind_ == Kind::weight_first && k % per == 0) e.attribution[k] *= 2.f;
      if (kind_ == Kind::times_layers) e.attribution[k] *= layers;
    }
    return e;
  }

 private:
  Kind kind_;
  MethodInfo info_;
};

Options options(const std::map<std::string, std::string>& values) {
  Options o;
  for (const auto& [k, v] : values) o.set(k, v);
  return o;
}

}  // namespace

TEST_CASE("analytic catalogue: names, shapes, defaults, unknown names listed") {
  const std::vector<std::string> expected = {"one-minus-relu", "min",      "product", "quadratic",
                                             "sigmoid",        "relu-net", "dummy",   "softmax-linear"};
  REQUIRE(analytic_models().size() == expected.size());
  for (size_t k = 0; k < expected.size(); ++k) {
    const AnalyticModel& m = analytic_models()[k];
    INFO(m.name);
    CHECK(m.name == expected[k]);
    CHECK(int64_t(m.input.size()) == m.features);
    CHECK(int64_t(m.baseline.size()) == m.features);
    const Tensor s = evaluate_scores(m.function, row_of(m.input), 4);
    CHECK(s.dim(0) == 1);
    CHECK(s.dim(1) == m.classes);
    CHECK(!m.description.empty());
  }
  CHECK_THROWS_WITH_AS(analytic_model("nope"), doctest::Contains("known: one-minus-relu, min"), Error);
  // Values at the default inputs, by hand.
  CHECK(evaluate_scores(analytic_model("one-minus-relu").function, row_of({2.f}), 1)[0] == doctest::Approx(1.0));
  CHECK(evaluate_scores(analytic_model("min").function, row_of({3.f, 1.f}), 1)[0] == doctest::Approx(1.0));
  CHECK(evaluate_scores(analytic_model("product").function, row_of({2.f, 3.f}), 1)[0] == doctest::Approx(6.0));
  // xᵀQx at (1, −2, 0.5): Qx = (0, −2.75, −1.5), x·Qx = 0 + 5.5 − 0.75 = 4.75.
  CHECK(evaluate_scores(analytic_model("quadratic").function, row_of({1.f, -2.f, 0.5f}), 1)[0] ==
        doctest::Approx(4.75));
  CHECK(evaluate_scores(analytic_model("sigmoid").function, row_of({2.f, 1.f, 1.5f}), 1)[0] ==
        doctest::Approx(1.0 / (1.0 + std::exp(-6.5))));
  // relu-net at (2, 1): units (1, 1, −1) → relu (1, 1, 0) → 1 − 2 = −1.
  CHECK(evaluate_scores(analytic_model("relu-net").function, row_of({2.f, 1.f}), 1)[0] == doctest::Approx(-1.0));
  CHECK(evaluate_scores(analytic_model("dummy").function, row_of({1.5f, -1.f, 2.f}), 1)[0] == doctest::Approx(-0.75));
}

TEST_CASE("analytic closed forms equal the methods: default inputs and random inputs and baselines") {
  // Riemann midpoints with 6k steps (600) put the default inputs' kinks (t = 1/3, 1/2) on cell
  // boundaries, so integrated gradients is exact there; random points are checked to 1e-3 with
  // 3000 steps (a kink inside one cell of width 1/3000).
  const test::ScratchDir scratch;
  for (const AnalyticModel& m : analytic_models()) {
    for (const auto& [name, form] : m.closed_forms) {
      for (int trial = 0; trial < 4; ++trial) {
        INFO(m.name << " " << name << " trial " << trial);
        Tensor x = trial == 0 ? row_of(m.input) : random_tensor(Shape{3, m.features}, 500 + uint64_t(trial), -2.f, 2.f);
        const Tensor b = trial < 2 ? Tensor(x.shape(), 0.f) : random_tensor(x.shape(), 600 + uint64_t(trial), -1.f, 1.f);
        const int64_t target = m.classes - 1;
        Request r = test::request(m.function, x, std::vector<int64_t>(size_t(x.dim(0)), target), 64);
        std::map<std::string, std::string> o;
        const bool path = name == "integrated-gradients";
        if (path) {
          o = {{"rule", "riemann-middle"}, {"steps", trial == 0 ? "600" : "3000"}};
          if (trial >= 2) {
            write_npy(scratch / "baseline.npy", b);
            o["baseline"] = scratch / "baseline.npy";
          }
        }
        const Explanation e = test::explain(name, r, o);
        const double tol = path && trial > 0 ? 1e-3 : 1e-5;
        for (int64_t n = 0; n < x.dim(0); ++n) {
          const std::vector<double> want = form.value(as_doubles(x, n), as_doubles(b, n), target);
          for (int64_t i = 0; i < m.features; ++i)
            CHECK(double(e.attribution[n * m.features + i]) ==
                  doctest::Approx(want[size_t(i)]).epsilon(tol).scale(1.0));
        }
      }
    }
  }
}

TEST_CASE("the IG paper's example: f = 1 − relu(1 − x) at x = 2 from 0") {
  const AnalyticModel& m = analytic_model("one-minus-relu");
  AnalyticSubject subject(m, row_of(m.input));
  const AxiomSettings settings;
  // Completeness: integrated gradients passes; the gradient does not claim it and is 1 off.
  AxiomResult r = check_completeness(method("integrated-gradients"), {}, subject.s, settings);
  CHECK(r.verdict == Verdict::pass);
  CHECK(r.violation < 1e-6);
  r = check_completeness(method("gradient"), {}, subject.s, settings);
  CHECK(r.verdict == Verdict::not_claimed);
  CHECK(r.violation == doctest::Approx(1.0));
  // A one-node left Riemann sum takes the gradient at x′ = 0 (slope 1) times Δ = 2: Σa = 2 ≠ 1.
  r = check_completeness(method("integrated-gradients"), options({{"rule", "riemann-left"}, {"steps", "1"}}),
                         subject.s, settings);
  CHECK(r.verdict == Verdict::fail);
  CHECK(r.violation == doctest::Approx(1.0));
  // Sensitivity (a): the gradient and input-x-gradient give 0 to the feature that moved f by 1.
  for (const char* name : {"gradient", "input-x-gradient"}) {
    r = check_sensitivity(method(name), {}, subject.s, settings);
    INFO(name);
    CHECK(r.verdict == Verdict::fail);
    CHECK(r.violation == 1.0);
  }
  r = check_sensitivity(method("integrated-gradients"), {}, subject.s, settings);
  CHECK(r.verdict == Verdict::pass);
  CHECK(r.numbers.at("attribution")[0] == doctest::Approx(1.0));
}

TEST_CASE("sensitivity (a): features that do not move f alone are not tested") {
  const AnalyticModel& m = analytic_model("product");  // x₀·0 = 0: no single feature moves f from 0
  AnalyticSubject subject(m, row_of(m.input));
  const AxiomResult r = check_sensitivity(method("gradient"), {}, subject.s, {});
  CHECK(r.verdict == Verdict::not_applicable);
  const AnalyticModel& q = analytic_model("quadratic");
  AnalyticSubject qs(q, row_of(q.input));
  AxiomSettings two;
  two.sensitivity_features = 2;
  const AxiomResult s = check_sensitivity(method("gradient"), {}, qs.s, two);
  CHECK(s.verdict == Verdict::pass);
  CHECK(s.numbers.at("feature").size() == 2);
}

TEST_CASE("dummy: every registered input-attribution method gives the dummy feature exactly 0") {
  const AnalyticModel& m = analytic_model("dummy");
  AnalyticSubject subject(m, random_tensor(Shape{3, 3}, 71, 0.5f, 2.f));
  for (const char* name : {"gradient", "saliency", "input-x-gradient", "guided-backprop", "smoothgrad",
                           "integrated-gradients", "idgi", "split-ig", "blur-ig"}) {
    INFO(name);
    const AxiomResult r = check_dummy(method(name), {}, subject.s, {});
    CHECK(r.verdict == Verdict::pass);
    CHECK(r.violation == 0.0);
  }
  const Distorted plus_one(Distorted::Kind::plus_one);
  const AxiomResult r = check_dummy(plus_one, {}, subject.s, {});
  CHECK(r.verdict == Verdict::fail);
  CHECK(r.violation > 0.0);
  // A zero-weight feature added to a model without one.
  const AnalyticModel& q = analytic_model("quadratic");
  AnalyticSubject qs(q, row_of(q.input));
  CHECK(qs.s.dummy_input.dim(1) == 4);
  CHECK(check_dummy(method("integrated-gradients"), {}, qs.s, {}).verdict == Verdict::pass);
  CHECK(check_dummy(plus_one, {}, qs.s, {}).verdict == Verdict::fail);
}

TEST_CASE("linearity: gradient and integrated gradients pass, saliency's absolute value fails") {
  for (const char* model : {"softmax-linear", "relu-net", "quadratic"}) {
    const AnalyticModel& m = analytic_model(model);
    AnalyticSubject subject(m, random_tensor(Shape{4, m.features}, 81, -2.f, 2.f));
    for (const char* name : {"gradient", "input-x-gradient", "integrated-gradients"}) {
      INFO(model << " " << name);
      const AxiomResult r = check_linearity(method(name), {}, subject.s, {});
      CHECK(r.verdict == Verdict::pass);
      CHECK(r.violation < 1e-5);
    }
    const AxiomResult r = check_linearity(method("saliency"), {}, subject.s, {});
    INFO(model);
    CHECK(r.verdict == Verdict::fail);
    CHECK(r.violation > 0.1);
  }
  // One class and no partner: not applicable.
  const AnalyticModel& p = analytic_model("product");
  AnalyticSubject alone(p, row_of(p.input));
  alone.s.partner = nullptr;
  CHECK(check_linearity(method("gradient"), {}, alone.s, {}).verdict == Verdict::not_applicable);
}

TEST_CASE("symmetry: checked models are symmetric; path and gradient methods preserve it, a weighted method does not") {
  const std::vector<int64_t> targets = {0, 0, 0};
  for (const char* model : {"min", "product"}) {
    const AnalyticModel& m = analytic_model(model);
    INFO(model);
    const Tensor x = random_tensor(Shape{3, 2}, 91, -2.f, 2.f);
    CHECK(symmetry_defect(m.function, x, targets, 0, 1, 8) < 1e-7);
    AnalyticSubject subject(m, x);
    for (const char* name : {"gradient", "input-x-gradient", "integrated-gradients"}) {
      INFO(name);
      const AxiomResult r = check_symmetry(method(name), {}, subject.s, {});
      CHECK(r.verdict == Verdict::pass);
      CHECK(r.violation == 0.0);
    }
    const Distorted weighted(Distorted::Kind::weight_first);
    const AxiomResult r = check_symmetry(weighted, {}, subject.s, {});
    CHECK(r.verdict == Verdict::fail);
    CHECK(r.violation == doctest::Approx(0.5));
  }
  const AnalyticModel& q = analytic_model("quadratic");
  CHECK(symmetry_defect(q.function, row_of(q.input), {0}, 0, 1, 8) > 0.01);
  CHECK_THROWS_WITH_AS(symmetry_defect(q.function, row_of(q.input), {0}, 0, 3, 8), doctest::Contains("below 3"), Error);
}

TEST_CASE("ONNX dummy channel: same scores, zero attributions on the added channel") {
  const std::string path = (fixture("small_cnn") / "model.onnx").string();
  const Graph graph = load_onnx(path);
  Graph with_dummy;
  std::string why;
  REQUIRE(add_dummy_input_channel(graph, with_dummy, why));
  const Model model(graph), dummy_model(with_dummy);
  const Tensor x = read_npy((fixture("small_cnn") / "input.npy").string());
  const Tensor xd = with_dummy_channel(x);
  CHECK(xd.dim(1) == x.dim(1) + 1);
  const ModelFunction f(model), fd(dummy_model);
  const Tensor s = evaluate_scores(f, x, 8), sd = evaluate_scores(fd, xd, 8);
  for (int64_t k = 0; k < s.numel(); ++k) CHECK(sd[k] == doctest::Approx(s[k]).epsilon(1e-5));
  AxiomSubject subject;
  subject.function = &f;
  subject.input = x;
  subject.targets.assign(size_t(x.dim(0)), 1);
  subject.dummy_function = &fd;
  subject.dummy_input = xd;
  std::vector<int64_t> example = xd.shape().vec();
  example.erase(example.begin());
  subject.dummy_features = dummy_channel_features(example);
  CHECK(int64_t(subject.dummy_features.size()) == xd.numel() / xd.dim(0) / xd.dim(1));
  for (const char* name : {"gradient", "input-x-gradient", "guided-backprop", "integrated-gradients"}) {
    INFO(name);
    CHECK(check_dummy(method(name), {}, subject, {}).verdict == Verdict::pass);
  }
  CHECK(check_dummy(Distorted(Distorted::Kind::plus_one), {}, subject, {}).verdict == Verdict::fail);
  // A model whose input feeds two nodes gets no dummy channel, and says why.
  Graph two = graph;
  NodeDef extra;
  extra.name = "extra";
  extra.op_type = "Identity";
  extra.inputs = {graph.inputs[0].name};
  extra.outputs = {"extra_out"};
  two.nodes.push_back(extra);
  CHECK_FALSE(add_dummy_input_channel(two, with_dummy, why));
  CHECK(why.find("read by 2 nodes") != std::string::npos);
}

TEST_CASE("axiom checks refuse layer maps and interaction matrices, naming the method") {
  CHECK_THROWS_WITH_AS(check_axiom_method(method("grad-cam")), doctest::Contains("'grad-cam' gives a layer map"), Error);
  CHECK_THROWS_WITH_AS(check_axiom_method(method("integrated-hessians")), doctest::Contains("'integrated-hessians'"),
                       Error);
  CHECK_NOTHROW(check_axiom_method(method("integrated-gradients")));
}

TEST_CASE("implementation invariance: twins compute the same scores; gradient methods pass, a node-counting method fails") {
  for (const char* name : {"mlp", "gap_cnn", "resnet_tiny"}) {
    INFO(name);
    const Graph graph = load_onnx((fixture(name) / "model.onnx").string());
    std::vector<std::string> skipped;
    std::vector<Twin> twins = functional_twins(graph, 0, skipped);
    REQUIRE(!twins.empty());
    const Model model(graph);
    const ModelFunction f(model);
    const Tensor x = read_npy((fixture(name) / "input.npy").string());
    std::vector<std::unique_ptr<Model>> models;
    std::vector<std::unique_ptr<ModelFunction>> functions;
    AxiomSubject s;
    s.function = &f;
    s.input = x;
    s.targets = test::fixture_targets(fixture(name));
    s.batch = 8;
    bool changed_weights = false;
    for (Twin& t : twins) {
      INFO(t.description);
      for (const auto& [key, init] : t.graph.initializers)
        if (graph.initializers.count(key) && !(init.value.shape() == graph.initializers.at(key).value.shape() &&
                                               test::bitwise_equal(init.value, graph.initializers.at(key).value)))
          changed_weights = true;
      models.push_back(std::make_unique<Model>(std::move(t.graph)));
      functions.push_back(std::make_unique<ModelFunction>(*models.back()));
      CHECK(twin_output_difference(f, *functions.back(), x, s.targets, 8) < 1e-5);
      s.twins.push_back(functions.back().get());
      s.twin_descriptions.push_back(t.description);
    }
    CHECK(changed_weights);
    for (const char* method_name : {"gradient", "input-x-gradient", "guided-backprop"}) {
      INFO(method_name);
      const AxiomResult r = check_implementation_invariance(method(method_name), {}, s, {});
      CHECK(r.verdict == Verdict::pass);
      CHECK(r.violation < 1e-5);
    }
    // Attributions scaled by the number of layers depend on the implementation (the identity twin
    // adds three nodes; a rescaled or permuted twin has as many as the original).
    const Distorted counting(Distorted::Kind::times_layers);
    const AxiomResult r = check_implementation_invariance(counting, {}, s, {});
    CHECK(r.verdict == Verdict::fail);
    CHECK(r.violation > 0.1);
  }
  // resnet_tiny's BatchNorm chains admit permutations only; mlp's Gemm chain admits all three.
  std::vector<std::string> skipped;
  const std::vector<Twin> mlp = functional_twins(load_onnx((fixture("mlp") / "model.onnx").string()), 0, skipped);
  CHECK(mlp.size() == 7);  // two pairs × (permute, rescale, split) + the identities
}

namespace {

// Twins of a built graph: every one computes the original's scores; returns their descriptions.
std::vector<std::string> checked_twins(const Graph& graph, const Tensor& x, std::vector<std::string>& skipped) {
  const Model model(graph);
  const ModelFunction f(model);
  std::vector<std::string> descriptions;
  for (Twin& t : functional_twins(graph, 3, skipped)) {
    INFO(t.description);
    const Model twin(std::move(t.graph));
    const ModelFunction g(twin);
    CHECK(twin_output_difference(f, g, x, {0, 1}, 8) < 1e-5);
    descriptions.push_back(t.description);
  }
  return descriptions;
}

size_t count_starting(const std::vector<std::string>& v, const std::string& prefix) {
  return size_t(std::count_if(v.begin(), v.end(), [&](const std::string& s) { return s.rfind(prefix, 0) == 0; }));
}

}  // namespace

TEST_CASE("twins through residual Adds, grouped and depthwise Convs, MatMul + bias, and permute-only spaces") {
  using test::GraphBuilder;
  const Attribute pad1 = Attribute::of(std::vector<int64_t>{1, 1, 1, 1});
  SUBCASE("a residual block: both summands' producers and both readers of the sum form one space") {
    GraphBuilder b;
    b.input("x", {-1, 3, 7, 7});
    const std::string stem = b.node("Relu", {b.batch_norm(b.conv("x", 3, 6, 3, {{"pads", pad1}}), 6)});
    const std::string body = b.batch_norm(b.conv(b.node("Relu", {b.conv(stem, 6, 6, 3, {{"pads", pad1}})}), 6, 6, 1), 6);
    const std::string sum = b.node("Relu", {b.node("Add", {body, stem})});
    const std::string head = b.node("Add", {b.conv(sum, 6, 6, 1), b.conv(sum, 6, 6, 1)});
    b.output(b.linear(b.node("Flatten", {b.node("GlobalAveragePool", {head})}, {{"axis", Attribute::of(int64_t(1))}}), 6, 4));
    std::vector<std::string> skipped;
    const auto d = checked_twins(b.build(), random_tensor(Shape{2, 3, 7, 7}, 11), skipped);
    CHECK(std::count(d.begin(), d.end(), "permute 6 channels from 'conv0' and 1 more to 'conv3' and 2 more") == 1);
    CHECK(count_starting(d, "rescale 6 channels from 'conv0' and 1 more") == 1);
    CHECK(count_starting(d, "split the last of 6 channels from 'conv0' and 1 more") == 1);
    CHECK(count_starting(d, "permute 6 channels from 'conv9' and 1 more to 'fc14'") == 1);  // the two-conv Add
  }
  SUBCASE("grouped consumers and producers permute within groups; a depthwise Conv is per channel") {
    GraphBuilder b;
    b.input("x", {-1, 4, 7, 7});
    const std::string a = b.node("Relu", {b.conv("x", 4, 8, 3, {{"pads", pad1}})});
    const std::string grouped = b.node("LeakyRelu", {b.conv(a, 8, 8, 3, {{"pads", pad1}}, 4)});  // groups of 2
    const std::string dw = b.node("Relu", {b.conv(b.batch_norm(b.conv(grouped, 8, 6, 1), 6), 6, 6, 3, {{"pads", pad1}}, 6)});
    b.output(b.linear(b.node("Flatten", {b.node("GlobalMaxPool", {b.conv(dw, 6, 5, 1)})}, {{"axis", Attribute::of(int64_t(1))}}), 5, 3));
    std::vector<std::string> skipped;
    const auto d = checked_twins(b.build(), random_tensor(Shape{2, 4, 7, 7}, 12), skipped);
    CHECK(count_starting(d, "permute 8 channels from 'conv0' to 'conv2' (within groups of 2)") == 1);
    CHECK(count_starting(d, "split the last of 8 channels from 'conv0'") == 0);  // grouped: no split
    CHECK(count_starting(d, "rescale 8 channels from 'conv2' to 'conv4'") == 1);  // a grouped producer
    CHECK(count_starting(d, "permute 6 channels from 'conv4' to 'conv8'") == 1);  // through BN and the depthwise Conv
    CHECK(count_starting(d, "split the last of 6 channels from 'conv4' to 'conv8'") == 1);
    CHECK(count_starting(d, "permute 6 channels from 'conv6'") == 0);
  }
  SUBCASE("MatMul + bias Add (an exported Linear), and a Sigmoid space that is permuted only") {
    GraphBuilder b;
    b.input("x", {-1, 5});
    auto linear = [&](const std::string& in, int64_t i, int64_t o) {
      return b.node("Add", {b.node("MatMul", {in, b.weight("w" + std::to_string(o) + in, Shape{i, o})}),
                            b.weight("b" + std::to_string(o) + in, Shape{o})});
    };
    const std::string h1 = b.node("Relu", {linear("x", 5, 7)});
    const std::string h2 = b.node("Sigmoid", {linear(h1, 7, 6)});
    b.output(linear(h2, 6, 3));
    std::vector<std::string> skipped;
    const auto d = checked_twins(b.build(), random_tensor(Shape{2, 5}, 13), skipped);
    CHECK(count_starting(d, "permute 7 channels from 'MatMul_0'") == 1);
    CHECK(count_starting(d, "split the last of 7 channels from 'MatMul_0'") == 1);
    CHECK(count_starting(d, "permute 6 channels from 'MatMul_") == 1);
    CHECK(count_starting(d, "rescale 6 channels") == 0);
    CHECK(std::any_of(skipped.begin(), skipped.end(),
                      [](const std::string& s) { return test::contains(s, "Sigmoid") && test::contains(s, "not positively homogeneous"); }));
  }
}

TEST_CASE("analytic twins compute the same function; guided backprop tells min from x₀ − relu(x₀ − x₁)") {
  for (const AnalyticModel& m : analytic_models()) {
    const Tensor x = random_tensor(Shape{6, m.features}, 111, -2.f, 2.f);
    const std::vector<int64_t> targets(6, 0);
    AnalyticSubject subject(m, x);
    for (const auto& [description, twin] : m.twins) {
      INFO(m.name << ": " << description);
      CHECK(twin_output_difference(m.function, twin, x, targets, 8) < 1e-6);
      subject.s.twins.push_back(&twin);
      subject.s.twin_descriptions.push_back(description);
    }
    if (m.twins.empty()) continue;
    INFO(m.name);
    for (const char* name : {"gradient", "integrated-gradients"}) {
      const AxiomResult r = check_implementation_invariance(method(name), {}, subject.s, {});
      CHECK(r.verdict == Verdict::pass);
    }
  }
  // At x = (3, 1) the relu form's only ReLU gets the seed −1, which guided backprop zeroes: its
  // gradient is (1, 0) there, the minimum's (0, 1).
  const AnalyticModel& m = analytic_model("min");
  AnalyticSubject subject(m, row_of(m.input));
  subject.s.twins = {&m.twins[0].second};
  subject.s.twin_descriptions = {m.twins[0].first};
  const AxiomResult r = check_implementation_invariance(method("guided-backprop"), {}, subject.s, {});
  CHECK(r.verdict == Verdict::fail);
  CHECK(r.violation == doctest::Approx(std::sqrt(2.0)));
  CHECK(analytic_model("relu-net").twins.size() == 1);
}

TEST_CASE("implementation invariance leaves out a twin that computes something else, and says so") {
  const AnalyticModel& p = analytic_model("product");
  AnalyticSubject subject(p, random_tensor(Shape{3, 2}, 121, -2.f, 2.f));
  const LambdaFunction other([](Tape&, Var x) { return column(x, 0) + column(x, 1); });
  subject.s.twins = {&other};
  subject.s.twin_descriptions = {"x₀ + x₁"};
  AxiomResult r = check_implementation_invariance(method("gradient"), {}, subject.s, {});
  CHECK(r.verdict == Verdict::not_applicable);
  CHECK(r.detail.find("left out (outputs differ): x₀ + x₁") != std::string::npos);
  subject.s.twins.push_back(&p.twins[0].second);
  subject.s.twin_descriptions.push_back(p.twins[0].first);
  r = check_implementation_invariance(method("gradient"), {}, subject.s, {});
  CHECK(r.verdict == Verdict::pass);
  CHECK(r.numbers.at("relative_l2_per_twin").size() == 1);
}

TEST_CASE("sensitivity (a): the feature sample is seeded") {
  const AnalyticModel& q = analytic_model("quadratic");
  const Tensor x = random_tensor(Shape{1, 3}, 131, 0.5f, 2.f);
  AnalyticSubject s(q, x);
  AxiomSettings settings;
  settings.sensitivity_features = 1;
  std::set<double> chosen;
  for (uint64_t seed = 0; seed < 12; ++seed) {
    settings.seed = seed;
    const AxiomResult a = check_sensitivity(method("gradient"), {}, s.s, settings);
    const AxiomResult b = check_sensitivity(method("gradient"), {}, s.s, settings);
    REQUIRE(a.numbers.at("feature").size() == 1);
    CHECK(a.numbers.at("feature") == b.numbers.at("feature"));
    chosen.insert(a.numbers.at("feature")[0]);
  }
  CHECK(chosen.size() == 3);  // twelve seeds reach every feature
}
