// The C++ metric example of tools/docs/evaluation.md, compiled and run as written (on the small_cnn fixture).
#include <doctest/doctest.h>

#include <cmath>

#include <gradlens/attribution/metrics/metric.h>
#include <gradlens/io/npy.h>
#include <gradlens/io/onnx.h>

using namespace gradlens;

TEST_CASE("README: a metric from C++") {
  const std::string dir = std::string(GRADLENS_TEST_DATA) + "/fixtures/small_cnn/";
  Model model(load_onnx(dir + "model.onnx"));
  ModelFunction f(model, ScoreKind::prob);  // deletion reads the softmax probability
  MetricInput in;
  in.function = &f;
  in.input = read_npy(dir + "input.npy");           // [N, C, H, W]
  in.attribution = read_npy(dir + "ref_gradient.npy");  // input-shaped or [N, 1, H, W]
  in.targets = {3, 1};                              // one class per example
  in.options.set("steps", "50");
  MetricResult r = metric("deletion").evaluate(in);
  double auc_first = r.values[0];  // r.curves[0]: its curve at r.curve_x
  CHECK(std::isfinite(auc_first));
  CHECK(r.curves[0].size() == 51);
  CHECK(r.curve_x.back() == 1.0);
}
