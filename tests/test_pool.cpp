// MaxPool, AveragePool, GlobalAveragePool, GlobalMaxPool: plain-loop references over a grid of
// odd shapes, hand-worked ONNX/PyTorch corner cases (ceil_mode, count_include_pad, ties, padding
// that must not win), finite differences and attribute validation.
#include <algorithm>
#include <array>
#include <cmath>
#include <limits>
#include <memory>
#include <string>

#include "engine/error.h"
#include "engine/gradcheck.h"
#include "engine/random.h"
#include "layers/layer.h"
#include "support.h"

using namespace gradlens;
using gradlens::test::check_equal;
using gradlens::test::random_tensor;

namespace {

struct PoolCase {
  int64_t n = 2, c = 3, h = 7, w = 7, kh = 3, kw = 3;
  std::array<int64_t, 2> stride{1, 1}, dilation{1, 1};
  std::array<int64_t, 4> pads{0, 0, 0, 0};  // top, left, bottom, right
  std::string auto_pad = "NOTSET";
  bool ceil_mode = false;
  bool count_include_pad = false;

  std::string describe() const {
    return "x [" + std::to_string(n) + "," + std::to_string(c) + "," + std::to_string(h) + "," +
           std::to_string(w) + "] k " + std::to_string(kh) + "x" + std::to_string(kw) +
           " stride " + std::to_string(stride[0]) + "," + std::to_string(stride[1]) +
           " dilation " + std::to_string(dilation[0]) + "," + std::to_string(dilation[1]) +
           " pads " + std::to_string(pads[0]) + "," + std::to_string(pads[1]) + "," +
           std::to_string(pads[2]) + "," + std::to_string(pads[3]) + " " + auto_pad +
           " ceil " + std::to_string(ceil_mode) + " count_include_pad " +
           std::to_string(count_include_pad);
  }
};

// The test's own window arithmetic, from the ONNX text: floor/ceil of (in + pads − extent)/s + 1,
// ceil_mode windows starting in the end padding dropped, SAME giving ceil(in / s).
struct RefAxis {
  int64_t out = 0, pad_begin = 0, pad_end = 0;
  bool valid = true;
};

RefAxis ref_axis(const PoolCase& k, int64_t in, int64_t kernel, int64_t s, int64_t d, int64_t pb,
                 int64_t pe) {
  RefAxis a;
  const int64_t ext = (kernel - 1) * d + 1;
  if (k.auto_pad == "SAME_UPPER" || k.auto_pad == "SAME_LOWER") {
    a.out = int64_t(std::ceil(double(in) / double(s)));
    const int64_t total = std::max<int64_t>(0, (a.out - 1) * s + ext - in);
    a.pad_begin = k.auto_pad == "SAME_UPPER" ? total / 2 : total - total / 2;
    a.pad_end = total - a.pad_begin;
    return a;
  }
  if (k.auto_pad == "VALID") pb = pe = 0;
  a.pad_begin = pb;
  a.pad_end = pe;
  if (in + pb + pe < ext) {
    a.valid = false;
    return a;
  }
  const double q = double(in + pb + pe - ext) / double(s);
  a.out = int64_t(k.ceil_mode ? std::ceil(q) : std::floor(q)) + 1;
  if (k.ceil_mode && (a.out - 1) * s >= in + pb) --a.out;
  return a;
}

struct RefPool {
  Tensor y, dx;
  bool valid = true;            // the padded input holds the kernel
  bool padding_only = false;    // some window reads no input element
};

// Plain loops over every tap of every window. Max: first strict maximum among the taps inside
// the input. Average: sum of taps inside the input over the ONNX divisor.
RefPool ref_pool(const PoolCase& k, bool max, const Tensor& x, const Tensor& g_seed) {
  RefPool r;
  const RefAxis ah = ref_axis(k, k.h, k.kh, k.stride[0], k.dilation[0], k.pads[0], k.pads[2]);
  const RefAxis aw = ref_axis(k, k.w, k.kw, k.stride[1], k.dilation[1], k.pads[1], k.pads[3]);
  if (!ah.valid || !aw.valid) {
    r.valid = false;
    return r;
  }
  r.y = Tensor(Shape{k.n, k.c, ah.out, aw.out});
  r.dx = Tensor(Shape{k.n, k.c, k.h, k.w});
  const bool has_grad = g_seed.numel() == r.y.numel();
  for (int64_t n = 0; n < k.n; ++n)
    for (int64_t c = 0; c < k.c; ++c)
      for (int64_t oh = 0; oh < ah.out; ++oh)
        for (int64_t ow = 0; ow < aw.out; ++ow) {
          const int64_t yi = ((n * k.c + c) * ah.out + oh) * aw.out + ow;
          double sum = 0;
          int64_t inside = 0, inside_padded = 0, best = -1;
          for (int64_t i = 0; i < k.kh; ++i)
            for (int64_t j = 0; j < k.kw; ++j) {
              const int64_t ih = oh * k.stride[0] - ah.pad_begin + i * k.dilation[0];
              const int64_t iw = ow * k.stride[1] - aw.pad_begin + j * k.dilation[1];
              if (ih >= -ah.pad_begin && ih < k.h + ah.pad_end && iw >= -aw.pad_begin &&
                  iw < k.w + aw.pad_end)
                ++inside_padded;
              if (ih < 0 || ih >= k.h || iw < 0 || iw >= k.w) continue;
              const int64_t xi = ((n * k.c + c) * k.h + ih) * k.w + iw;
              ++inside;
              sum += x[xi];
              if (best < 0 || x[xi] > x[best]) best = xi;
            }
          if (inside == 0) {
            r.padding_only = true;
            if (max || !k.count_include_pad) continue;
          }
          if (max) {
            r.y[yi] = x[best];
            if (has_grad) r.dx[best] += g_seed[yi];
          } else {
            const double divisor = double(k.count_include_pad ? inside_padded : inside);
            r.y[yi] = float(sum / divisor);
            if (!has_grad) continue;
            for (int64_t i = 0; i < k.kh; ++i)
              for (int64_t j = 0; j < k.kw; ++j) {
                const int64_t ih = oh * k.stride[0] - ah.pad_begin + i * k.dilation[0];
                const int64_t iw = ow * k.stride[1] - aw.pad_begin + j * k.dilation[1];
                if (ih < 0 || ih >= k.h || iw < 0 || iw >= k.w) continue;
                r.dx[((n * k.c + c) * k.h + ih) * k.w + iw] += float(g_seed[yi] / divisor);
              }
          }
        }
  return r;
}

NodeDef pool_node(const PoolCase& k, bool max, const std::string& name = "p1") {
  NodeDef node;
  node.name = name;
  node.op_type = max ? "MaxPool" : "AveragePool";
  node.inputs = {"x"};
  node.outputs = {"y"};
  node.attributes["kernel_shape"] = Attribute::of(std::vector<int64_t>{k.kh, k.kw});
  node.attributes["strides"] = Attribute::of(std::vector<int64_t>{k.stride[0], k.stride[1]});
  node.attributes["dilations"] = Attribute::of(std::vector<int64_t>{k.dilation[0], k.dilation[1]});
  node.attributes["ceil_mode"] = Attribute::of(int64_t(k.ceil_mode));
  if (!max) node.attributes["count_include_pad"] = Attribute::of(int64_t(k.count_include_pad));
  if (k.auto_pad == "NOTSET")
    node.attributes["pads"] = Attribute::of(std::vector<int64_t>(k.pads.begin(), k.pads.end()));
  else
    node.attributes["auto_pad"] = Attribute::of(k.auto_pad);
  return node;
}

std::unique_ptr<Layer> load(const NodeDef& node) {
  auto layer = create_layer(node.op_type);
  REQUIRE(layer);
  layer->load(node, std::vector<const Initializer*>(node.inputs.size(), nullptr));
  return layer;
}

Var apply(const Layer& layer, Tape& tape, Var x) {
  std::vector<Var> out(layer.node().outputs.size());
  layer.forward(tape, {x}, out);
  return out[0];
}

struct ForwardBackward {
  Tensor y, dx;
};

ForwardBackward run(const Layer& layer, const Tensor& x, const Tensor& seed) {
  Tape tape;
  Var xv = tape.input(x);
  Var y = apply(layer, tape, xv);
  tape.backward(y, seed);
  return {y.value().clone(), tape.grad(xv)};
}

double max_rel_error(const Tensor& a, const Tensor& b) {
  REQUIRE(a.shape() == b.shape());
  double e = 0;
  for (int64_t i = 0; i < a.numel(); ++i)
    e = std::max(e, std::fabs(double(a[i]) - double(b[i])) / std::max(1.0, std::fabs(double(b[i]))));
  return e;
}

// Distinct values 0.05 apart in random order: no ties, and the finite-difference steps (±2h =
// ±0.02) cannot reorder them.
Tensor distinct_tensor(const Shape& s, uint64_t seed) {
  Tensor t(s);
  for (int64_t i = 0; i < t.numel(); ++i) t[i] = 0.05f * float(i - t.numel() / 2);
  Rng rng(seed);
  for (int64_t i = t.numel() - 1; i > 0; --i) std::swap(t[i], t[rng.below(i + 1)]);
  return t;
}

void run_grid(bool max) {
  int compared = 0, rejected = 0, padding_only = 0;
  uint64_t seed = max ? 500 : 900;
  const std::array<int64_t, 2> sizes[] = {{7, 13}, {13, 7}};
  const std::array<int64_t, 2> kernels[] = {{1, 1}, {2, 2}, {3, 3}, {5, 3}};
  const std::array<int64_t, 2> strides[] = {{1, 1}, {2, 2}, {1, 2}};
  const std::array<int64_t, 2> dilations[] = {{1, 1}, {2, 2}};
  struct Padding {
    const char* auto_pad;
    std::array<int64_t, 4> pads;
  };
  for (const auto& hw : sizes)
    for (const auto& kernel : kernels)
      for (const auto& stride : strides)
        for (const auto& dilation : dilations)
          for (bool ceil_mode : {false, true})
            for (bool include_pad : max ? std::vector<bool>{false} : std::vector<bool>{false, true}) {
              const int64_t half = kernel[0] / 2;
              const Padding paddings[] = {{"NOTSET", {0, 0, 0, 0}},
                                          {"NOTSET", {half, half, half, half}},
                                          {"NOTSET", {0, half + 1, 2, 1}},
                                          {"SAME_UPPER", {}},
                                          {"SAME_LOWER", {}},
                                          {"VALID", {}}};
              for (const Padding& padding : paddings) {
                PoolCase k;
                k.h = hw[0];
                k.w = hw[1];
                k.kh = kernel[0];
                k.kw = kernel[1];
                k.stride = stride;
                k.dilation = dilation;
                k.ceil_mode = ceil_mode;
                k.count_include_pad = include_pad;
                k.auto_pad = padding.auto_pad;
                k.pads = padding.pads;
                ++seed;
                INFO(k.describe());
                auto layer = load(pool_node(k, max));
                const Tensor x = random_tensor({k.n, k.c, k.h, k.w}, seed);
                const RefPool shape_only = ref_pool(k, max, x, Tensor());
                const Shape xs = x.shape();
                if (!shape_only.valid) {
                  CHECK_THROWS_WITH_AS(layer->infer({xs}), doctest::Contains("kernel extent"), Error);
                  ++rejected;
                  continue;
                }
                if (shape_only.padding_only && (max || !k.count_include_pad)) {
                  CHECK_THROWS_WITH_AS(layer->infer({xs}),
                                       doctest::Contains("a pooling window holds only padding"),
                                       Error);
                  ++padding_only;
                  continue;
                }
                REQUIRE(layer->infer({xs})[0] == shape_only.y.shape());
                const Tensor g = random_tensor(shape_only.y.shape(), seed + 1);
                const RefPool want = ref_pool(k, max, x, g);
                const ForwardBackward got = run(*layer, x, g);
                CHECK(max_rel_error(got.y, want.y) < 1e-5);
                CHECK(max_rel_error(got.dx, want.dx) < 1e-5);
                ++compared;
              }
            }
  MESSAGE("compared " << compared << ", rejected " << rejected << " (kernel too large), "
                      << padding_only << " (windows of padding only)");
  CHECK(compared > 500);
  CHECK(rejected > 10);
}

}  // namespace

