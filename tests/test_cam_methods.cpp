// The CAM family on networks built from the layers: closed forms on a GAP→linear head (where
// Grad-CAM, XGrad-CAM and HiResCAM reduce to CAM/(h·w), Grad-CAM++ and Ablation-CAM have closed
// forms), relations between methods, layer selection, upsampling.
#include <cmath>

#include "attribution/cam.h"
#include "attribution/gradients.h"
#include "attribution/method.h"
#include "engine/error.h"
#include "engine/resample.h"
#include "graph_builder.h"
#include "support.h"

using namespace gradlens;
using gradlens::test::GraphBuilder;
using gradlens::test::random_tensor;
using gradlens::test::rel_l2;

namespace {
Attribute ints(std::vector<int64_t> v) { return Attribute::of(v); }

// conv-relu-conv-relu → GAP → flatten → linear(5): a CAM-compatible network. 6 channels at 7×7.
Graph gap_network() {
  GraphBuilder b(31);
  b.input("x", {-1, 3, 14, 14});
  std::string t = b.conv("x", 3, 8, 3, {{"pads", ints({1, 1, 1, 1})}});
  t = b.node("Relu", {t}, {}, "relu1");
  t = b.conv(t, 8, 6, 3, {{"pads", ints({1, 1, 1, 1})}, {"strides", ints({2, 2})}});
  t = b.node("Relu", {t}, {}, "features");
  t = b.node("GlobalAveragePool", {t}, {}, "pooled");
  t = b.node("Flatten", {t}, {}, "flat");
  t = b.linear(t, 6, 5);
  b.output(t);
  return b.build();
}

struct Fixture {
  Model model{gap_network()};
  ModelFunction f{model};
  Tensor x = random_tensor(Shape{3, 3, 14, 14}, 5);
  std::vector<int64_t> targets = {0, 3, 4};

  Request request(std::map<std::string, std::string> options = {}) const {
    Request r;
    r.function = &f;
    r.input = x;
    r.targets = targets;
    r.batch = 2;
    for (const auto& [k, v] : options) r.options.set(k, v);
    return r;
  }
  Tensor head() const { return cam_head_weights(model, "features"); }  // [5, 6]
  PassResult features() const {
    PassOptions o;
    o.layers = {"features"};
    o.input_gradient = false;
    return gradient_pass(f, x, targets, {}, o);
  }
};

Tensor scaled(Tensor t, float s) {
  t.vec() *= s;
  return t;
}
}  // namespace

TEST_CASE("the default CAM layer is the last 4-D activation before the head") {
  Fixture fx;
  CHECK(default_cam_layer(fx.model, fx.x.shape()) == "features");
  auto candidates = cam_candidates(fx.model, fx.x.shape());
  REQUIRE(candidates.size() >= 2);
  CHECK(candidates.back().first == "features");
  CHECK(candidates.back().second == Shape{3, 6, 7, 7});
  Explanation e = method("grad-cam").explain(fx.request());
  CHECK(e.notes["layer"] == "features");
  CHECK(e.attribution.shape() == Shape{3, 1, 7, 7});
}

TEST_CASE("on a GAP→linear head Grad-CAM, XGrad-CAM and HiResCAM equal CAM / (h·w)") {
  Fixture fx;
  for (const char* relu : {"true", "false"}) {
    INFO("relu " << relu);
    Explanation cam = method("cam").explain(fx.request({{"relu", relu}}));
    CHECK(cam.backward_passes == 0);
    for (const char* m : {"grad-cam", "xgrad-cam", "hires-cam"}) {
      INFO(m);
      Explanation e = method(m).explain(fx.request({{"relu", relu}}));
      CHECK(rel_l2(scaled(e.attribution, 49.f), cam.attribution) < 1e-5);
    }
  }
  // The signed map has negative values here, so the ReLU really acts.
  Explanation signed_map = method("cam").explain(fx.request({{"relu", "false"}}));
  float lowest = 0;
  for (int64_t i = 0; i < signed_map.attribution.numel(); ++i) lowest = std::min(lowest, signed_map.attribution[i]);
  CHECK(lowest < 0);
}

