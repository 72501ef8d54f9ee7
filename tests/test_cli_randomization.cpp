// `gradlens evaluate --metrics model-randomization` on the real binary: the values are the
// library's with the maps explaining the logits (also for random-logit, whose other-class maps
// were once made on the --score function); the per-layer charts, the cascading picture and the
// first example's maps are written; --shard runs merged with --merge give every file byte for
// byte; bad --layers, --top-k and a run without --methods exit 2 with one line, nothing written.
#include <doctest/doctest.h>

#include <algorithm>
#include <cstdio>
#include <filesystem>

#include "attribution/function.h"
#include "attribution/method.h"
#include "attribution/metrics/metric.h"
#include "attribution/metrics/summary.h"
#include "cli_runner.h"
#include "engine/resample.h"
#include "io/image.h"
#include "io/npy.h"
#include "io/onnx.h"
#include "method_testing.h"

using namespace gradlens;
using namespace gradlens::test;
namespace fs = std::filesystem;

namespace {
const fs::path kSmallCnn = fs::path(GRADLENS_TEST_DATA) / "fixtures" / "small_cnn";


std::string text17(double v) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.17g", v);
  return buf;
}

// The library's value of `name` for the CLI's defaults: maps of the logits, metrics on probabilities.
MetricResult library(const std::string& name, const std::string& method_name, std::map<std::string, std::string> options) {
  const Model model(load_onnx((kSmallCnn / "model.onnx").string()));
  const ModelFunction logits(model, ScoreKind::logit), probs(model, ScoreKind::prob);
  MetricInput in;
  in.function = &probs;
  in.map_function = &logits;
  in.input = read_npy((kSmallCnn / "input.npy").string());
  in.targets = fixture_targets(kSmallCnn);
  in.method = &method(method_name);
  in.seed = 4;  // the CLI runs below use --seed 4
  Request r;
  r.function = &logits;
  r.input = in.input;
  r.targets = in.targets;
  in.attribution = method(method_name).explain(r).attribution;
  if (in.attribution.shape() != in.input.shape())  // a CAM's layer map, upsampled as the CLI does
    in.attribution = resize(in.attribution, 32, 32, Resample::bilinear);
  for (const auto& [k, v] : options) in.options.set(k, v);
  return metric(name).evaluate(in);
}
}  // namespace

TEST_CASE("evaluate model-randomization: library values, charts, cascading picture, exact merge") {
  if (!cli_built()) {
    MESSAGE("SKIPPED: the gradlens CLI binary is not built");
    return;
  }
  ScratchDir s;
  const std::vector<std::string> common = {"evaluate", (kSmallCnn / "model.onnx").string(),
                                           (kSmallCnn / "input.npy").string(), "--methods", "gradient,grad-cam",
                                           "--metrics", "model-randomization,random-logit", "--seed", "4",
                                           "--batch", "1", "--quiet"};
  auto with = [&](std::vector<std::string> extra) {
    std::vector<std::string> args = common;
    args.insert(args.end(), extra.begin(), extra.end());
    return args;
  };
  const CliRun one = run_cli(s, with({"--out", s / "one"}));
  INFO(one.err);
  REQUIRE(one.exit_code == 0);
  CHECK(contains(one.out, "model-randomization.hog"));
  const std::string summary = slurp(s.path() / "one" / "summary.csv");
  for (const char* m : {"gradient", "grad-cam"}) {
    const MetricResult mr = library("model-randomization", m, {});
    CHECK(contains(summary, std::string(m) + ",model-randomization," + text17(summarize(mr.values).mean) + ","));
    CHECK(contains(summary, std::string(m) + ",model-randomization.ssim," +
                           text17(summarize(mr.per_example.at("ssim")).mean) + ","));
    const Tensor maps = read_npy(s.path() / "one" / (std::string("model-randomization_") + m + ".npy"));
    CHECK(maps.shape() == Shape{5, 32, 32});
    CHECK(maps.data()[0] == float(mr.maps.at("cascading")[0]));
  }
  // random-logit on the CLI explains the other class's logit, as the given maps do.
  MetricResult rl = library("random-logit", "gradient", {});
  CHECK(contains(summary, "gradient,random-logit," + text17(summarize(rl.values).mean) + ","));
  CHECK(contains(slurp(s.path() / "one" / "per_example.csv"),
            "gradient,model-randomization,cascading:003:spearman_abs:/features/features.0/Conv,0,"));
  for (const char* png : {"model-randomization_cascading.png", "model-randomization_independent.png",
                          "model-randomization_maps.png"}) {
    INFO(png);
    REQUIRE(fs::exists(s.path() / "one" / png));
    const Tensor image = read_image(s.path() / "one" / png);
    CHECK(image.dim(0) == 3);
    CHECK(image.dim(2) > 400);
  }
  REQUIRE(run_cli(s, with({"--shard", "0/2", "--out", s / "a"})).exit_code == 0);
  REQUIRE(run_cli(s, with({"--shard", "1/2", "--out", s / "b"})).exit_code == 0);
  CHECK(slurp(s.path() / "a" / "model-randomization_gradient.npy") == slurp(s.path() / "one" / "model-randomization_gradient.npy"));
  REQUIRE(run_cli(s, {"evaluate", "--merge", s / "b", s / "a", "--out", s / "merged", "--quiet"}).exit_code == 0);
  for (const fs::path& f : fs::directory_iterator(s.path() / "one")) {
    INFO(f.filename().string());
    CHECK(slurp(f.string()) == slurp(s.path() / "merged" / f.filename().string()));
  }
  CHECK(std::distance(fs::directory_iterator(s.path() / "one"), fs::directory_iterator()) ==
        std::distance(fs::directory_iterator(s.path() / "merged"), fs::directory_iterator()));
}

TEST_CASE("evaluate model-randomization: bad input is one line, exit 2, nothing written") {
  if (!cli_built()) {
    MESSAGE("SKIPPED: the gradlens CLI binary is not built");
    return;
  }
  ScratchDir s;
  const fs::path out = s.path() / "out";
  auto run = [&](std::vector<std::string> extra) {
    std::vector<std::string> args = {"evaluate", (kSmallCnn / "model.onnx").string(), (kSmallCnn / "input.npy").string(),
                                     "--metrics", "model-randomization", "--out", out.string()};
    args.insert(args.end(), extra.begin(), extra.end());
    return run_cli(s, args);
  };
  auto rejected = [&](const CliRun& r, const std::string& names) { check_rejected(r, names, out); };
  rejected(run({"--methods", "gradient", "--layers", "/features/features.0/Conv,conv9"}), "'conv9'");
  rejected(run({"--methods", "gradient", "--top-k", "0"}), "--top-k");
  rejected(run({"--methods", "gradient", "--top-k", "1.5"}), "--top-k");
  rejected(run({"--methods", "gradient", "--randomization", "bottom-up"}), "--randomization");
  write_npy(s / "maps.npy", Tensor(Shape{2, 3, 32, 32}, 1.f));
  rejected(run({"--attributions", s / "maps.npy"}), "model-randomization");
}
