// ConvTranspose: the layer against a plain-loop reference forward and input gradient over a grid
// of odd shapes (strides, pads, output_padding, output_shape, auto_pad, dilations, groups), finite
// differences, the FullGrad bias map, attribute validation and thread-count determinism.
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

struct Case {
  int64_t n = 2, c = 4, h = 7, w = 7, m = 4, group = 1, kh = 3, kw = 3;
  std::array<int64_t, 2> stride{1, 1}, dilation{1, 1}, output_padding{0, 0};
  std::array<int64_t, 4> pads{0, 0, 0, 0};  // top, left, bottom, right
  std::array<int64_t, 2> output_shape{0, 0};  // 0: not given
  std::string auto_pad = "NOTSET";
  bool bias = true;

  std::string describe() const {
    auto s = [](int64_t v) { return std::to_string(v); };
    return "x [" + s(n) + "," + s(c) + "," + s(h) + "," + s(w) + "] m " + s(m) + " group " +
           s(group) + " k " + s(kh) + "x" + s(kw) + " stride " + s(stride[0]) + "," +
           s(stride[1]) + " dilation " + s(dilation[0]) + "," + s(dilation[1]) + " pads " +
           s(pads[0]) + "," + s(pads[1]) + "," + s(pads[2]) + "," + s(pads[3]) +
           " output_padding " + s(output_padding[0]) + "," + s(output_padding[1]) +
           " output_shape " + s(output_shape[0]) + "," + s(output_shape[1]) + " " + auto_pad;
  }
};

// The test's own arithmetic for one axis (ONNX ConvTranspose).
struct RefAxis {
  int64_t out = 0, pad_begin = 0;
  bool valid = true;
};

RefAxis ref_axis(const Case& k, int64_t in, int64_t kernel, int64_t s, int64_t d, int64_t pb,
                 int64_t pe, int64_t op, int64_t given) {
  RefAxis a;
  if (op >= s && op >= d) a.valid = false;
  const int64_t natural = s * (in - 1) + op + (kernel - 1) * d + 1;
  if (given > 0 || k.auto_pad == "SAME_UPPER" || k.auto_pad == "SAME_LOWER") {
    a.out = given > 0 ? given : in * s;
    const int64_t total = std::max<int64_t>(0, natural - a.out);
    a.pad_begin = k.auto_pad == "SAME_UPPER" ? total / 2 : total - total / 2;
    return a;
  }
  if (k.auto_pad == "VALID") pb = pe = 0;
  a.pad_begin = pb;
  a.out = natural - pb - pe;
  if (a.out < 1) a.valid = false;
  return a;
}

struct RefGeometry {
  RefAxis h, w;
  bool valid() const { return h.valid && w.valid; }
};

RefGeometry ref_geometry(const Case& k) {
  return {ref_axis(k, k.h, k.kh, k.stride[0], k.dilation[0], k.pads[0], k.pads[2],
                   k.output_padding[0], k.output_shape[0]),
          ref_axis(k, k.w, k.kw, k.stride[1], k.dilation[1], k.pads[1], k.pads[3],
                   k.output_padding[1], k.output_shape[1])};
}

// Calls f(n, c, ih, iw, m, oh, ow, weight index) for every product x[n,c,ih,iw]·W that lands
// inside the output.
template <class F>
void for_each_product(const Case& k, const RefGeometry& g, F&& f) {
  const int64_t cg = k.c / k.group, mg = k.m / k.group;
  for (int64_t n = 0; n < k.n; ++n)
    for (int64_t c = 0; c < k.c; ++c)
      for (int64_t ih = 0; ih < k.h; ++ih)
        for (int64_t iw = 0; iw < k.w; ++iw)
          for (int64_t ml = 0; ml < mg; ++ml)
            for (int64_t i = 0; i < k.kh; ++i)
              for (int64_t j = 0; j < k.kw; ++j) {
                const int64_t oh = ih * k.stride[0] - g.h.pad_begin + i * k.dilation[0];
                const int64_t ow = iw * k.stride[1] - g.w.pad_begin + j * k.dilation[1];
                if (oh < 0 || oh >= g.h.out || ow < 0 || ow >= g.w.out) continue;
                const int64_t m = (c / cg) * mg + ml;
                f(n, c, ih, iw, m, oh, ow, ((c * mg + ml) * k.kh + i) * k.kw + j);
              }
}

