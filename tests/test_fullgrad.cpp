// FullGrad: the exact decomposition on piecewise-linear networks (BatchNorm included), the
// per-layer bias terms, and the post-processed map.
#include <cmath>

#include "attribution/gradients.h"
#include "attribution/method.h"
#include "engine/resample.h"
#include "graph_builder.h"
#include "support.h"

using namespace gradlens;
using gradlens::test::GraphBuilder;
using gradlens::test::random_tensor;

namespace {
Attribute ints(std::vector<int64_t> v) { return Attribute::of(v); }

Graph network(bool smooth) {
  GraphBuilder b(41);
  b.input("x", {-1, 3, 12, 12});
  std::string t = b.conv("x", 3, 6, 3, {{"pads", ints({1, 1, 1, 1})}});
  t = b.batch_norm(t, 6);
  t = b.node(smooth ? "Sigmoid" : "Relu", {t});
  t = b.node("MaxPool", {t}, {{"kernel_shape", ints({2, 2})}, {"strides", ints({2, 2})}});
  t = b.conv(t, 6, 6, 3, {{"pads", ints({1, 1, 1, 1})}});
  t = b.node("Relu", {t});
  t = b.node("AveragePool", {t}, {{"kernel_shape", ints({2, 2})}, {"strides", ints({2, 2})}});
  t = b.node("Flatten", {t});
  t = b.linear(t, 6 * 3 * 3, 4);
  b.output(t);
  return b.build();
}

Request request(const Function& f, const Tensor& x) {
  Request r;
  r.function = &f;
  r.input = x;
  r.targets = {0, 2, 3};
  r.batch = 2;
  return r;
}
}  // namespace

TEST_CASE("FullGrad's decomposition sums to f(x) on a piecewise-linear network with BatchNorm") {
  Model model(network(false));
  ModelFunction f(model);
  const Tensor x = random_tensor(Shape{3, 3, 12, 12}, 3);
  Explanation e = method("fullgrad").explain(request(f, x));
  Explanation ixg = method("input-x-gradient").explain(request(f, x));
  CHECK(gradlens::test::rel_l2(e.attribution, ixg.attribution) < 1e-7);
  // conv, bn, conv, linear report biases.
  CHECK(e.notes["bias_layers"] == "4");
  for (size_t n = 0; n < 3; ++n) {
    const double fx = e.scores[n];
    INFO("example " << n << ": f " << fx << " input term " << e.per_example["input_term"][n]
                    << " bias term " << e.per_example["bias_term"][n]);
    CHECK(std::fabs(e.per_example["completeness_gap"][n]) <= 1e-4 * std::max(1.0, std::fabs(fx)));
    CHECK(e.per_example["decomposition_sum"][n] == doctest::Approx(fx).epsilon(1e-4));
    double layers = 0;
    int count = 0;
    for (const auto& [key, values] : e.per_example)
      if (key.rfind("bias_term:", 0) == 0) layers += values[n], ++count;
    CHECK(count == 4);
    CHECK(layers == doctest::Approx(e.per_example["bias_term"][n]).epsilon(1e-9));
    CHECK(std::fabs(e.per_example["bias_term"][n]) > 1e-3);
  }
  // The map: ψ(term) = (|t| − min)/(max − min) over each example's [C,h,w], summed over C, and
  // bilinearly upsampled (align_corners) for the three spatial bias terms; rebuilt here from the
  // raw bias maps.
  const Tensor& map = e.extras.at("map");
  REQUIRE(map.shape() == Shape{3, 1, 12, 12});
  PassOptions o;
  o.bias_maps = true;
  PassResult p = gradient_pass(f, x, {0, 2, 3}, {}, o);
  auto psi_sum = [](const Tensor& t, int64_t n) {  // ψ over example n, summed over channels
    const int64_t C = t.dim(1), hw = t.dim(2) * t.dim(3), off = n * C * hw;
    double lo = INFINITY, hi = -INFINITY;
    for (int64_t i = 0; i < C * hw; ++i) lo = std::min(lo, std::fabs(double(t[off + i])));
    for (int64_t i = 0; i < C * hw; ++i) hi = std::max(hi, std::fabs(double(t[off + i])) - lo);
    Tensor out(Shape{1, 1, t.dim(2), t.dim(3)});
    for (int64_t c = 0; c < C; ++c)
      for (int64_t i = 0; i < hw; ++i) out[i] += float((std::fabs(double(t[off + c * hw + i])) - lo) / (hi + 1e-6));
    return out;
  };
  for (int64_t n = 0; n < 3; ++n) {
    Tensor want = psi_sum(e.attribution, n);
    int spatial = 0;
    for (const BiasCapture& b : p.biases) {
      if (b.map.rank() != 4) continue;
      ++spatial;
      want.vec() += resize(psi_sum(b.map, n), 12, 12, Resample::bilinear_corners).vec();
    }
    CHECK(spatial == 3);
    for (int64_t i = 0; i < 144; ++i) CHECK(map[n * 144 + i] == doctest::Approx(want[i]).epsilon(1e-4));
  }
}

TEST_CASE("on a network that is not piecewise linear the gap measures the non-linearity") {
  Model model(network(true));
  ModelFunction f(model);
  Explanation e = method("fullgrad").explain(request(f, random_tensor(Shape{3, 3, 12, 12}, 4)));
  double largest = 0;
  for (double g : e.per_example["completeness_gap"]) largest = std::max(largest, std::fabs(g));
  CHECK(largest > 1e-3);
}