TEST_CASE("CAM is Σ_k W[c,k]·A_k with the head's weights") {
  Fixture fx;
  PassResult p = fx.features();
  const Tensor W = fx.head();
  Explanation cam = method("cam").explain(fx.request({{"relu", "false"}}));
  const Tensor& A = p.layers[0].activation;
  for (int64_t n = 0; n < 3; ++n)
    for (int64_t i = 0; i < 49; ++i) {
      double want = 0;
      for (int64_t k = 0; k < 6; ++k) want += W[fx.targets[size_t(n)] * 6 + k] * A[(n * 6 + k) * 49 + i];
      CHECK(cam.attribution[n * 49 + i] == doctest::Approx(want).epsilon(1e-5));
    }
}

TEST_CASE("Grad-CAM++ on a GAP→linear head: α = 1/(2 + S·g), w = h·w·g·relu(g)/(2g + S·g²)·…") {
  // With G_kij = g_k = W[c,k]/49 for every position and S_k = Σ_ab A_kab:
  // α = g²/(2g² + S g³), so w_k = 49 · α · relu(g_k).
  Fixture fx;
  PassResult p = fx.features();
  const Tensor W = fx.head();
  const Tensor& A = p.layers[0].activation;
  Explanation e = method("grad-cam-pp").explain(fx.request({{"relu", "false"}}));
  for (int64_t n = 0; n < 3; ++n)
    for (int64_t i = 0; i < 49; ++i) {
      double want = 0;
      for (int64_t k = 0; k < 6; ++k) {
        const double g = W[fx.targets[size_t(n)] * 6 + k] / 49.0;
        double S = 0;
        for (int64_t j = 0; j < 49; ++j) S += A[(n * 6 + k) * 49 + j];
        const double alpha = g == 0 ? 0 : g * g / (2 * g * g + S * g * g * g);
        want += 49.0 * alpha * std::max(g, 0.0) * A[(n * 6 + k) * 49 + i];
      }
      CHECK(e.attribution[n * 49 + i] == doctest::Approx(want).epsilon(1e-4));
    }
}

TEST_CASE("LayerCAM equals HiResCAM where every gradient is positive, and differs otherwise") {
  Fixture fx;
  Explanation layer = method("layer-cam").explain(fx.request({{"relu", "false"}}));
  Explanation hires = method("hires-cam").explain(fx.request({{"relu", "false"}}));
  const Tensor W = fx.head();
  bool all_positive = true;
  for (int64_t k = 0; k < 6; ++k) all_positive &= W[fx.targets[0] * 6 + k] > 0;
  CHECK_FALSE(all_positive);  // the network mixes signs, so the two must differ
  CHECK(rel_l2(layer.attribution, hires.attribution) > 1e-3);
  // LayerCAM keeps exactly the channels with positive weight.
  PassResult p = fx.features();
  const Tensor& A = p.layers[0].activation;
  for (int64_t i = 0; i < 49; ++i) {
    double want = 0;
    for (int64_t k = 0; k < 6; ++k) want += std::max(W[fx.targets[0] * 6 + k] / 49.0, 0.0) * A[k * 49 + i];
    CHECK(layer.attribution[i] == doctest::Approx(want).epsilon(1e-4));
  }
}

TEST_CASE("Ablation-CAM: zeroing channel k drops the score by W[c,k]·mean(A_k)") {
  Fixture fx;
  PassResult p = fx.features();
  const Tensor W = fx.head();
  const Tensor& A = p.layers[0].activation;
  Explanation e = method("ablation-cam").explain(fx.request({{"relu", "false"}}));
  CHECK(e.forward_passes == 3 * (1 + 6));
  for (int64_t n = 0; n < 3; ++n) {
    const double y = p.scores[size_t(n)];
    for (int64_t i = 0; i < 49; ++i) {
      double want = 0;
      for (int64_t k = 0; k < 6; ++k) {
        double mean = 0;
        for (int64_t j = 0; j < 49; ++j) mean += A[(n * 6 + k) * 49 + j] / 49.0;
        want += (W[fx.targets[size_t(n)] * 6 + k] * mean / y) * A[(n * 6 + k) * 49 + i];
      }
      CHECK(e.attribution[n * 49 + i] == doctest::Approx(want).epsilon(1e-3));
    }
  }
}

