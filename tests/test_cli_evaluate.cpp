// `gradlens evaluate` on the real binary: --list names every registered metric; maps given as
// .npy score exactly as the library scores them; --shard K/N runs merged with --merge give the
// single run's files byte for byte; bad input (mask or box of the wrong size or count, an empty
// mask, a box outside the image, a region metric without a region, a map of the wrong shape, an
// unknown metric) exits 2 with one stderr line naming the file, flag or metric, writing nothing.
#include <doctest/doctest.h>
#include <sys/wait.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "attribution/metrics/metric.h"
#include "cli_runner.h"
#include "io/image.h"
#include "io/npy.h"
#include "scratch_dir.h"
#include "support.h"

using namespace gradlens;
using namespace gradlens::test;
namespace fs = std::filesystem;

namespace {
const fs::path kSmall = fs::path(GRADLENS_TEST_DATA) / "fixtures" / "small_cnn";

using Run = CliRun;

Run evaluate(const ScratchDir& scratch, std::vector<std::string> args) {
  args.insert(args.begin(), "evaluate");
  return run_cli(scratch, args);
}


// small_cnn's inputs are [2, 3, 32, 32]: a mask and a box per example.
void write_regions(const ScratchDir& s) {
  Tensor m(Shape{2, 32, 32});
  for (int n = 0; n < 2; ++n)
    for (int y = 4; y < 20; ++y)
      for (int x = 8 + 4 * n; x < 24; ++x) m[(n * 32 + y) * 32 + x] = 1;
  write_npy(s / "masks.npy", m);
  write_file(s / "boxes.txt", "8 4 24 20\n12 4 24 20\n");
}
}  // namespace

TEST_CASE("evaluate --list shows every registered metric") {
  if (!have_cli()) return;
  ScratchDir s;
  const Run r = evaluate(s, {"--list"});
  CHECK(r.exit_code == 0);
  for (const Metric* m : metrics()) {
    CHECK(contains(r.out, m->info().name));
    CHECK(contains(r.out, m->info().paper));
  }
}

TEST_CASE("evaluate --attributions: the files score as the library scores them") {
  if (!have_cli()) return;
  ScratchDir s;
  write_regions(s);
  const Tensor a = random_tensor(Shape{2, 3, 32, 32}, 7);
  write_npy(s / "mine.npy", a);
  const Run r = evaluate(s, {(kSmall / "model.onnx").string(), (kSmall / "input.npy").string(), "--attributions",
                             s / "mine.npy", "--metrics", "energy-pointing-game,sparseness", "--masks",
                             s / "masks.npy", "--out", s / "out"});
  REQUIRE(r.exit_code == 0);
  CHECK(contains(r.out, "mine"));
  MetricInput in;
  in.input = read_npy((kSmall / "input.npy").string());
  in.attribution = a;
  in.targets = {0, 0};
  in.masks = read_npy(s / "masks.npy");
  const std::string csv = slurp(s.path() / "out" / "per_example.csv");
  for (const char* name : {"energy-pointing-game", "sparseness"}) {
    const MetricResult want = metric(name).evaluate(in);
    for (int n = 0; n < 2; ++n) {
      char line[64];
      std::snprintf(line, sizeof line, "%.17g\n", want.values[size_t(n)]);
      CHECK(contains(csv, std::string("mine,") + name + ",value," + std::to_string(n) + ","));
      CHECK(contains(csv, line));
    }
  }
}

TEST_CASE("evaluate writes one curve chart per curve metric, nothing for the others") {
  if (!have_cli()) return;
  ScratchDir s;
  const Run r = evaluate(s, {(kSmall / "model.onnx").string(), (kSmall / "input.npy").string(), "--methods",
                             "gradient,saliency", "--metrics", "deletion,insertion,sparseness", "--steps", "4",
                             "--out", s / "out"});
  REQUIRE(r.exit_code == 0);
  for (const char* name : {"deletion_curves.png", "insertion_curves.png"}) {
    const Tensor png = read_image((s.path() / "out" / name).string());
    CHECK(png.shape() == Shape{3, 400, 640});
  }
  CHECK(!fs::exists(s.path() / "out" / "sparseness_curves.png"));
}

TEST_CASE("evaluate --method-options reach the methods that declare them") {
  if (!have_cli()) return;
  ScratchDir s;
  const std::string model = (kSmall / "model.onnx").string(), input = (kSmall / "input.npy").string();
  auto sparseness_of = [&](const std::string& options) {
    std::vector<std::string> args = {model, input, "--methods", "integrated-gradients,gradient", "--metrics",
                                     "sparseness", "--json"};
    if (!options.empty()) args.insert(args.end(), {"--method-options", options});
    const Run r = evaluate(s, args);
    REQUIRE(r.exit_code == 0);
    return r.out;
  };
  const std::string two = sparseness_of("steps=2"), four = sparseness_of("steps=4"), plain = sparseness_of("");
  CHECK(contains(two, "\"method-options\":\"steps=2\""));
  CHECK(two.substr(two.find("\"results\"")) != four.substr(four.find("\"results\"")));
  // gradient has no steps: its values are the same with or without the option.
  auto gradient_values = [](const std::string& json) {
    const size_t at = json.find("{\"method\":\"gradient\"");
    return json.substr(at, json.find("]", json.find("\"values\"", at)) - at);
  };
  CHECK(gradient_values(two) == gradient_values(plain));
}

