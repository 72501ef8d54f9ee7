// Conv: the layer against plain-loop reference forward and input gradient over a grid of odd
// shapes, finite differences, the FullGrad bias map, attribute validation and determinism.
#include <omp.h>

#include <algorithm>
#include <array>
#include <memory>
#include <string>

#include "engine/error.h"
#include "engine/gradcheck.h"
#include "engine/taps.h"
#include "layers/layer.h"
#include "layers/model.h"
#include "support.h"

using namespace gradlens;
using gradlens::test::bitwise_equal;
using gradlens::test::random_tensor;

namespace {

struct ConvCase {
  int64_t n = 2, c = 4, h = 7, w = 7, m = 4, group = 1, kh = 3, kw = 3;
  std::array<int64_t, 2> stride{1, 1}, dilation{1, 1};
  std::array<int64_t, 4> pads{0, 0, 0, 0};  // top, left, bottom, right
  std::string auto_pad = "NOTSET";
  bool bias = true;

  std::string describe() const {
    return "x [" + std::to_string(n) + "," + std::to_string(c) + "," + std::to_string(h) + "," +
           std::to_string(w) + "] m " + std::to_string(m) + " group " + std::to_string(group) +
           " k " + std::to_string(kh) + "x" + std::to_string(kw) + " stride " +
           std::to_string(stride[0]) + "," + std::to_string(stride[1]) + " dilation " +
           std::to_string(dilation[0]) + "," + std::to_string(dilation[1]) + " pads " +
           std::to_string(pads[0]) + "," + std::to_string(pads[1]) + "," +
           std::to_string(pads[2]) + "," + std::to_string(pads[3]) + " " + auto_pad;
  }
};

// The test's own window arithmetic (ONNX Conv: SAME pads so that out = ceil(in / stride)).
struct RefAxis {
  int64_t out = 0, pad_begin = 0;
  bool valid = true;
};

RefAxis ref_axis(const std::string& auto_pad, int64_t in, int64_t k, int64_t s, int64_t d,
                 int64_t pb, int64_t pe) {
  RefAxis a;
  const int64_t ext = (k - 1) * d + 1;
  if (auto_pad == "SAME_UPPER" || auto_pad == "SAME_LOWER") {
    a.out = (in + s - 1) / s;
    const int64_t total = std::max<int64_t>(0, (a.out - 1) * s + ext - in);
    a.pad_begin = auto_pad == "SAME_UPPER" ? total / 2 : (total + 1) / 2;
    return a;
  }
  if (auto_pad == "VALID") pb = pe = 0;
  a.pad_begin = pb;
  if (in + pb + pe < ext) {
    a.valid = false;
    return a;
  }
  a.out = (in + pb + pe - ext) / s + 1;
  return a;
}

struct RefGeometry {
  RefAxis h, w;
  bool valid() const { return h.valid && w.valid; }
};

RefGeometry ref_geometry(const ConvCase& k) {
  return {ref_axis(k.auto_pad, k.h, k.kh, k.stride[0], k.dilation[0], k.pads[0], k.pads[2]),
          ref_axis(k.auto_pad, k.w, k.kw, k.stride[1], k.dilation[1], k.pads[1], k.pads[3])};
}

// Calls f(n, m, oh, ow, c, ih, iw, weight index) for every in-bounds product of the convolution.
template <class F>
void for_each_product(const ConvCase& k, const RefGeometry& g, F&& f) {
  const int64_t cg = k.c / k.group, mg = k.m / k.group;
  for (int64_t n = 0; n < k.n; ++n)
    for (int64_t m = 0; m < k.m; ++m)
      for (int64_t oh = 0; oh < g.h.out; ++oh)
        for (int64_t ow = 0; ow < g.w.out; ++ow)
          for (int64_t cl = 0; cl < cg; ++cl)
            for (int64_t i = 0; i < k.kh; ++i)
              for (int64_t j = 0; j < k.kw; ++j) {
                const int64_t ih = oh * k.stride[0] - g.h.pad_begin + i * k.dilation[0];
                const int64_t iw = ow * k.stride[1] - g.w.pad_begin + j * k.dilation[1];
                if (ih < 0 || ih >= k.h || iw < 0 || iw >= k.w) continue;
                const int64_t c = (m / mg) * cg + cl;
                f(n, m, oh, ow, c, ih, iw, ((m * cg + cl) * k.kh + i) * k.kw + j);
              }
}

Tensor ref_forward(const ConvCase& k, const RefGeometry& g, const Tensor& x, const Tensor& w,
                   const Tensor& b) {
  Tensor y(Shape{k.n, k.m, g.h.out, g.w.out});
  for (int64_t n = 0; n < k.n; ++n)
    for (int64_t m = 0; m < k.m; ++m)
      for (int64_t o = 0; o < g.h.out * g.w.out; ++o)
        y[(n * k.m + m) * g.h.out * g.w.out + o] = k.bias ? b[m] : 0.f;
  for_each_product(k, g, [&](int64_t n, int64_t m, int64_t oh, int64_t ow, int64_t c, int64_t ih,
                             int64_t iw, int64_t wi) {
    y[((n * k.m + m) * g.h.out + oh) * g.w.out + ow] +=
        w[wi] * x[((n * k.c + c) * k.h + ih) * k.w + iw];
  });
  return y;
}

Tensor ref_input_grad(const ConvCase& k, const RefGeometry& g, const Tensor& gy, const Tensor& w) {
  Tensor dx(Shape{k.n, k.c, k.h, k.w});
  for_each_product(k, g, [&](int64_t n, int64_t m, int64_t oh, int64_t ow, int64_t c, int64_t ih,
                             int64_t iw, int64_t wi) {
    dx[((n * k.c + c) * k.h + ih) * k.w + iw] +=
        w[wi] * gy[((n * k.m + m) * g.h.out + oh) * g.w.out + ow];
  });
  return dx;
}

// max_i |a_i − b_i| / max(1, |b_i|)
double max_rel_error(const Tensor& a, const Tensor& b) {
  REQUIRE(a.shape() == b.shape());
  double e = 0;
  for (int64_t i = 0; i < a.numel(); ++i)
    e = std::max(e, std::fabs(double(a[i]) - double(b[i])) / std::max(1.0, std::fabs(double(b[i]))));
  return e;
}

struct ConvUnderTest {
  Initializer weight, bias;
  NodeDef node;
  std::unique_ptr<Layer> layer;
};

NodeDef conv_node(const ConvCase& k, const std::string& name = "c1") {
  NodeDef node;
  node.name = name;
  node.op_type = "Conv";
  node.inputs = k.bias ? std::vector<std::string>{"x", "w", "b"} : std::vector<std::string>{"x", "w"};
  node.outputs = {"y"};
  node.attributes["kernel_shape"] = Attribute::of(std::vector<int64_t>{k.kh, k.kw});
  node.attributes["strides"] = Attribute::of(std::vector<int64_t>{k.stride[0], k.stride[1]});
  node.attributes["dilations"] = Attribute::of(std::vector<int64_t>{k.dilation[0], k.dilation[1]});
  node.attributes["group"] = Attribute::of(k.group);
  if (k.auto_pad == "NOTSET")
    node.attributes["pads"] = Attribute::of(std::vector<int64_t>(k.pads.begin(), k.pads.end()));
  else
    node.attributes["auto_pad"] = Attribute::of(k.auto_pad);
  return node;
}

std::unique_ptr<ConvUnderTest> make_conv(const ConvCase& k, uint64_t seed) {
  auto t = std::make_unique<ConvUnderTest>();
  t->weight = Initializer(random_tensor({k.m, k.c / k.group, k.kh, k.kw}, seed));
  t->bias = Initializer(random_tensor({k.m}, seed + 1));
  t->node = conv_node(k);
  t->layer = create_layer("Conv");
  REQUIRE(t->layer);
  std::vector<const Initializer*> constants{nullptr, &t->weight};
  if (k.bias) constants.push_back(&t->bias);
  t->layer->load(t->node, constants);
  return t;
}

Var run_forward(const ConvUnderTest& t, Tape& tape, Var x) {
  std::vector<Var> in{x, tape.constant(t.weight.value, "w")};
  if (t.node.inputs.size() > 2) in.push_back(tape.constant(t.bias.value, "b"));
  std::vector<Var> out(1);
  t.layer->forward(tape, in, out);
  return out[0];
}

struct ForwardBackward {
  Tensor y, dx;
};

ForwardBackward run(const ConvUnderTest& t, const Tensor& x, uint64_t seed) {
  Tape tape;
  Var xv = tape.input(x);
  Var y = run_forward(t, tape, xv);
  Tensor u = random_tensor(y.shape(), seed);
  tape.backward(y, u);
  return {y.value().clone(), tape.grad(xv)};
}

}  // namespace