TEST_CASE("Score-CAM weights are the softmax of the target score of the masked inputs") {
  Fixture fx;
  PassResult p = fx.features();
  const Tensor& A = p.layers[0].activation;
  Explanation e = method("score-cam").explain(fx.request({{"relu", "false"}}));
  // Rebuild the masked inputs of example 1 independently and score them.
  const int64_t n = 1, c = fx.targets[1];
  Tensor up = resize(rows(A, n, n + 1).reshaped(Shape{6, 1, 7, 7}), 14, 14, Resample::bilinear);
  Tensor masked(Shape{6, 3, 14, 14});
  for (int64_t k = 0; k < 6; ++k) {
    float lo = INFINITY, hi = -INFINITY;
    for (int64_t i = 0; i < 196; ++i) lo = std::min(lo, up[k * 196 + i]), hi = std::max(hi, up[k * 196 + i]);
    for (int64_t ch = 0; ch < 3; ++ch)
      for (int64_t i = 0; i < 196; ++i)
        masked[(k * 3 + ch) * 196 + i] = fx.x[(n * 3 + ch) * 196 + i] * (hi > lo ? (up[k * 196 + i] - lo) / (hi - lo) : 0.f);
  }
  Tensor s = evaluate_scores(fx.f, masked, 6);
  double z = 0;
  for (int64_t k = 0; k < 6; ++k) z += std::exp(double(s[k * 5 + c]));
  for (int64_t i = 0; i < 49; ++i) {
    double want = 0;
    for (int64_t k = 0; k < 6; ++k) want += std::exp(double(s[k * 5 + c])) / z * A[(n * 6 + k) * 49 + i];
    CHECK(e.attribution[n * 49 + i] == doctest::Approx(want).epsilon(1e-4));
  }
}

TEST_CASE("Eigen-CAM is the first principal component of the maps, signed like their sum") {
  // The projection of the centred maps sums to zero over the positions, and its sign is chosen
  // to correlate positively with the channel sum Σ_k A_k.
  Fixture fx;
  Explanation e = method("eigen-cam").explain(fx.request({{"relu", "false"}}));
  CHECK(e.attribution.shape() == Shape{3, 1, 7, 7});
  CHECK(e.backward_passes == 0);
  PassResult p = fx.features();
  const Tensor& A = p.layers[0].activation;
  for (int64_t n = 0; n < 3; ++n) {
    double corr = 0;
    for (int64_t i = 0; i < 49; ++i) {
      double sum = 0;
      for (int64_t k = 0; k < 6; ++k) sum += A[(n * 6 + k) * 49 + i];
      corr += sum * e.attribution[n * 49 + i];
    }
    CHECK(corr > 0);
    double centred = 0;  // the projection of centred data sums to zero
    for (int64_t i = 0; i < 49; ++i) centred += e.attribution[n * 49 + i];
    CHECK(std::fabs(centred) < 1e-3);
  }
}

TEST_CASE("Smooth Grad-CAM++ without noise is Grad-CAM++; Guided Grad-CAM is guided ⊙ upsampled Grad-CAM") {
  Fixture fx;
  Explanation pp = method("grad-cam-pp").explain(fx.request());
  Explanation smooth = method("smooth-grad-cam-pp").explain(fx.request({{"samples", "3"}, {"noise-level", "0"}}));
  CHECK(rel_l2(smooth.attribution, pp.attribution) < 1e-6);

  Explanation guided = method("guided-backprop").explain(fx.request());
  Explanation cam = method("grad-cam").explain(fx.request({{"upsample", "bilinear"}}));
  Explanation ggc = method("guided-grad-cam").explain(fx.request());
  REQUIRE(ggc.attribution.shape() == fx.x.shape());
  for (int64_t n = 0; n < 3; ++n)
    for (int64_t ch = 0; ch < 3; ++ch)
      for (int64_t i = 0; i < 196; ++i) {
        const int64_t j = (n * 3 + ch) * 196 + i;
        CHECK(ggc.attribution[j] == doctest::Approx(guided.attribution[j] * cam.attribution[n * 196 + i]).epsilon(1e-6));
      }
}