Tensor ref_forward(const Case& k, const RefGeometry& g, const Tensor& x, const Tensor& w,
                   const Tensor& b) {
  Tensor y(Shape{k.n, k.m, g.h.out, g.w.out});
  const int64_t plane = g.h.out * g.w.out;
  for (int64_t i = 0; i < y.numel(); ++i) y[i] = k.bias ? b[(i / plane) % k.m] : 0.f;
  for_each_product(k, g, [&](int64_t n, int64_t c, int64_t ih, int64_t iw, int64_t m, int64_t oh,
                             int64_t ow, int64_t wi) {
    y[((n * k.m + m) * g.h.out + oh) * g.w.out + ow] +=
        w[wi] * x[((n * k.c + c) * k.h + ih) * k.w + iw];
  });
  return y;
}

Tensor ref_input_grad(const Case& k, const RefGeometry& g, const Tensor& gy, const Tensor& w) {
  Tensor dx(Shape{k.n, k.c, k.h, k.w});
  for_each_product(k, g, [&](int64_t n, int64_t c, int64_t ih, int64_t iw, int64_t m, int64_t oh,
                             int64_t ow, int64_t wi) {
    dx[((n * k.c + c) * k.h + ih) * k.w + iw] +=
        w[wi] * gy[((n * k.m + m) * g.h.out + oh) * g.w.out + ow];
  });
  return dx;
}

double max_rel_error(const Tensor& a, const Tensor& b) {
  REQUIRE(a.shape() == b.shape());
  double e = 0;
  for (int64_t i = 0; i < a.numel(); ++i)
    e = std::max(e, std::fabs(double(a[i]) - double(b[i])) / std::max(1.0, std::fabs(double(b[i]))));
  return e;
}

struct UnderTest {
  Initializer weight, bias;
  NodeDef node;
  std::unique_ptr<Layer> layer;
};

NodeDef node_for(const Case& k) {
  NodeDef node;
  node.name = "ct";
  node.op_type = "ConvTranspose";
  node.inputs = k.bias ? std::vector<std::string>{"x", "w", "b"} : std::vector<std::string>{"x", "w"};
  node.outputs = {"y"};
  node.attributes["kernel_shape"] = Attribute::of(std::vector<int64_t>{k.kh, k.kw});
  node.attributes["strides"] = Attribute::of(std::vector<int64_t>{k.stride[0], k.stride[1]});
  node.attributes["dilations"] = Attribute::of(std::vector<int64_t>{k.dilation[0], k.dilation[1]});
  node.attributes["group"] = Attribute::of(k.group);
  if (k.output_padding[0] || k.output_padding[1])
    node.attributes["output_padding"] =
        Attribute::of(std::vector<int64_t>{k.output_padding[0], k.output_padding[1]});
  if (k.output_shape[0] > 0)
    node.attributes["output_shape"] =
        Attribute::of(std::vector<int64_t>{k.output_shape[0], k.output_shape[1]});
  if (k.auto_pad == "NOTSET") {
    if (k.output_shape[0] == 0)
      node.attributes["pads"] = Attribute::of(std::vector<int64_t>(k.pads.begin(), k.pads.end()));
  } else {
    node.attributes["auto_pad"] = Attribute::of(k.auto_pad);
  }
  return node;
}