TEST_CASE("Conv matches the plain-loop reference forward and input gradient over a shape grid") {
  int compared = 0, rejected = 0;
  uint64_t seed = 100;
  const std::array<int64_t, 2> sizes[] = {{7, 13}, {13, 7}};
  const std::array<int64_t, 2> strides[] = {{1, 1}, {2, 2}, {1, 2}};
  const std::array<int64_t, 2> dilations[] = {{1, 1}, {2, 2}};
  struct Padding {
    const char* auto_pad;
    std::array<int64_t, 4> pads;
  };
  for (const auto& hw : sizes)
    for (int64_t kernel : {1, 2, 3, 5})  // 2: odd total SAME padding
      for (const auto& stride : strides)
        for (const auto& dilation : dilations)
          for (int64_t group : {1, 2, 4, -1}) {  // -1: depthwise with channel multiplier 2
            const int64_t half = kernel / 2;
            const Padding paddings[] = {{"NOTSET", {0, 0, 0, 0}},
                                        {"NOTSET", {half, half, half, half}},
                                        {"NOTSET", {0, half + 1, 2, 1}},
                                        {"SAME_UPPER", {}},
                                        {"SAME_LOWER", {}},
                                        {"VALID", {}}};
            for (const Padding& padding : paddings)
            for (int64_t examples : {1, 2}) {  // 2: examples in parallel on 2 threads
              ConvCase k;
              k.n = examples;
              k.h = hw[0];
              k.w = hw[1];
              k.kh = kernel;
              k.kw = kernel == 5 ? 3 : kernel;  // 1x1, 2x2, 3x3 and a non-square 5x3
              k.stride = stride;
              k.dilation = dilation;
              k.group = group < 0 ? 4 : group;
              k.m = group < 0 ? 8 : (group == 2 ? 6 : 4);
              k.auto_pad = padding.auto_pad;
              k.pads = padding.pads;
              k.bias = (seed % 3) != 0;
              ++seed;
              INFO(k.describe());
              auto conv = make_conv(k, seed);
              const RefGeometry g = ref_geometry(k);
              const Shape xs{k.n, k.c, k.h, k.w};
              if (!g.valid()) {
                CHECK_THROWS_WITH_AS(conv->layer->infer({xs}),
                                     doctest::Contains("node 'c1' (Conv): kernel extent"), Error);
                ++rejected;
                continue;
              }
              REQUIRE(conv->layer->infer({xs})[0] == Shape({k.n, k.m, g.h.out, g.w.out}));
              CHECK(conv->layer->macs({xs}) ==
                    k.n * k.m * g.h.out * g.w.out * (k.c / k.group) * k.kh * k.kw);
              const Tensor x = random_tensor(xs, seed + 7);
              const ForwardBackward got = run(*conv, x, seed + 11);
              const Tensor u = random_tensor(got.y.shape(), seed + 11);
              CHECK(max_rel_error(got.y, ref_forward(k, g, x, conv->weight.value,
                                                     conv->bias.value)) < 1e-5);
              CHECK(max_rel_error(got.dx, ref_input_grad(k, g, u, conv->weight.value)) < 1e-5);
              ++compared;
            }
          }
  // Every auto_pad mode and most explicit paddings fit; large dilated kernels on 7 do not.
  CHECK(compared > 1000);
  CHECK(rejected > 20);
  MESSAGE("compared " << compared << " configurations, " << rejected << " rejected as too small");
}

