// "Did you mean …?" (engine/suggest.h) and the errors that use it: unknown method, metric, flag and
// CAM layer name the closest known names (issue #18: errors that name the fix).
#include <doctest/doctest.h>

#include <filesystem>

#include "attribution/method.h"
#include "attribution/metrics/metric.h"
#include "cli_runner.h"
#include "engine/error.h"
#include "engine/suggest.h"
#include "support.h"

using namespace gradlens;
using namespace gradlens::test;
namespace fs = std::filesystem;

TEST_CASE("suggest: edit distance on the normal form, containment, order and limits") {
  const std::vector<std::string> methods = {"gradient", "grad-cam", "grad-cam-pp", "guided-grad-cam", "score-cam"};
  // Exact in normal form first, then within two edits or containing "gradcam" whole.
  CHECK(closest_names("gradcam", methods) == std::vector<std::string>{"grad-cam", "grad-cam-pp", "guided-grad-cam"});
  CHECK(closest_names("gradcam", methods, 1) == std::vector<std::string>{"grad-cam"});
  CHECK(closest_names("GradCAM", methods).front() == "grad-cam");
  CHECK(closest_names("gradient", methods).empty());  // itself is not suggested, "gradcam" is 4 edits away
  CHECK(closest_names("scorecam", methods) == std::vector<std::string>{"score-cam"});
  CHECK(closest_names("lime", methods).empty());
  CHECK(closest_names("", methods).empty());
  // One edit per three characters: "n-steps" → "nsteps" is one deletion from "steps".
  CHECK(closest_names("n-steps", {"steps", "samples", "seed"}) == std::vector<std::string>{"steps"});
  CHECK(closest_names("stpes", {"steps"}) == std::vector<std::string>{"steps"});  // a swap is one edit
  CHECK(closest_names("xyzzy", {"steps"}).empty());
  // A PyTorch module name inside an ONNX tensor name.
  const std::vector<std::string> tensors = {"/features/relu1/Relu_output_0", "/features/relu2/Relu_output_0",
                                            "/classifier/Gemm_output_0"};
  CHECK(closest_names("relu2", tensors) == std::vector<std::string>{"/features/relu2/Relu_output_0"});
  CHECK(closest_names("features", tensors).size() == 2);
  CHECK(closest_names("x", {"xy", "xz", "xw", "xv"}, 3).size() == 3);
  CHECK(did_you_mean("gradcam", {"grad-cam", "grad-cam-pp"}) == " (did you mean 'grad-cam' or 'grad-cam-pp'?)");
  CHECK(did_you_mean("n-steps", {"steps"}, "--") == " (did you mean '--steps'?)");
  CHECK(did_you_mean("abc", {"grad-cam", "score-cam", "x-cam"}) == "");
  CHECK(did_you_mean("cam", {"grad-cam", "score-cam", "x-cam", "eigen-cam"}) ==
        " (did you mean 'grad-cam', 'score-cam' or 'x-cam'?)");
}

TEST_CASE("suggest: unknown method and metric name the closest ones, else list them all") {
  CHECK(contains(error_of([] { method("gradcam"); }), "unknown method 'gradcam' (did you mean 'grad-cam'"));
  CHECK(contains(error_of([] { method("integrated_gradients"); }), "did you mean 'integrated-gradients'"));
  const std::string far = error_of([] { method("no-such-method"); });
  CHECK(contains(far, "available: "));
  CHECK(contains(far, "grad-cam"));
  CHECK(contains(error_of([] { metric("deletion-auc"); }), "did you mean"));
  CHECK(contains(error_of([] { metric("pointinggame"); }), "did you mean 'pointing-game'"));
}

TEST_CASE("suggest: the CLI's unknown flag, method and CAM layer, one line, exit 2") {
  if (!have_cli()) return;
  ScratchDir s;
  const fs::path small = fs::path(GRADLENS_TEST_DATA) / "fixtures" / "small_cnn";
  const std::string model = (small / "model.onnx").string(), input = (small / "input.npy").string();
  const fs::path out = s.path() / "map.npy";
  auto explain = [&](std::vector<std::string> extra) {
    std::vector<std::string> args = {"explain", model, input, "--out-npy", out.string()};
    args.insert(args.end(), extra.begin(), extra.end());
    return run_cli(s, args);
  };
  check_rejected(explain({"--method", "integrated-gradients", "--n-steps", "4"}), "did you mean '--steps'", out);
  check_rejected(explain({"--method", "gradcam"}), "did you mean 'grad-cam'", out);
  // A percentage given as the fraction: the error names the flag for σ in input units.
  check_rejected(explain({"--method", "gradient", "--noise", "smoothgrad", "--noise-level", "15"}),
                 "for σ in input units give --noise-std", out);
  REQUIRE(run_cli(s, {"explain", model, input, "--method", "gradient", "--noise", "smoothgrad", "--samples", "2",
                      "--noise-std", "0.05", "--out-npy", out.string()}).exit_code == 0);
  fs::remove(out);
  check_rejected(explain({"--method", "grad-cam", "--layer", "relu"}),
                 "--layer 'relu' is not a tensor of the model (did you mean", out);
  check_rejected(explain({"--method", "grad-cam", "--layer", "features"}), "names a module with", out);
  // A PyTorch module path inside one tensor's name scope is that tensor.
  const fs::path full = s.path() / "full.npy", module = s.path() / "module.npy";
  REQUIRE(run_cli(s, {"explain", model, input, "--method", "grad-cam", "--layer", "/features/features.6/Relu_output_0",
                      "--out-npy", full.string()}).exit_code == 0);
  REQUIRE(run_cli(s, {"explain", model, input, "--method", "grad-cam", "--layer", "features.6", "--out-npy",
                      module.string()}).exit_code == 0);
  CHECK(slurp(full) == slurp(module));
}