TEST_CASE("MaxPool matches the plain-loop reference over a shape grid") { run_grid(true); }

TEST_CASE("AveragePool matches the plain-loop reference over a shape grid") { run_grid(false); }

TEST_CASE("AveragePool divisor with ceil_mode and count_include_pad, hand-worked") {
  // x = 1..16 as 4x4, kernel 3, stride 2, pads 1, ceil_mode: 3x3 outputs. Along each axis the
  // windows cover [-1,1], [1,3], [3,5]; the last runs past the end padding (position 5), so with
  // count_include_pad it counts 2 taps, not 3 (PyTorch: hend = min(hstart + k, H + pad)).
  Tensor x(Shape{1, 1, 4, 4});
  for (int i = 0; i < 16; ++i) x[i] = float(i + 1);
  PoolCase k;
  k.n = k.c = 1;
  k.h = k.w = 4;
  k.stride = {2, 2};
  k.pads = {1, 1, 1, 1};
  k.ceil_mode = true;
  k.count_include_pad = true;
  Tape tape;
  auto include = load(pool_node(k, false));
  const Tensor& yi = apply(*include, tape, tape.input(x)).value();
  REQUIRE(yi.shape() == Shape({1, 1, 3, 3}));
  CHECK(yi.at({0, 0, 0, 0}) == doctest::Approx(14.0 / 9.0));  // (1+2+5+6) / (3·3)
  CHECK(yi.at({0, 0, 2, 0}) == doctest::Approx(27.0 / 6.0));  // (13+14) / (2·3)
  CHECK(yi.at({0, 0, 2, 2}) == doctest::Approx(16.0 / 4.0));  // 16 / (2·2)
  k.count_include_pad = false;
  auto exclude = load(pool_node(k, false));
  const Tensor& ye = apply(*exclude, tape, tape.input(x)).value();
  CHECK(ye.at({0, 0, 0, 0}) == doctest::Approx(14.0 / 4.0));
  CHECK(ye.at({0, 0, 2, 0}) == doctest::Approx(27.0 / 2.0));
  CHECK(ye.at({0, 0, 2, 2}) == doctest::Approx(16.0));
}