TEST_CASE("Conv input gradient passes the finite-difference check") {
  struct Named {
    const char* what;
    ConvCase k;
  };
  std::vector<Named> cases;
  {
    ConvCase k;
    k.pads = {1, 1, 1, 1};
    cases.push_back({"3x3 pad 1", k});
    k.stride = {2, 2};
    k.pads = {0, 1, 2, 1};
    k.h = 9;
    cases.push_back({"3x3 stride 2 asymmetric pads", k});
    k = ConvCase();
    k.dilation = {2, 2};
    k.group = 2;
    k.auto_pad = "SAME_LOWER";
    cases.push_back({"dilated grouped SAME_LOWER", k});
    k = ConvCase();
    k.kh = k.kw = 1;
    k.m = 5;
    cases.push_back({"1x1 pointwise", k});
    k = ConvCase();
    k.group = 4;
    k.m = 8;
    k.kh = 5;
    k.auto_pad = "SAME_UPPER";
    cases.push_back({"depthwise multiplier 2", k});
  }
  for (const Named& c : cases) {
    INFO(c.what);
    auto conv = make_conv(c.k, 5);
    const Tensor x = random_tensor({c.k.n, c.k.c, c.k.h, c.k.w}, 6);
    GradCheckResult r = check_gradients(
        [&](Tape& tape, const std::vector<Var>& v) { return run_forward(*conv, tape, v[0]); }, {x});
    INFO(r.worst);
    CHECK(r.relative_error < 1e-3);
  }
}

