// The library's Request as the CLI's --target: one target spread over every example, none meaning
// each example's predicted class (predicted_classes), and an input of the wrong shape refused
// naming the model's input shape and the given one before any layer runs.
#include <string>

#include "attribution/method.h"
#include "engine/ops.h"
#include "io/npy.h"
#include "io/onnx.h"
#include "support.h"

using namespace gradlens;
using gradlens::test::bitwise_equal;
using gradlens::test::contains;
using gradlens::test::error_of;

namespace {
const std::string kFixtures = std::string(GRADLENS_TEST_DATA) + "/fixtures/";

Explanation run(const std::string& name, const Function& f, const Tensor& x, std::vector<int64_t> targets,
                std::vector<int64_t> contrast = {}) {
  Request r;
  r.function = &f;
  r.input = x;
  r.targets = std::move(targets);
  r.contrast = std::move(contrast);
  if (name == "grad-cam") r.options.set("upsample", "bilinear");
  return method(name).explain(r);
}
}  // namespace

TEST_CASE("library: one target is every example's; no target is each example's predicted class") {
  Model model(load_onnx(kFixtures + "gap_cnn/model.onnx"));
  ModelFunction f(model);
  const Tensor x = read_npy(kFixtures + "gap_cnn/input.npy");  // [2, 3, 28, 28]
  REQUIRE(x.dim(0) == 2);
  for (const std::string name : {"grad-cam", "gradient"}) {
    INFO(name);
    // The README's example: one class for a batch of two.
    const Explanation one = run(name, f, x, {1});
    CHECK(bitwise_equal(one.attribution, run(name, f, x, {1, 1}).attribution));
    // None: the predicted classes, which are the argmax of PyTorch's own outputs for this input.
    const Tensor pytorch = read_npy(kFixtures + "gap_cnn/output.npy");
    const std::vector<int64_t> predicted = predicted_classes(f, x);
    CHECK(predicted == predicted_classes(pytorch));
    const Explanation none = run(name, f, x, {});
    CHECK(bitwise_equal(none.attribution, run(name, f, x, predicted).attribution));
    CHECK(none.scores.size() == 2);
    // A contrast class spreads the same way.
    if (name == "gradient")
      CHECK(bitwise_equal(run(name, f, x, {1}, {0}).attribution, run(name, f, x, {1, 1}, {0, 0}).attribution));
    // Neither one, nor one per example, nor none: refused naming the counts.
    const std::string wrong = error_of([&] { run(name, f, x, {1, 0, 2}); });
    CHECK(contains(wrong, name + ": 3 targets for 2 examples (give one per example, one for all, or none"));
    CHECK(contains(error_of([&] { run(name, f, x, {1, 0}, {0, 1, 2}); }), "3 contrast classes for 2 examples"));
  }
  // An analytic function: the predicted class is its largest score too.
  const LambdaFunction pair([](Tape&, Var v) { return v * 2.f; });  // scores = 2x, [N, 3]
  const Tensor v(Shape{2, 3}, {0.1f, 0.9f, -1.f, 3.f, 0.f, 2.f});
  CHECK(predicted_classes(pair, v) == std::vector<int64_t>{1, 0});
  const Explanation g = run("gradient", pair, v, {});
  CHECK(g.attribution[1] == 2.f);  // ∂(2 x₁)/∂x₁ for example 0
  CHECK(g.attribution[3] == 2.f);  // ∂(2 x₀)/∂x₀ for example 1
  // Equal scores: the first.
  CHECK(predicted_classes(Tensor(Shape{1, 3}, {5.f, 5.f, 1.f})) == std::vector<int64_t>{0});
}

TEST_CASE("library: an input of the wrong shape names the model's input shape and the given one") {
  Model cnn(load_onnx(kFixtures + "small_cnn/model.onnx"));  // declared [2, 3, 32, 32]
  ModelFunction f(cnn);
  const std::string cnn_error = error_of([&] { run("gradient", f, Tensor(Shape{2, 3, 28, 28}, 0.5f), {0}); });
  CHECK(contains(cnn_error, "gradient: the input: shape [2,3,28,28] does not fit input '"));
  CHECK(contains(cnn_error, "which expects [2,3,32,32] (the first axis, the batch, may differ)"));
  CHECK(contains(error_of([&] { run("grad-cam", f, Tensor(Shape{3, 32, 32}, 0.5f), {0}); }),
                 "grad-cam: the input: shape [3,32,32] does not fit"));  // the batch axis forgotten
  Model mlp(load_onnx(kFixtures + "mlp/model.onnx"));  // declared [2, 20]: Linear(20, ...) first
  ModelFunction g(mlp);
  const std::string mlp_error = error_of([&] { run("integrated-gradients", g, Tensor(Shape{2, 21}, 0.1f), {}); });
  CHECK(contains(mlp_error, "shape [2,21] does not fit"));
  CHECK(contains(mlp_error, "expects [2,20] (the first axis, the batch, may differ)"));
  CHECK(!contains(mlp_error, "Gemm"));
  // The right shape with any batch runs.
  CHECK(run("gradient", g, Tensor(Shape{5, 20}, 0.1f), {}).attribution.shape() == Shape{5, 20});
}
