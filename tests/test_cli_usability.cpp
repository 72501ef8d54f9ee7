// Usability of the CLI (#18), through the built binary: help listing every method's default of a
// shared flag, explain's readable summary without an output flag, compare on .npy inputs, integer
// .npy inputs converted with a note, and preset errors that name the preset and the fix.
#include <filesystem>
#include <map>
#include <set>
#include <string>
#include <vector>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <regex>

#include "attribution/method.h"
#include "cli_runner.h"
#include "hostile_files.h"
#include "io/atomic_file.h"
#include "io/npy.h"
#include "onnx_builder.h"
#include "scratch_dir.h"
#include "support.h"

using namespace gradlens;
using gradlens::test::contains;
namespace fs = std::filesystem;

namespace {
const fs::path kFixtures = fs::path(GRADLENS_TEST_DATA) / "fixtures";

// The line of `text` starting with `prefix` (after spaces), or "".
std::string line_of(const std::string& text, const std::string& prefix) {
  size_t start = 0;
  while (start < text.size()) {
    size_t end = text.find('\n', start);
    if (end == std::string::npos) end = text.size();
    const std::string line = text.substr(start, end - start);
    const size_t first = line.find_first_not_of(' ');
    if (first != std::string::npos && line.compare(first, prefix.size(), prefix) == 0) return line;
    start = end + 1;
  }
  return "";
}

// "[a, b: 50; c: 10]" → {50: {a, b}, 10: {c}}, in order.
std::vector<std::pair<std::string, std::vector<std::string>>> default_groups(const std::string& line) {
  std::vector<std::pair<std::string, std::vector<std::string>>> groups;
  const size_t open = line.rfind('['), close = line.rfind(']');
  if (open == std::string::npos || close == std::string::npos || close < open) return groups;
  const std::string inside = line.substr(open + 1, close - open - 1);
  for (size_t at = 0; at <= inside.size();) {
    size_t end = inside.find("; ", at);
    if (end == std::string::npos) end = inside.size();
    const std::string group = inside.substr(at, end - at);
    const size_t colon = group.find(": ");
    if (colon == std::string::npos) return {};
    std::vector<std::string> names;
    for (size_t n = 0; n <= colon;) {
      size_t comma = group.find(", ", n);
      if (comma == std::string::npos || comma > colon) comma = colon;
      names.push_back(group.substr(n, comma - n));
      n = comma + 2;
    }
    groups.push_back({group.substr(colon + 2), names});
    at = end + 2;
  }
  return groups;
}


// y = x·W (4 classes of 3 features), optionally followed by a final Softmax, written to `file`.
const std::vector<float> kW = {0.5f, -1.f, 2.f, 0.25f, 1.5f, 0.f, -0.5f, 1.f, -2.f, 0.75f, 0.3f, -0.6f};
void write_linear_model(const std::string& file, bool softmax) {
  using test::node_proto;
  test::PbWriter g;
  g.msg(1, node_proto("MatMul", {"x", "w"}, {softmax ? "logits" : "y"}, "mm"));
  if (softmax) {
    test::PbWriter axis = test::attribute("axis", 2);
    axis.i64(3, -1);
    g.msg(1, node_proto("Softmax", {"logits"}, {"y"}, "softmax", {axis}));
  }
  g.str(2, "linear").msg(5, test::float_tensor("w", {3, 4}, kW));
  g.msg(11, test::value_info("x", {-1, 3})).msg(12, test::value_info("y", {-1, 4}));
  write_file_atomically(file, test::model_proto(g).bytes());
}
const Tensor kX(Shape{2, 3}, {1.f, 0.5f, -1.f, 0.2f, -0.3f, 2.f});

// softmax(x_n·W) in double.
std::vector<double> linear_probabilities(int64_t n) {
  std::vector<double> z(4, 0.0), p(4);
  for (int c = 0; c < 4; ++c)
    for (int i = 0; i < 3; ++i) z[size_t(c)] += double(kX[n * 3 + i]) * double(kW[size_t(i * 4 + c)]);
  double top = *std::max_element(z.begin(), z.end()), total = 0;
  for (int c = 0; c < 4; ++c) total += p[size_t(c)] = std::exp(z[size_t(c)] - top);
  for (double& v : p) v /= total;
  return p;
}

// The summary's block of example n: the text from "example n" to the next example.
std::string example_block(const std::string& out, int n) {
  const size_t at = out.find("\nexample " + std::to_string(n));
  if (at == std::string::npos) return "";
  const size_t end = out.find("\nexample ", at + 1);
  return out.substr(at, end == std::string::npos ? std::string::npos : end - at);
}

// "class: probability" pairs of a summary's top-k line, in order.
std::vector<std::pair<int, double>> top_pairs(const std::string& block) {
  std::vector<std::pair<int, double>> pairs;
  const std::string top = line_of(block, "top-");
  const std::regex item("([0-9]+): ([0-9.]+) \\(");
  for (auto it = std::sregex_iterator(top.begin(), top.end(), item); it != std::sregex_iterator(); ++it)
    pairs.emplace_back(std::stoi((*it)[1]), std::stod((*it)[2]));
  return pairs;
}
}  // namespace