TEST_CASE("Conv reports its bias to observers as [C,1,1], and the bias map is grad ⊙ b") {
  Graph graph;
  graph.inputs = {{"x", {-1, 3, 6, 5}}};
  graph.outputs = {{"y", {}}};
  graph.initializers["w"] = Initializer(random_tensor({4, 3, 3, 3}, 21));
  graph.initializers["b"] = Initializer(Tensor(Shape{4}, {0.5f, -1.f, 2.f, 0.25f}));
  NodeDef node;
  node.name = "c1";
  node.op_type = "Conv";
  node.inputs = {"x", "w", "b"};
  node.outputs = {"y"};
  node.attributes["pads"] = Attribute::of(std::vector<int64_t>{1, 1, 1, 1});
  graph.nodes = {node};
  Model model(graph);

  Tape tape;
  BiasTap tap;
  tape.observe(&tap);
  Var y = model.forward(tape, random_tensor({2, 3, 6, 5}, 22));
  const NodeInfo& info = tape.info(y);
  REQUIRE(info.bias != nullptr);
  CHECK(info.bias->shape() == Shape({4, 1, 1}));
  CHECK(info.name == "y");
  const Tensor u = random_tensor(y.shape(), 23);
  tape.backward(y, u);
  REQUIRE(tap.entries().size() == 1);
  const BiasTap::Entry& e = tap.entries()[0];
  CHECK(e.name == "y");
  CHECK(e.op == "Conv");
  REQUIRE(e.map.shape() == y.shape());
  const float b[4] = {0.5f, -1.f, 2.f, 0.25f};
  const int64_t plane = 6 * 5;
  for (int64_t i = 0; i < u.numel(); ++i) {
    INFO("element " << i);
    CHECK(e.map[i] == u[i] * b[(i / plane) % 4]);
  }

  // Without B there is nothing to report.
  graph.nodes[0].inputs = {"x", "w"};
  Model no_bias(graph);
  Tape tape2;
  BiasTap tap2;
  tape2.observe(&tap2);
  Var y2 = no_bias.forward(tape2, random_tensor({1, 3, 6, 5}, 24));
  CHECK(tape2.info(y2).bias == nullptr);
  tape2.backward(y2, random_tensor(y2.shape(), 25));
  CHECK(tap2.entries().empty());
}