TEST_CASE("ceil_mode drops a last window that would start in the end padding") {
  // 5 + 1 + 1 padded, kernel 2, stride 2: ceil((7 − 2) / 2) + 1 = 4 windows, but the 4th starts
  // at padded position 6 = past the input (5 + 1): ONNX and PyTorch give 3.
  for (bool max : {true, false}) {
    PoolCase k;
    k.n = 1;
    k.c = 2;
    k.h = k.w = 5;
    k.kh = k.kw = 2;
    k.stride = {2, 2};
    k.pads = {1, 1, 1, 1};
    k.ceil_mode = true;
    CHECK(load(pool_node(k, max))->infer({Shape{1, 2, 5, 5}})[0] == Shape({1, 2, 3, 3}));
    // VALID with ceil_mode on 8: ceil((8 − 3) / 2) + 1 = 4 windows (floor gives 3).
    k.h = k.w = 8;
    k.kh = k.kw = 3;
    k.pads = {0, 0, 0, 0};
    k.auto_pad = "VALID";
    CHECK(load(pool_node(k, max))->infer({Shape{1, 2, 8, 8}})[0] == Shape({1, 2, 4, 4}));
    k.ceil_mode = false;
    CHECK(load(pool_node(k, max))->infer({Shape{1, 2, 8, 8}})[0] == Shape({1, 2, 3, 3}));
    // SAME ignores ceil_mode: ceil(8 / 3) = 3.
    k.auto_pad = "SAME_LOWER";
    k.stride = {3, 3};
    CHECK(load(pool_node(k, max))->infer({Shape{1, 2, 8, 8}})[0] == Shape({1, 2, 3, 3}));
  }
}