TEST_CASE("cli help: a flag several methods declare lists every method's default, equal ones grouped") {
  if (!test::have_cli()) return;
  test::ScratchDir scratch;
  for (const std::string command : {"explain", "compare"}) {
    const test::CliRun r = test::run_cli(scratch, {command, "--help"});
    REQUIRE(r.exit_code == 0);
    for (const std::string flag : {"steps", "baseline"}) {
      const std::string line = line_of(r.out, "--" + flag + " ");
      INFO(command << ": " << line);
      const auto groups = default_groups(line);
      REQUIRE(!groups.empty());
      if (flag == "steps") CHECK(groups.size() >= 4);  // 10, 16, 50, 100, 200 today
      std::map<std::string, std::string> shown;  // method → default shown
      std::set<std::string> values;
      for (const auto& [value, names] : groups) {
        CHECK(values.insert(value).second);  // one group per default
        for (const std::string& name : names) CHECK(shown.emplace(name, value).second);
      }
      size_t declaring = 0;
      for (const Method* m : methods())
        for (const Parameter& p : m->info().parameters)
          if (p.name == flag) {
            ++declaring;
            INFO(m->info().name);
            REQUIRE(shown.count(m->info().name));
            CHECK(shown[m->info().name] == (p.fallback.empty() ? "unset" : p.fallback));
          }
      CHECK(shown.size() == declaring);
    }
  }
  // The reported case: integrated-gradients' 50 steps is shown, not only big's 10.
  const auto groups = default_groups(line_of(test::run_cli(scratch, {"explain", "--help"}).out, "--steps "));
  bool ig50 = false;
  for (const auto& [value, names] : groups)
    for (const std::string& name : names) ig50 |= name == "integrated-gradients" && value == "50";
  CHECK(ig50);
}