std::unique_ptr<UnderTest> make(const Case& k, uint64_t seed) {
  auto t = std::make_unique<UnderTest>();
  t->weight = Initializer(random_tensor({k.c, k.m / k.group, k.kh, k.kw}, seed));
  t->bias = Initializer(random_tensor({k.m}, seed + 1));
  t->node = node_for(k);
  t->layer = create_layer("ConvTranspose");
  REQUIRE(t->layer);
  std::vector<const Initializer*> constants{nullptr, &t->weight};
  if (k.bias) constants.push_back(&t->bias);
  t->layer->load(t->node, constants);
  return t;
}

Var run_forward(const UnderTest& t, Tape& tape, Var x) {
  std::vector<Var> in{x, tape.constant(t.weight.value, "w")};
  if (t.node.inputs.size() > 2) in.push_back(tape.constant(t.bias.value, "b"));
  std::vector<Var> out(1);
  t.layer->forward(tape, in, out);
  return out[0];
}

struct ForwardBackward {
  Tensor y, dx;
};

ForwardBackward run(const UnderTest& t, const Tensor& x, uint64_t seed) {
  Tape tape;
  Var xv = tape.input(x);
  Var y = run_forward(t, tape, xv);
  tape.backward(y, random_tensor(y.shape(), seed));
  return {y.value().clone(), tape.grad(xv)};
}

}  // namespace

TEST_CASE("ConvTranspose matches the plain-loop reference forward and input gradient over a grid") {
  int compared = 0, rejected = 0;
  uint64_t seed = 300;
  const std::array<int64_t, 2> sizes[] = {{7, 13}, {13, 7}};
  const std::array<int64_t, 2> strides[] = {{1, 1}, {2, 2}, {1, 2}};
  const std::array<int64_t, 2> dilations[] = {{1, 1}, {2, 2}};
  struct Padding {
    const char* auto_pad;
    std::array<int64_t, 4> pads;
    bool output_shape;
  };
  for (const auto& hw : sizes)
    for (int64_t kernel : {1, 2, 3, 5})
      for (const auto& stride : strides)
        for (const auto& dilation : dilations)
          for (int64_t group : {1, 2, 4})
            for (int64_t op : {0, 1}) {
              const int64_t half = kernel / 2;
              const Padding paddings[] = {{"NOTSET", {0, 0, 0, 0}, false},
                                          {"NOTSET", {half, half, half, half}, false},
                                          {"NOTSET", {0, half + 1, 2, 1}, false},
                                          {"NOTSET", {}, true},
                                          {"SAME_UPPER", {}, false},
                                          {"SAME_LOWER", {}, false},
                                          {"VALID", {}, false}};
              for (const Padding& padding : paddings) {
                Case k;
                k.h = hw[0];
                k.w = hw[1];
                k.kh = kernel;
                k.kw = kernel == 5 ? 3 : kernel;  // 1x1, 2x2, 3x3 and a non-square 5x3
                k.stride = stride;
                k.dilation = dilation;
                k.group = group;
                k.m = group == 2 ? 6 : 4;
                k.output_padding = {op, op};
                k.auto_pad = padding.auto_pad;
                k.pads = padding.pads;
                // An explicit output_shape: one smaller and one larger than the natural size.
                if (padding.output_shape) k.output_shape = {k.h * stride[0] - 1, k.w * stride[1] + 2};
                k.bias = (seed % 3) != 0;
                ++seed;
                INFO(k.describe());
                const RefGeometry g = ref_geometry(k);
                const Shape xs{k.n, k.c, k.h, k.w};
                if (!g.valid()) {  // output_padding 1 with stride 1 and dilation 1
                  CHECK_THROWS_WITH_AS(make(k, seed)->layer->infer({xs}),
                                       doctest::Contains("node 'ct' (ConvTranspose): output_padding"),
                                       Error);
                  ++rejected;
                  continue;
                }
                auto ct = make(k, seed);
                REQUIRE(ct->layer->infer({xs})[0] == Shape({k.n, k.m, g.h.out, g.w.out}));
                CHECK(ct->layer->macs({xs}) == k.n * k.c * k.h * k.w * (k.m / k.group) * k.kh * k.kw);
                const Tensor x = random_tensor(xs, seed + 7);
                const ForwardBackward got = run(*ct, x, seed + 11);
                const Tensor u = random_tensor(got.y.shape(), seed + 11);
                CHECK(max_rel_error(got.y, ref_forward(k, g, x, ct->weight.value, ct->bias.value)) < 1e-5);
                CHECK(max_rel_error(got.dx, ref_input_grad(k, g, u, ct->weight.value)) < 1e-5);
                ++compared;
              }
            }
  CHECK(compared > 1000);
  CHECK(rejected > 100);
  MESSAGE("compared " << compared << " ConvTranspose configurations, " << rejected << " rejected");
}