TEST_CASE("MaxPool: padding never wins, and ties route the gradient to the first maximum") {
  PoolCase k;
  k.n = k.c = 1;
  k.h = k.w = 3;
  k.pads = {1, 1, 1, 1};
  Tensor x(Shape{1, 1, 3, 3}, {-1, -2, -3, -4, -5, -6, -7, -8, -9});
  Tape tape;
  auto layer = load(pool_node(k, true));
  check_equal(apply(*layer, tape, tape.input(x)).value(),
              Tensor(Shape{1, 1, 3, 3}, {-1, -1, -2, -1, -1, -2, -4, -4, -5}));

  // Windows {1,3,3,0} and {3,3,0,2}: both maxima are the 3 at (0,1), the first in scan order.
  k.h = 2;
  k.kh = k.kw = 2;
  k.pads = {0, 0, 0, 0};
  auto ties = load(pool_node(k, true));
  Tape t2;
  Var xv = t2.input(Tensor(Shape{1, 1, 2, 3}, {1, 3, 3, 3, 0, 2}));
  Var y = apply(*ties, t2, xv);
  check_equal(y.value(), Tensor(Shape{1, 1, 1, 2}, {3, 3}));
  t2.backward(y, Tensor(Shape{1, 1, 1, 2}, {1, 10}));
  check_equal(t2.grad(xv), Tensor(Shape{1, 1, 2, 3}, {0, 11, 0, 0, 0, 0}));
}