TEST_CASE("cli explain without an output flag prints top classes, target and the map's statistics") {
  if (!test::have_cli()) return;
  test::ScratchDir scratch;
  write_linear_model(scratch / "linear.onnx", false);
  write_linear_model(scratch / "softmax.onnx", true);
  write_npy(scratch / "x.npy", kX);

  // The gradient of logit t is column t of W: the statistics are known in closed form.
  const test::CliRun r = test::run_cli(scratch, {"explain", scratch / "linear.onnx", scratch / "x.npy", "--method",
                                                 "gradient", "--target", "1,3"});
  INFO(r.out << r.err);
  REQUIRE(r.exit_code == 0);
  CHECK(contains(r.out, "gradient on 2 example(s) of shape [2,3], score logit"));
  CHECK(contains(r.out, "probabilities: softmax of the scores"));
  const int targets[] = {1, 3};
  for (int n = 0; n < 2; ++n) {
    const std::string block = example_block(r.out, n);
    INFO(block);
    const int t = targets[n];
    CHECK(contains(block, "target class " + std::to_string(t)));
    const std::vector<double> p = linear_probabilities(n);
    const auto pairs = top_pairs(block);
    REQUIRE(pairs.size() == 4);  // top-5 of 4 classes
    for (size_t k = 0; k < pairs.size(); ++k) {
      CHECK(std::fabs(pairs[k].second - p[size_t(pairs[k].first)]) < 6e-5);
      if (k) CHECK(pairs[k].second <= pairs[k - 1].second);
    }
    const double col[] = {kW[size_t(t)], kW[size_t(4 + t)], kW[size_t(8 + t)]};
    char want[160];
    std::snprintf(want, sizeof want, "map [1,3]: min %.4g, max %.4g, mean |a| %.4g, sum %.6g",
                  std::min({col[0], col[1], col[2]}), std::max({col[0], col[1], col[2]}),
                  (std::fabs(col[0]) + std::fabs(col[1]) + std::fabs(col[2])) / 3, col[0] + col[1] + col[2]);
    CHECK(contains(block, want));
    CHECK(!contains(block, "completeness"));  // the gradient claims no completeness
  }

  // A final Softmax: its input is explained, and its output is what is shown as probabilities.
  const test::CliRun s = test::run_cli(scratch, {"explain", scratch / "softmax.onnx", scratch / "x.npy", "--method",
                                                 "integrated-gradients", "--steps", "4"});
  INFO(s.out << s.err);
  REQUIRE(s.exit_code == 0);
  CHECK(contains(s.out, "the model's output 'y' already is a probability (it ends in Softmax)"));
  for (int n = 0; n < 2; ++n) {
    const std::string block = example_block(s.out, n);
    const std::vector<double> p = linear_probabilities(n);
    const auto pairs = top_pairs(block);
    REQUIRE(pairs.size() == 4);
    CHECK(contains(block, "target class " + std::to_string(pairs[0].first)));  // auto: the argmax
    for (const auto& [c, prob] : pairs) CHECK(std::fabs(prob - p[size_t(c)]) < 6e-5);
    // IG of a linear function is exact: the gap is rounding only, relative to the score.
    const std::regex gap("completeness gap (\\S+) \\((\\S+) % of the score");
    std::smatch m;
    REQUIRE(std::regex_search(block, m, gap));
    CHECK(std::fabs(std::stod(m[1])) < 1e-5);
  }

  // --score prob: the scores already are probabilities, shown as they are.
  const test::CliRun q = test::run_cli(scratch, {"explain", scratch / "softmax.onnx", scratch / "x.npy", "--method",
                                                 "gradient", "--score", "prob"});
  REQUIRE(q.exit_code == 0);
  CHECK(contains(q.out, "the scores are probabilities (--score prob)"));
  for (const auto& [c, prob] : top_pairs(example_block(q.out, 1)))
    CHECK(std::fabs(prob - linear_probabilities(1)[size_t(c)]) < 6e-5);
  CHECK(q.err.empty());
}