TEST_CASE("ConvTranspose input gradient passes the finite-difference check") {
  struct Named {
    const char* what;
    Case k;
  };
  std::vector<Named> cases;
  Case k;
  k.stride = {2, 2};
  k.pads = {1, 1, 1, 1};
  k.output_padding = {1, 1};
  cases.push_back({"3x3 stride 2 pad 1 output_padding 1 (the torch upsampling layer)", k});
  k = Case();
  k.h = 5;
  k.w = 6;
  k.dilation = {2, 2};
  k.group = 2;
  k.m = 6;
  k.auto_pad = "SAME_LOWER";
  cases.push_back({"dilated grouped SAME_LOWER", k});
  k = Case();
  k.kh = 2;
  k.kw = 4;
  k.stride = {2, 3};
  k.pads = {0, 2, 1, 0};
  cases.push_back({"2x4 stride 2,3 asymmetric pads", k});
  for (const Named& c : cases) {
    INFO(c.what);
    auto ct = make(c.k, 5);
    const Tensor x = random_tensor({c.k.n, c.k.c, c.k.h, c.k.w}, 6);
    GradCheckResult r = check_gradients(
        [&](Tape& tape, const std::vector<Var>& v) { return run_forward(*ct, tape, v[0]); }, {x});
    INFO(r.worst);
    CHECK(r.relative_error < 1e-3);
  }
}

TEST_CASE("ConvTranspose reports its bias as [M,1,1]; the bias map is grad ⊙ b") {
  Graph graph;
  graph.inputs = {{"x", {-1, 3, 5, 4}}};
  graph.outputs = {{"y", {}}};
  graph.initializers["w"] = Initializer(random_tensor({3, 2, 3, 3}, 21));  // M = 2·group
  graph.initializers["b"] = Initializer(Tensor(Shape{2}, {0.5f, -1.5f}));
  NodeDef node;
  node.name = "ct";
  node.op_type = "ConvTranspose";
  node.inputs = {"x", "w", "b"};
  node.outputs = {"y"};
  node.attributes["strides"] = Attribute::of(std::vector<int64_t>{2, 2});
  graph.nodes = {node};
  Model model(graph);

  Tape tape;
  BiasTap tap;
  tape.observe(&tap);
  Var y = model.forward(tape, random_tensor({2, 3, 5, 4}, 22));
  REQUIRE(y.shape() == Shape({2, 2, 11, 9}));
  const NodeInfo& info = tape.info(y);
  REQUIRE(info.bias != nullptr);
  CHECK(info.bias->shape() == Shape({2, 1, 1}));
  const Tensor u = random_tensor(y.shape(), 23);
  tape.backward(y, u);
  REQUIRE(tap.entries().size() == 1);
  const BiasTap::Entry& e = tap.entries()[0];
  CHECK(e.name == "y");
  CHECK(e.op == "ConvTranspose");
  REQUIRE(e.map.shape() == y.shape());
  const float b[2] = {0.5f, -1.5f};
  for (int64_t i = 0; i < u.numel(); ++i) {
    INFO("element " << i);
    CHECK(e.map[i] == u[i] * b[(i / (11 * 9)) % 2]);
  }

  graph.nodes[0].inputs = {"x", "w"};
  Model no_bias(graph);
  Tape tape2;
  Var y2 = no_bias.forward(tape2, random_tensor({1, 3, 5, 4}, 24));
  CHECK(tape2.info(y2).bias == nullptr);
}