TEST_CASE("MaxPool: a NaN in a window wins, -inf windows stay -inf, with padding") {
  PoolCase k;
  k.n = k.c = 1;
  k.h = k.w = 3;
  k.kh = k.kw = 2;
  k.pads = {1, 1, 0, 0};
  const float nan = std::numeric_limits<float>::quiet_NaN(), inf = std::numeric_limits<float>::infinity();
  // windows (top-left padded): {x00}, {x00,x01}, {x01,x02}; {x00,x10}, {x00,x01,x10,x11}, ...
  Tensor x(Shape{1, 1, 3, 3}, {-inf, nan, 1, -inf, -inf, 2, 5, -inf, 3});
  Tape tape;
  auto layer = load(pool_node(k, true));
  Var xv = tape.input(x);
  Var yv = apply(*layer, tape, xv);
  const Tensor y = yv.value();
  // The gradient goes to each window's first maximum in scan order: the first NaN, the first -inf.
  tape.backward(yv, Tensor(Shape{1, 1, 3, 3}, 1.f));
  check_equal(tape.grad(xv), Tensor(Shape{1, 1, 3, 3}, {2, 4, 0, 0, 0, 0, 2, 0, 1}));
  const float want[] = {-inf, nan, nan, -inf, nan, nan, 5, 5, 3};
  REQUIRE(y.numel() == 9);
  for (int i = 0; i < 9; ++i) {
    INFO("output " << i);
    if (std::isnan(want[i]))
      CHECK(std::isnan(y[i]));
    else
      CHECK(y[i] == want[i]);
  }
}

TEST_CASE("MaxPool and AveragePool pass the finite-difference check") {
  PoolCase cases[3];
  cases[0].pads = {1, 1, 1, 1};
  cases[1].h = 8;
  cases[1].stride = {2, 2};
  cases[1].pads = {0, 1, 2, 1};
  cases[1].ceil_mode = true;
  cases[1].count_include_pad = true;
  cases[2].dilation = {2, 2};
  cases[2].auto_pad = "SAME_LOWER";
  cases[2].kh = 2;
  for (const PoolCase& k : cases)
    for (bool max : {true, false}) {
      INFO(k.describe() << (max ? " MaxPool" : " AveragePool"));
      auto layer = load(pool_node(k, max));
      const Tensor x = distinct_tensor({k.n, k.c, k.h, k.w}, 71);
      GradCheckResult r = check_gradients(
          [&](Tape& tape, const std::vector<Var>& v) { return apply(*layer, tape, v[0]); }, {x});
      INFO(r.worst);
      CHECK(r.relative_error < 1e-3);
    }
}

TEST_CASE("GlobalAveragePool and GlobalMaxPool reduce every spatial axis") {
  NodeDef node;
  node.name = "g1";
  node.inputs = {"x"};
  node.outputs = {"y"};
  for (const Shape& s : {Shape{2, 3, 5, 7}, Shape{2, 3, 11}, Shape{1, 2, 3, 4, 5}}) {
    INFO(s.str());
    const Tensor x = distinct_tensor(s, 81);
    const int64_t planes = s[0] * s[1], size = s.numel() / planes;
    Shape ys = s;
    for (int i = 2; i < s.rank(); ++i) ys[i] = 1;
    Tensor want_avg(ys), want_max(ys), dx_avg(s), dx_max(s);
    const Tensor g = random_tensor(ys, 82);
    for (int64_t p = 0; p < planes; ++p) {
      double sum = 0;
      int64_t best = p * size;
      for (int64_t i = p * size; i < (p + 1) * size; ++i) {
        sum += x[i];
        if (x[i] > x[best]) best = i;
      }
      want_avg[p] = float(sum / double(size));
      want_max[p] = x[best];
      for (int64_t i = p * size; i < (p + 1) * size; ++i) dx_avg[i] = g[p] / float(size);
      dx_max[best] = g[p];
    }
    for (const char* op : {"GlobalAveragePool", "GlobalMaxPool"}) {
      INFO(op);
      node.op_type = op;
      auto layer = load(node);
      const bool is_max = std::string(op) == "GlobalMaxPool";
      REQUIRE(layer->infer({s})[0] == ys);
      const ForwardBackward got = run(*layer, x, g);
      CHECK(max_rel_error(got.y, is_max ? want_max : want_avg) < 1e-5);
      CHECK(max_rel_error(got.dx, is_max ? dx_max : dx_avg) < 1e-5);
      GradCheckResult r = check_gradients(
          [&](Tape& tape, const std::vector<Var>& v) { return apply(*layer, tape, v[0]); }, {x});
      INFO(r.worst);
      CHECK(r.relative_error < 1e-3);
    }
  }
  // Ties: the first maximum in memory order takes the gradient.
  node.op_type = "GlobalMaxPool";
  auto layer = load(node);
  const ForwardBackward tie = run(*layer, Tensor(Shape{1, 1, 2, 2}, {2, 5, 5, 1}),
                                  Tensor(Shape{1, 1, 1, 1}, {3}));
  check_equal(tie.dx, Tensor(Shape{1, 1, 2, 2}, {0, 3, 0, 0}));
}