TEST_CASE("Conv rejects bad attributes and shapes with the node's name") {
  const Initializer w(random_tensor({4, 2, 3, 3}, 31));
  const Initializer b(random_tensor({4}, 32));
  auto load = [&](NodeDef node, const Initializer* weight = nullptr,
                  const Initializer* bias = nullptr) {
    auto layer = create_layer("Conv");
    std::vector<const Initializer*> constants{nullptr, weight ? weight : &w};
    if (node.inputs.size() > 2) constants.push_back(bias ? bias : &b);
    layer->load(node, constants);
    return layer;
  };
  auto base = [] {
    ConvCase k;
    k.c = 4;
    k.group = 2;
    NodeDef node = conv_node(k);
    return node;
  };
  auto expect_load_error = [&](NodeDef node, const char* what, const Initializer* weight = nullptr,
                               const Initializer* bias = nullptr) {
    INFO(what);
    CHECK_THROWS_WITH_AS(load(std::move(node), weight, bias),
                         doctest::Contains((std::string("node 'c1' (Conv): ") + what).c_str()), Error);
  };

  NodeDef n = base();
  n.attributes["pads"] = Attribute::of(std::vector<int64_t>{1, 1, 1});
  expect_load_error(n, "pads must have 4 entries [top, left, bottom, right], got [1,1,1]");
  n = base();
  n.attributes["pads"] = Attribute::of(std::vector<int64_t>{1, -1, 1, 1});
  expect_load_error(n, "pads must be non-negative");
  n = base();
  n.attributes["strides"] = Attribute::of(std::vector<int64_t>{0, 1});
  expect_load_error(n, "strides must be positive, got [0,1]");
  n = base();
  n.attributes["dilations"] = Attribute::of(std::vector<int64_t>{1, 0});
  expect_load_error(n, "dilations must be positive");
  n = base();
  n.attributes["strides"] = Attribute::of(std::vector<int64_t>{1, 1, 1});
  expect_load_error(n, "strides must have 2 entries");
  n = base();
  n.attributes["kernel_shape"] = Attribute::of(std::vector<int64_t>{5, 5});
  expect_load_error(n, "kernel_shape [5,5] does not match weight W [4,2,3,3]");
  n = base();
  n.attributes["group"] = Attribute::of(3);
  expect_load_error(n, "output channels 4 (weight W [4,2,3,3]) are not divisible by group 3");
  n = base();
  n.attributes["group"] = Attribute::of(0);
  expect_load_error(n, "group must be >= 1, got 0");
  n = base();
  n.attributes["auto_pad"] = Attribute::of("SAME");
  expect_load_error(n, "auto_pad must be NOTSET, SAME_UPPER, SAME_LOWER or VALID, got 'SAME'");
  n = base();
  n.attributes["auto_pad"] = Attribute::of("SAME_UPPER");
  n.attributes["pads"] = Attribute::of(std::vector<int64_t>{1, 1, 1, 1});
  expect_load_error(n, "pads [1,1,1,1] cannot be combined with auto_pad 'SAME_UPPER'");
  n = base();
  n.attributes["bogus"] = Attribute::of(1);
  expect_load_error(n, "unsupported attribute 'bogus'");
  n = base();
  n.attributes["strides"] = Attribute::of(2);
  expect_load_error(n, "attribute 'strides' is int, expected ints");
  const Initializer w3(random_tensor({4, 2, 3}, 33));
  expect_load_error(base(), "weight W must be 4-D", &w3);
  const Initializer b5(random_tensor({5}, 34));
  expect_load_error(base(), "bias B must have shape [4] (one per output channel), got [5]", nullptr,
                    &b5);
  {
    auto layer = create_layer("Conv");
    CHECK_THROWS_WITH_AS(layer->load(base(), {nullptr, nullptr, &b}),
                         doctest::Contains("node 'c1' (Conv): weight W (input 1) must be a "
                                           "constant initializer"),
                         Error);
  }
  n = base();
  n.inputs = {"x"};
  {
    auto layer = create_layer("Conv");
    CHECK_THROWS_WITH_AS(layer->load(n, {nullptr}),
                         doctest::Contains("node 'c1' (Conv): expected 2 to 3 inputs, got 1"),
                         Error);
  }

  // Shape errors surface at infer and forward.
  auto layer = load(base());
  CHECK_THROWS_WITH_AS(layer->infer({Shape{2, 6, 7, 7}}),
                       doctest::Contains("node 'c1' (Conv): input X has 6 channels but weight W "
                                         "[4,2,3,3] with group 2 expects 4"),
                       Error);
  CHECK_THROWS_WITH_AS(layer->infer({Shape{2, 4, 7}}),
                       doctest::Contains("node 'c1' (Conv): input X must be 4-D"), Error);
  CHECK_THROWS_WITH_AS(layer->infer({Shape{1, 4, 2, 7}}),
                       doctest::Contains("node 'c1' (Conv): kernel extent 3 (kernel 3, dilation "
                                         "1) is larger than the padded input 2 along H"),
                       Error);
  Tape tape;
  std::vector<Var> out(1);
  CHECK_THROWS_WITH_AS(layer->forward(tape, {tape.input(random_tensor({1, 4, 7, 2}, 35)),
                                             tape.constant(w.value), tape.constant(b.value)},
                                      out),
                       doctest::Contains("node 'c1' (Conv): kernel extent 3"), Error);
}