TEST_CASE("ConvTranspose: hand-computed 1-D-like example") {
  // x = [1, 2] along W, kernel [1, 10], stride 2: y = [1, 10, 2, 20] (no overlap), then with
  // stride 1: [1, 12, 20]; pads [0,1,0,1] crops one element each side: [12].
  const Initializer w(Tensor(Shape{1, 1, 1, 2}, {1.f, 10.f}));
  auto load = [&](NodeDef n) {
    auto layer = create_layer("ConvTranspose");
    layer->load(n, {nullptr, &w});
    return layer;
  };
  NodeDef n;
  n.name = "ct";
  n.op_type = "ConvTranspose";
  n.inputs = {"x", "w"};
  n.outputs = {"y"};
  n.attributes["strides"] = Attribute::of(std::vector<int64_t>{1, 2});
  auto run1 = [&](const Layer& layer) {
    Tape tape;
    std::vector<Var> out(1);
    layer.forward(tape, {tape.input(Tensor(Shape{1, 1, 1, 2}, {1.f, 2.f})), tape.constant(w.value)},
                  out);
    return out[0].value().clone();
  };
  gradlens::test::check_equal(run1(*load(n)), Tensor(Shape{1, 1, 1, 4}, {1.f, 10.f, 2.f, 20.f}));
  n.attributes["output_padding"] = Attribute::of(std::vector<int64_t>{0, 1});
  gradlens::test::check_equal(run1(*load(n)), Tensor(Shape{1, 1, 1, 5}, {1.f, 10.f, 2.f, 20.f, 0.f}));
  n.attributes.erase("output_padding");
  n.attributes["strides"] = Attribute::of(std::vector<int64_t>{1, 1});
  gradlens::test::check_equal(run1(*load(n)), Tensor(Shape{1, 1, 1, 3}, {1.f, 12.f, 20.f}));
  n.attributes["pads"] = Attribute::of(std::vector<int64_t>{0, 1, 0, 1});
  gradlens::test::check_equal(run1(*load(n)), Tensor(Shape{1, 1, 1, 1}, {12.f}));
  n.attributes.erase("pads");
  n.attributes["auto_pad"] = Attribute::of("SAME_UPPER");  // out = in·stride = 2, total pad 1 at the end
  gradlens::test::check_equal(run1(*load(n)), Tensor(Shape{1, 1, 1, 2}, {1.f, 12.f}));
  n.attributes["auto_pad"] = Attribute::of("SAME_LOWER");  // total pad 1 at the beginning
  gradlens::test::check_equal(run1(*load(n)), Tensor(Shape{1, 1, 1, 2}, {12.f, 20.f}));
}