TEST_CASE("pools reject bad attributes and shapes with the node's name") {
  auto expect_error = [](const NodeDef& node, const char* what) {
    INFO(what);
    auto layer = create_layer(node.op_type);
    CHECK_THROWS_WITH_AS(
        layer->load(node, std::vector<const Initializer*>(node.inputs.size(), nullptr)),
        doctest::Contains(("node 'p1' (" + node.op_type + "): " + what).c_str()), Error);
  };
  PoolCase k;
  NodeDef n = pool_node(k, true);
  n.attributes["storage_order"] = Attribute::of(1);
  expect_error(n, "storage_order 1 is not supported (only 0, row-major)");
  n = pool_node(k, true);
  n.outputs = {"y", "indices"};
  expect_error(n, "the Indices output ('indices') is not supported, only Y");
  n = pool_node(k, true);
  n.attributes.erase("kernel_shape");
  expect_error(n, "attribute kernel_shape is required");
  n = pool_node(k, false);
  n.attributes["kernel_shape"] = Attribute::of(std::vector<int64_t>{3, 3, 3});
  expect_error(n, "kernel_shape must have 2 entries (only 2-D windows are supported), got [3,3,3]");
  n = pool_node(k, false);
  n.attributes["ceil_mode"] = Attribute::of(2);
  expect_error(n, "ceil_mode must be 0 or 1, got 2");
  n = pool_node(k, false);
  n.attributes["count_include_pad"] = Attribute::of(-1);
  expect_error(n, "count_include_pad must be 0 or 1, got -1");
  n = pool_node(k, false);
  n.attributes["storage_order"] = Attribute::of(0);
  expect_error(n, "unsupported attribute 'storage_order'");
  n = pool_node(k, false);
  n.attributes["strides"] = Attribute::of(std::vector<int64_t>{1, -2});
  expect_error(n, "strides must be positive, got [1,-2]");
  n = pool_node(k, true);
  n.attributes["pads"] = Attribute::of(std::vector<int64_t>{1, 1});
  expect_error(n, "pads must have 4 entries");

  auto max_pool = load(pool_node(k, true));
  CHECK_THROWS_WITH_AS(max_pool->infer({Shape{1, 3, 7}}),
                       doctest::Contains("node 'p1' (MaxPool): input X must be 4-D"), Error);
  CHECK_THROWS_WITH_AS(max_pool->infer({Shape{1, 3, 7, 2}}),
                       doctest::Contains("node 'p1' (MaxPool): kernel extent 3 (kernel 3, "
                                         "dilation 1) is larger than the padded input 2 along W"),
                       Error);
  k.kh = k.kw = 1;
  k.pads = {1, 0, 0, 0};
  CHECK_THROWS_WITH_AS(load(pool_node(k, true))->infer({Shape{1, 3, 7, 7}}),
                       doctest::Contains("node 'p1' (MaxPool): a pooling window holds only padding"),
                       Error);
  k.count_include_pad = true;  // with count_include_pad an all-padding window averages to 0
  auto avg = load(pool_node(k, false));
  Tape tape;
  const Tensor& y = apply(*avg, tape, tape.input(Tensor(Shape{1, 1, 2, 2}, {1, 2, 3, 4}))).value();
  check_equal(y, Tensor(Shape{1, 1, 3, 2}, {0, 0, 1, 2, 3, 4}));

  NodeDef g;
  g.name = "p1";
  g.inputs = {"x"};
  g.outputs = {"y"};
  for (const char* op : {"GlobalAveragePool", "GlobalMaxPool"}) {
    g.op_type = op;
    auto layer = load(g);
    CHECK_THROWS_WITH_AS(layer->infer({Shape{2, 3}}),
                         doctest::Contains((std::string("node 'p1' (") + op +
                                            "): input X must be [N, C, D1, ...]").c_str()),
                         Error);
    g.attributes["keepdims"] = Attribute::of(1);
    expect_error(g, "unsupported attribute 'keepdims'");
    g.attributes.clear();
  }
}
