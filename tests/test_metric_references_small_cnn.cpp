// Every metric against tools/make_metric_references.py (numpy/PyTorch float64, written from the
// papers' formulas) on the small_cnn fixture: its gradient map, softmax probabilities, the
// committed masks. Agreement within 1e-5·max(1, |reference|) (float32 model against float64);
// the ×100 metrics (average drop, increase in confidence, ADD) as fractions: ADD divides a
// float32 probability difference by f_c(x) ≈ 0.24, which puts its float32 floor at 5e-6.
#include <doctest/doctest.h>

#include <cmath>
#include <filesystem>

#include "attribution/function.h"
#include "attribution/metrics/metric.h"
#include "attribution/metrics/ssim.h"
#include "io/npy.h"
#include "io/onnx.h"
#include "method_testing.h"

using namespace gradlens;
using namespace gradlens::test;

namespace {
struct Case {
  const char* metric;
  std::map<std::string, std::string> options;
  const char* reference;
  double scale = 1;  // the percent metrics are compared as fractions (value / 100)
};

void check_against(const MetricInput& in, const Case& c) {
  const Tensor want = read_npy((fixture("small_cnn") / (std::string("metric_") + c.reference + ".npy")).string());
  MetricInput run = in;
  for (const auto& [k, v] : c.options) run.options.set(k, v);
  const MetricResult got = metric(c.metric).evaluate(run);
  REQUIRE(got.values.size() == size_t(want.numel()));
  double worst = 0;
  for (size_t n = 0; n < got.values.size(); ++n) {
    const double ref = double(want[int64_t(n)]) / c.scale;
    const double err = std::fabs(got.values[n] / c.scale - ref) / std::max(1.0, std::fabs(ref));
    worst = std::max(worst, err);
  }
  INFO(std::string(c.metric) << " (" << std::string(c.reference) << "): worst relative error " << worst);
  CHECK(worst <= 1e-5);
}
}  // namespace

TEST_CASE("metrics match the independent numpy/PyTorch references on small_cnn") {
  const auto dir = fixture("small_cnn");
  const Model model(load_onnx((dir / "model.onnx").string()));
  const ModelFunction f(model, ScoreKind::prob);
  MetricInput in;
  in.function = &f;
  in.input = read_npy((dir / "input.npy").string());
  in.attribution = read_npy((dir / "ref_gradient.npy").string());
  in.targets = fixture_targets(dir);
  in.masks = read_npy((dir / "metric_mask.npy").string());
  in.batch = 5;
  const std::vector<Case> cases = {
      {"pointing-game", {{"tolerance", "3"}}, "pointing-game"},
      {"energy-pointing-game", {}, "energy-pointing-game"},
      {"relevance-mass-accuracy", {}, "relevance-mass-accuracy"},
      {"relevance-rank-accuracy", {}, "relevance-rank-accuracy"},
      {"wsl-iou", {}, "wsl-iou"},
      {"sparseness", {}, "sparseness"},
      {"complexity", {}, "complexity"},
      {"deletion", {{"steps", "16"}, {"removal", "zero"}}, "deletion"},
      {"insertion", {{"steps", "16"}, {"removal", "blur"}}, "insertion"},
      {"abpc", {{"steps", "16"}, {"removal", "zero"}}, "abpc"},
      {"aopc", {{"patch", "8"}, {"regions", "10"}, {"removal", "mean"}}, "aopc"},
      {"road", {{"fractions", "4"}, {"noise", "0"}}, "road"},
      {"average-drop", {}, "average-drop", 100},
      {"increase-in-confidence", {}, "increase-in-confidence", 100},
      {"average-drop-in-deletion", {}, "average-drop-in-deletion", 100},
  };
  for (const Case& c : cases) check_against(in, c);
  MetricInput smooth = in;
  smooth.attribution = read_npy((dir / "metric_smooth_map.npy").string());
  check_against(smooth, {"wsl-iou", {}, "wsl-iou_smooth"});
}

TEST_CASE("ssim matches the numpy reference (Wang et al. 2004 with scikit-image's defaults)") {
  const auto dir = fixture("small_cnn");
  const Tensor a = read_npy((dir / "ref_gradient.npy").string());
  const Tensor smooth = read_npy((dir / "metric_smooth_map.npy").string());
  const Tensor want = read_npy((dir / "metric_ssim.npy").string());
  auto map = [](const Tensor& t, int64_t n) {
    std::vector<double> m(32 * 32, 0.0);
    for (int64_t c = 0; c < 3; ++c)
      for (int64_t i = 0; i < 32 * 32; ++i) m[size_t(i)] += t[(n * 3 + c) * 32 * 32 + i];
    return m;
  };
  CHECK(ssim(map(a, 0), map(a, 1), 32, 32) == doctest::Approx(want[0]).epsilon(1e-5));
  CHECK(ssim(map(a, 0), map(smooth, 0), 32, 32) == doctest::Approx(want[1]).epsilon(1e-5));
  CHECK(ssim(map(a, 0), map(a, 0), 32, 32) == doctest::Approx(1.0));
}