TEST_CASE("upsampling: bilinear with half-pixel centres and nearest, to the input size") {
  Tensor m(Shape{1, 1, 2, 2}, {0, 1, 2, 3});
  Tensor up = resize(m, 4, 4, Resample::bilinear);
  // Row 0 samples source row 0 (clamped) at x = −¼→0, ¼, ¾, 1¼→1 (clamped): 0, .25, .75, 1.
  const float row0[4] = {0.f, 0.25f, 0.75f, 1.f};
  const float row1[4] = {0.5f, 0.75f, 1.25f, 1.5f};  // source row ¼
  for (int i = 0; i < 4; ++i) {
    CHECK(up[i] == doctest::Approx(row0[i]));
    CHECK(up[4 + i] == doctest::Approx(row1[i]));
  }
  Tensor near = resize(m, 4, 4, Resample::nearest);
  const float nearest[16] = {0, 0, 1, 1, 0, 0, 1, 1, 2, 2, 3, 3, 2, 2, 3, 3};
  for (int i = 0; i < 16; ++i) CHECK(near[i] == nearest[i]);
  Fixture fx;
  Explanation e = method("grad-cam").explain(fx.request({{"upsample", "nearest"}}));
  CHECK(e.attribution.shape() == Shape{3, 1, 14, 14});
}

TEST_CASE("CAM errors name the layer") {
  Fixture fx;
  CHECK_THROWS_WITH_AS(method("grad-cam").explain(fx.request({{"layer", "nope"}})),
                       doctest::Contains("--layer 'nope' is not a tensor of the model"), Error);
  CHECK_THROWS_WITH_AS(method("grad-cam").explain(fx.request({{"layer", "flat"}})),
                       doctest::Contains("CAM methods need a 4-D activation"), Error);
  CHECK_THROWS_WITH_AS(method("cam").explain(fx.request({{"layer", "relu1"}})),
                       doctest::Contains("is not followed by global average pooling"), Error);
}

namespace {
// Counts the gradients the tape completes while the wrapped function's forwards are observed.
struct BackwardCounter : Observer {
  int64_t gradients = 0;
  void on_backward(const NodeInfo&, const Tensor&, const Tensor&) override { ++gradients; }
};
class CountingFunction : public Function {
 public:
  CountingFunction(const Function& inner, BackwardCounter& counter) : inner_(inner), counter_(counter) {}
  std::vector<Var> scores_and(Tape& tape, Var x, const std::vector<std::string>& names) const override {
    tape.observe(&counter_);
    return inner_.scores_and(tape, x, names);
  }
  const Model* model() const override { return inner_.model(); }

 private:
  const Function& inner_;
  BackwardCounter& counter_;
};
}  // namespace

TEST_CASE("the gradient-free CAMs run no backward, and say so; the gradient CAMs run one per example") {
  Fixture fx;
  for (const char* name : {"cam", "eigen-cam", "score-cam", "ablation-cam", "grad-cam", "eigen-grad-cam"}) {
    CAPTURE(name);
    BackwardCounter counter;
    const CountingFunction counted(fx.f, counter);
    Request r = fx.request({{"layer", "features"}});
    r.function = &counted;
    const Explanation e = method(name).explain(r);
    const bool gradient_free = std::string(name) == "cam" || std::string(name) == "eigen-cam" ||
                               std::string(name) == "score-cam" || std::string(name) == "ablation-cam";
    CHECK(e.backward_passes == (gradient_free ? 0 : 3));
    if (gradient_free)
      CHECK(counter.gradients == 0);
    else
      CHECK(counter.gradients > 0);
  }
}