TEST_CASE("Conv forward and input gradient are bitwise identical on 1 and 2 threads") {
  const int saved = omp_get_max_threads();
  struct Named {
    const char* what;
    ConvCase k;
  };
  std::vector<Named> cases;
  ConvCase k;
  k.n = 2;
  k.c = 16;
  k.h = 41;
  k.w = 37;
  k.m = 32;
  k.pads = {1, 1, 1, 1};
  cases.push_back({"im2col", k});
  k.n = 3;  // more examples than threads, an odd count: examples run in parallel
  cases.push_back({"im2col, 3 examples", k});
  k.n = 1;  // one example, a 256-row GEMM split into 32-row blocks
  k.c = 64;
  k.m = 256;
  k.h = k.w = 14;
  cases.push_back({"im2col, one example, GEMM split", k});
  k.n = 2;
  k.c = 16;
  k.m = 32;
  k.h = 41;
  k.w = 37;
  k.kh = k.kw = 1;
  k.pads = {0, 0, 0, 0};
  cases.push_back({"pointwise", k});
  k.kh = k.kw = 3;
  k.group = 16;
  k.stride = {2, 2};
  k.auto_pad = "SAME_UPPER";
  cases.push_back({"depthwise", k});
  ConvCase small;  // 5 examples (more than threads, odd) of a small grouped product, odd pads
  small.n = 5;
  small.c = 4;
  small.m = 6;
  small.h = 9;
  small.w = 11;
  small.group = 2;
  small.pads = {1, 0, 1, 2};
  cases.push_back({"5 examples, grouped", small});
  for (const Named& c : cases) {
    INFO(c.what);
    auto conv = make_conv(c.k, 41);
    const Tensor x = random_tensor({c.k.n, c.k.c, c.k.h, c.k.w}, 42);
    omp_set_num_threads(1);
    const ForwardBackward one = run(*conv, x, 43);
    omp_set_num_threads(2);
    const ForwardBackward two = run(*conv, x, 43);
    CHECK(bitwise_equal(one.y, two.y));
    CHECK(bitwise_equal(one.dx, two.dx));
  }
  omp_set_num_threads(saved);
}