TEST_CASE("ConvTranspose rejects bad attributes and shapes with the node's name") {
  const Initializer w(random_tensor({4, 2, 3, 3}, 31));  // C = 4, M = 2·group
  const Initializer b(random_tensor({4}, 32));
  auto base = [] {
    Case k;
    k.group = 2;
    k.m = 4;
    return node_for(k);
  };
  auto load = [&](NodeDef node, const Initializer* weight = nullptr, const Initializer* bias = nullptr) {
    auto layer = create_layer("ConvTranspose");
    std::vector<const Initializer*> constants{nullptr, weight ? weight : &w};
    if (node.inputs.size() > 2) constants.push_back(bias ? bias : &b);
    layer->load(node, constants);
    return layer;
  };
  auto expect_load_error = [&](NodeDef node, const char* what, const Initializer* weight = nullptr,
                               const Initializer* bias = nullptr) {
    INFO(what);
    CHECK_THROWS_WITH_AS(load(std::move(node), weight, bias),
                         doctest::Contains((std::string("node 'ct' (ConvTranspose): ") + what).c_str()),
                         Error);
  };
  NodeDef n = base();
  n.attributes["output_padding"] = Attribute::of(std::vector<int64_t>{1});
  expect_load_error(n, "output_padding must have 2 entries");
  n = base();
  n.attributes["output_shape"] = Attribute::of(std::vector<int64_t>{5});
  expect_load_error(n, "output_shape must be 2 positive extents");
  n = base();
  n.attributes["group"] = Attribute::of(3);
  expect_load_error(n, "input channels 4 (weight W [4,2,3,3]) are not divisible by group 3");
  n = base();
  n.attributes["kernel_shape"] = Attribute::of(std::vector<int64_t>{2, 3});
  expect_load_error(n, "kernel_shape [2,3] does not match weight W [4,2,3,3]");
  n = base();
  n.attributes["pads"] = Attribute::of(std::vector<int64_t>{1, 1, -1, 1});
  expect_load_error(n, "pads must be non-negative");
  n = base();
  n.attributes["bogus"] = Attribute::of(1);
  expect_load_error(n, "unsupported attribute 'bogus'");
  const Initializer b5(random_tensor({5}, 34));
  expect_load_error(base(), "bias B must have shape [4] (one per output channel), got [5]", nullptr, &b5);
  {
    auto layer = create_layer("ConvTranspose");
    CHECK_THROWS_WITH_AS(layer->load(base(), {nullptr, nullptr, &b}),
                         doctest::Contains("node 'ct' (ConvTranspose): weight W (input 1) must be a constant"),
                         Error);
  }
  auto layer = load(base());
  CHECK_THROWS_WITH_AS(layer->infer({Shape{2, 6, 7, 7}}),
                       doctest::Contains("node 'ct' (ConvTranspose): input X has 6 channels but weight W [4,2,3,3] expects 4"),
                       Error);
  CHECK_THROWS_WITH_AS(layer->infer({Shape{2, 4, 7}}),
                       doctest::Contains("node 'ct' (ConvTranspose): input X must be 4-D"), Error);
  n = base();
  n.attributes["output_padding"] = Attribute::of(std::vector<int64_t>{1, 0});
  expect_load_error(n, "output_padding [1,0] must be non-negative and less than the stride [1,1] or "
                       "the dilation [1,1]");
  n = base();
  n.attributes["pads"] = Attribute::of(std::vector<int64_t>{2, 0, 2, 0});
  CHECK_THROWS_WITH_AS(load(n)->infer({Shape{1, 4, 1, 5}}),
                       doctest::Contains("node 'ct' (ConvTranspose): pads 2+2 along H leave no output"),
                       Error);
}

TEST_CASE("ConvTranspose forward and input gradient are bitwise identical on 1 and 2 threads") {
  const int saved = omp_get_max_threads();
  Case k;
  k.c = 16;
  k.h = 21;
  k.w = 19;
  k.m = 32;
  k.stride = {2, 2};
  k.pads = {1, 1, 1, 1};
  k.output_padding = {1, 1};
  for (int64_t group : {1, 4}) {
    k.group = group;
    INFO("group " << group);
    auto ct = make(k, 41);
    const Tensor x = random_tensor({k.n, k.c, k.h, k.w}, 42);
    omp_set_num_threads(1);
    const ForwardBackward one = run(*ct, x, 43);
    omp_set_num_threads(2);
    const ForwardBackward two = run(*ct, x, 43);
    CHECK(bitwise_equal(one.y, two.y));
    CHECK(bitwise_equal(one.dx, two.dx));
  }
  omp_set_num_threads(saved);
}