TEST_CASE("cli compare takes a .npy batch, loaded as explain loads it; integer arrays are converted with a note") {
  if (!test::have_cli()) return;
  test::ScratchDir scratch;
  const std::string model = (kFixtures / "small_cnn" / "model.onnx").string();
  const std::string input = (kFixtures / "small_cnn" / "input.npy").string();  // [2, 3, 32, 32]
  const std::string out = scratch / "out";
  const test::CliRun c = test::run_cli(scratch, {"compare", model, input, "--methods", "gradient,grad-cam", "--out", out,
                                                 "--json", "--quiet"});
  INFO(c.err);
  REQUIRE(c.exit_code == 0);
  CHECK(c.err.empty());
  CHECK(contains(c.out, "\"input\":\"" + input + "\""));
  const test::CliRun e = test::run_cli(scratch, {"explain", model, input, "--method", "gradient", "--out-npy",
                                                 scratch / "g.npy"});
  REQUIRE(e.exit_code == 0);
  const Tensor g = read_npy(scratch / "g.npy");
  const int64_t per = 3 * 32 * 32;
  for (int n = 0; n < 2; ++n) {
    const Tensor row = read_npy(out + "/input-" + std::to_string(n) + ".gradient.npy");
    REQUIRE(row.shape() == Shape{1, 3, 32, 32});
    bool same = true;
    for (int64_t i = 0; i < per; ++i) same &= row[i] == g[n * per + i];
    CHECK(same);
    CHECK(fs::exists(out + "/input-" + std::to_string(n) + ".grad-cam.npy"));
  }
  CHECK(contains(test::slurp(out + "/report.html"), "input.npy[1]"));
  CHECK(fs::exists(out + "/grid.png"));

  // A uint8 image batch as people save it: converted to float32 with one line on stderr, and the
  // same result as the float32 file of the same values, for compare and explain alike.
  std::string bytes(size_t(per), '\0');
  Tensor values(Shape{1, 3, 32, 32});
  for (int64_t i = 0; i < per; ++i) bytes[size_t(i)] = char((i * 37) % 256), values[i] = float((i * 37) % 256);
  test::write_file(scratch / "u8.npy", test::hostile::npy_raw("|u1", {1, 3, 32, 32}, bytes));
  write_npy(scratch / "f4.npy", values);
  const test::CliRun u = test::run_cli(scratch, {"compare", model, scratch / "u8.npy", "--methods", "gradient",
                                                 "--out", scratch / "u8"});
  INFO(u.err);
  REQUIRE(u.exit_code == 0);
  CHECK(u.err == "gradlens: " + (scratch / "u8.npy") + ": uint8 array converted to float32\n");
  const test::CliRun ue = test::run_cli(scratch, {"explain", model, scratch / "u8.npy", "--method", "gradient",
                                                  "--out-npy", scratch / "u8g.npy"});
  REQUIRE(ue.exit_code == 0);
  CHECK(contains(ue.err, "uint8 array converted to float32"));
  const test::CliRun fe = test::run_cli(scratch, {"explain", model, scratch / "f4.npy", "--method", "gradient",
                                                  "--out-npy", scratch / "f4g.npy"});
  REQUIRE(fe.exit_code == 0);
  CHECK(fe.err.empty());
  CHECK(test::bitwise_equal(read_npy(scratch / "u8g.npy"), read_npy(scratch / "f4g.npy")));
  CHECK(test::bitwise_equal(read_npy(scratch / "u8/u8.gradient.npy"), read_npy(scratch / "f4g.npy")));

  // Token ids for an input the model declares int64 are what it takes: no note.
  const fs::path ids = kFixtures / "embedding_mlp";
  const test::CliRun ir = test::run_cli(scratch, {"run", (ids / "model.onnx").string(), (ids / "input.npy").string(),
                                                  "--out", scratch / "ids"});
  CHECK(ir.exit_code == 0);
  CHECK(ir.err.empty());

  // Refused in one line, nothing written: a tensor compare cannot render, preprocessing flags on a
  // tensor, and an integer file over the size limit.
  const std::string mlp = (kFixtures / "mlp" / "model.onnx").string();
  const std::string mlp_input = (kFixtures / "mlp" / "input.npy").string();
  test::check_rejected(test::run_cli(scratch, {"compare", mlp, mlp_input, "--methods", "gradient", "--out",
                                               scratch / "r1"}),
                       "mlp/input.npy: compare renders heatmaps of [N, C, H, W] inputs", scratch / "r1");
  test::check_rejected(test::run_cli(scratch, {"compare", model, input, "--methods", "gradient", "--preset",
                                               "imagenet", "--out", scratch / "r2"}),
                       "--preset applies to image inputs", scratch / "r2");
  test::write_file(scratch / "huge.npy", test::hostile::npy_raw("|u1", {1000000, 1000000}, bytes));
  test::check_rejected(test::run_cli(scratch, {"compare", model, scratch / "huge.npy", "--methods", "gradient",
                                               "--out", scratch / "r3"}),
                       "huge.npy: array has more than", scratch / "r3");
}