TEST_CASE("evaluate --shard K/N merged with --merge equals one run") {
  if (!have_cli()) return;
  ScratchDir s;
  write_regions(s);
  const std::vector<std::string> common = {(kSmall / "model.onnx").string(), (kSmall / "input.npy").string(),
                                           "--methods", "gradient,grad-cam", "--metrics",
                                           "pointing-game,wsl-iou,complexity", "--boxes", s / "boxes.txt",
                                           "--batch", "1", "--tolerance", "3"};
  auto with = [&](std::vector<std::string> extra) {
    std::vector<std::string> args = common;
    args.insert(args.end(), extra.begin(), extra.end());
    return args;
  };
  REQUIRE(evaluate(s, with({"--out", s / "one"})).exit_code == 0);
  REQUIRE(evaluate(s, with({"--shard", "0/2", "--out", s / "a"})).exit_code == 0);
  REQUIRE(evaluate(s, with({"--shard", "1/2", "--out", s / "b"})).exit_code == 0);
  REQUIRE(evaluate(s, {"--merge", s / "b", s / "a", "--out", s / "merged"}).exit_code == 0);
  for (const char* file : {"results.json", "summary.csv", "per_example.csv"})
    CHECK(slurp(s.path() / "one" / file) == slurp(s.path() / "merged" / file));
  CHECK(slurp(s.path() / "a" / "summary.csv") != slurp(s.path() / "one" / "summary.csv"));
}

TEST_CASE("evaluate: bad input is one line naming the file, flag or metric; nothing written") {
  if (!have_cli()) return;
  ScratchDir s;
  write_regions(s);
  const std::string model = (kSmall / "model.onnx").string(), input = (kSmall / "input.npy").string();
  const fs::path out = s.path() / "out";
  auto run = [&](std::vector<std::string> extra) {
    std::vector<std::string> args = {model, input};
    args.insert(args.end(), extra.begin(), extra.end());
    args.push_back("--out");
    args.push_back(out.string());
    return evaluate(s, args);
  };
  write_npy(s / "small_mask.npy", Tensor(Shape{2, 16, 32}, 1.f));
  check_rejected(run({"--methods", "gradient", "--metrics", "pointing-game", "--masks", s / "small_mask.npy"}),
                 "small_mask.npy", out);
  write_npy(s / "three_masks.npy", Tensor(Shape{3, 32, 32}, 1.f));
  check_rejected(run({"--methods", "gradient", "--metrics", "pointing-game", "--masks", s / "three_masks.npy"}),
                 "three_masks.npy", out);
  Tensor empty(Shape{2, 32, 32}, 1.f);
  for (int i = 0; i < 32 * 32; ++i) empty[32 * 32 + i] = 0;
  write_npy(s / "empty_mask.npy", empty);
  const Run r = run({"--methods", "gradient", "--metrics", "pointing-game", "--masks", s / "empty_mask.npy"});
  check_rejected(r, "empty_mask.npy", out);
  CHECK(contains(r.err, "example 1 is empty"));
  write_file(s / "outside.txt", "8 4 24 20\n12 4 33 20\n");
  check_rejected(run({"--methods", "gradient", "--metrics", "wsl-iou", "--boxes", s / "outside.txt"}),
                 "outside.txt:2", out);
  write_file(s / "one_box.txt", "8 4 24 20\n");
  check_rejected(run({"--methods", "gradient", "--metrics", "wsl-iou", "--boxes", s / "one_box.txt"}),
                 "one_box.txt", out);
  check_rejected(run({"--methods", "gradient", "--metrics", "energy-pointing-game"}), "energy-pointing-game", out);
  write_npy(s / "wrong.npy", Tensor(Shape{2, 3, 32, 31}));
  check_rejected(run({"--attributions", s / "wrong.npy", "--metrics", "sparseness"}), "wrong.npy", out);
  check_rejected(run({"--methods", "gradient", "--metrics", "sparseness,made-up"}), "made-up", out);
  write_npy(s / "fine.npy", Tensor(Shape{2, 3, 32, 32}, 1.f));
  check_rejected(run({"--attributions", s / "fine.npy", "--metrics", "sensitivity-max"}), "sensitivity-max", out);
  check_rejected(run({"--methods", "gradient", "--metrics", "sparseness", "--tolerance", "4"}), "--tolerance", out);
  check_rejected(run({"--methods", "gradient", "--metrics", "sparseness", "--method-options", "steps=4"}),
                 "'steps'", out);
}