TEST_CASE("cli --preset imagenet on a grey model names the preset and the fix, not --mean") {
  if (!test::have_cli()) return;
  test::ScratchDir scratch;
  using test::node_proto;
  // y = Flatten(GlobalAveragePool(x)), x [N, 1, 28, 28].
  test::PbWriter g;
  g.msg(1, node_proto("GlobalAveragePool", {"x"}, {"g"}, "gap")).msg(1, node_proto("Flatten", {"g"}, {"y"}, "flat"));
  g.str(2, "grey").msg(11, test::value_info("x", {-1, 1, 28, 28})).msg(12, test::value_info("y", {-1, 1}));
  write_file_atomically(scratch / "grey.onnx", test::model_proto(g).bytes());
  const std::string image = std::string(GRADLENS_TEST_DATA) + "/images/grey.jpg";
  for (const std::string command : {"explain", "compare"}) {
    INFO(command);
    const bool explain = command == "explain";
    const std::string out_flag = explain ? "--out-npy" : "--out", out = scratch / (explain ? "out.npy" : "out");
    const test::CliRun r = test::run_cli(scratch, {command, scratch / "grey.onnx", image, explain ? "--method" : "--methods",
                                                   "gradient", "--preset", "imagenet", out_flag, out});
    test::check_rejected(r, "--preset imagenet gives 3 channel means but the model's input has 1 channel; use "
                            "--preset fashion-mnist or --mean/--std", out);
    CHECK(!contains(r.err, "--mean gives"));
    // --mean given: the preset's 3 stds are still the preset's.
    test::check_rejected(test::run_cli(scratch, {command, scratch / "grey.onnx", image,
                                                 explain ? "--method" : "--methods", "gradient",
                                                 "--preset", "imagenet", "--mean", "0.5", out_flag, out}),
                         "--preset imagenet gives 3 channel standard deviations but the model's input has 1 channel");
    // Both given: the preset's geometry with the user's normalisation runs (until the size check).
    const test::CliRun ok = test::run_cli(scratch, {command, scratch / "grey.onnx", image,
                                                    explain ? "--method" : "--methods", "gradient",
                                                    "--preset", "imagenet", "--mean", "0.5", "--std", "0.25",
                                                    "--size", "28x28", out_flag, out, "--quiet"});
    CHECK(ok.exit_code == 0);
  }
}

TEST_CASE("cli --noise-file with a noise-family method names the wrapper that takes given draws") {
  if (!test::have_cli()) return;
  test::ScratchDir scratch;
  const std::string model = (kFixtures / "mlp" / "model.onnx").string();
  const std::string input = (kFixtures / "mlp" / "input.npy").string();
  const std::string noise = (kFixtures / "mlp" / "noise.npy").string();
  for (const std::string name : {"smoothgrad", "vargrad"}) {
    INFO(name);
    test::check_rejected(test::run_cli(scratch, {"explain", model, input, "--method", name, "--noise-file", noise,
                                                 "--out-npy", scratch / "a.npy"}),
                         "--noise-file needs --noise smoothgrad|smoothgrad-sq|vargrad (for given draws, run --method "
                         "gradient --noise " + name + ": the same average of signed gradients)",
                         scratch / "a.npy");
  }
  // The wrapper it names accepts the draws.
  const test::CliRun r = test::run_cli(scratch, {"explain", model, input, "--method", "gradient", "--noise",
                                                 "smoothgrad", "--noise-file", noise, "--out-npy", scratch / "b.npy"});
  CHECK(r.exit_code == 0);
}
