// Reproducibility receipts on the real binary: what `explain --json` records (file and tensor
// SHA-256s, every parameter with its defaults, targets, threads, build), that every --json output
// and the HTML report carry one, and `gradlens verify`: identical (exit 0), different with the
// amount measured against the recorded .npy and the differing build field named (exit 1), a
// changed model file or a non-explain receipt refused (exit 2).
#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "io/npy.h"
#include "io/sha256.h"
#include "cli_runner.h"
#include "scratch_dir.h"
#include "support.h"

using namespace gradlens;
using gradlens::test::contains;
namespace fs = std::filesystem;

namespace {

using test::kCli;

// `gradlens args...`, stdout and stderr captured in the scratch directory.
test::CliRun gradlens_cli(const test::ScratchDir& scratch, const std::vector<std::string>& args) {
  return test::run_cli(scratch, args);
}

std::string file_text(const std::string& path) { return test::slurp(path); }

std::string float_sha256(const Tensor& t) {
  Sha256 s;
  s.update(t.data(), sizeof(float) * size_t(t.numel()));
  return s.hex();
}


void replace_once(std::string& text, const std::string& from, const std::string& to) {
  const size_t at = text.find(from);
  REQUIRE(at != std::string::npos);
  text.replace(at, from.size(), to);
}

const fs::path kSmallCnn = fs::path(GRADLENS_TEST_DATA) / "fixtures" / "small_cnn";

}  // namespace

TEST_CASE("receipts: explain --json records files, parameters with defaults, build; verify says identical") {
  if (!*kCli || !fs::is_regular_file(kCli)) {
    MESSAGE("SKIPPED: the gradlens CLI binary is not built");
    return;
  }
  test::ScratchDir scratch;
  const std::string model = (kSmallCnn / "model.onnx").string(), input = (kSmallCnn / "input.npy").string();
  const std::string npy = scratch / "ig.npy", json = scratch / "ig.json";
  const test::CliRun r = gradlens_cli(scratch, {"explain", model, input, "--method", "integrated-gradients", "--steps", "4",
                                       "--target", "3", "--out-npy", npy, "--json"});
  INFO(r.err);
  REQUIRE(r.exit_code == 0);
  const std::string& j = r.out;
  CHECK(contains(j, "\"receipt\":{\"gradlens\":{\"version\":\"" GRADLENS_EXPECTED_VERSION "\",\"compiler\":"));
  CHECK(contains(j, "\"isa\":[\"x86-64\",\"sse2\""));
  CHECK(contains(j, "\"command\":\"explain\""));
  CHECK(contains(j, "{\"path\":\"" + fs::absolute(model).string() + "\",\"sha256\":\"" + sha256_file(model) + "\"}"));
  CHECK(contains(j, "{\"path\":\"" + fs::absolute(input).string() + "\",\"sha256\":\"" + sha256_file(input) + "\"}"));
  CHECK(contains(j, "\"input\":{\"shape\":[2,3,32,32],\"sha256\":\"" + float_sha256(read_npy(input)) + "\"}"));
  // Every parameter, the defaults included (rule, baseline, ...), as the method resolved them.
  CHECK(contains(j, "\"method\":\"integrated-gradients\",\"parameters\":{"));
  CHECK(contains(j, "\"steps\":4"));  // numbers as JSON numbers
  CHECK(contains(j, "\"baseline\":\"zero\""));
  CHECK(contains(j, "\"noise\":{\"kind\":\"none\"}"));
  CHECK(contains(j, "\"targets\":[3,3]"));
  CHECK(contains(j, "\"threads\":"));
  CHECK(contains(j, "\"result\":{\"shape\":[2,3,32,32],\"sha256\":\"" + float_sha256(read_npy(npy)) + "\""));
  // Outputs are not part of what re-runs.
  CHECK(!contains(j, "\"arguments\":[\"" + fs::absolute(model).string() + "\"," + "\"--out-npy\""));
  CHECK(!contains(j.substr(j.find("\"arguments\"")), "--json"));

  std::ofstream(json) << j;
  const test::CliRun v = gradlens_cli(scratch, {"verify", json});
  INFO(v.err);
  CHECK(v.exit_code == 0);
  CHECK(contains(v.out, "identical (bitwise; sha256 " + float_sha256(read_npy(npy))));

  // A result made by another build: the recorded .npy scaled by 1.001 (its SHA-256 recorded) and
  // a different instruction set in the receipt. verify measures the change against that .npy.
  const std::string recorded_sha = float_sha256(read_npy(npy));
  Tensor other = read_npy(npy).clone();
  for (int64_t i = 0; i < other.numel(); ++i) other[i] *= 1.001f;
  write_npy(npy, other);
  std::string tampered = j;
  replace_once(tampered, "\"result\":{\"shape\":[2,3,32,32],\"sha256\":\"" + recorded_sha,
               "\"result\":{\"shape\":[2,3,32,32],\"sha256\":\"" + float_sha256(other));
  replace_once(tampered, "\"isa\":[", "\"isa\":[\"made-up-isa\",");
  const std::string json2 = scratch / "other.json";
  std::ofstream(json2) << tampered;
  const test::CliRun d = gradlens_cli(scratch, {"verify", json2, "--json"});
  INFO(d.out << d.err);
  CHECK(d.exit_code == 1);
  CHECK(contains(d.out, "\"verdict\":\"different\""));
  CHECK(contains(d.out, "\"measured\":\"against the recorded .npy\""));
  const size_t at = d.out.find("\"relative_l2\":");
  REQUIRE(at != std::string::npos);
  CHECK(std::atof(d.out.c_str() + at + 14) == doctest::Approx(1e-3).epsilon(1e-3));
  CHECK(contains(d.out, "isa: receipt 'made-up-isa x86-64"));
}

TEST_CASE("receipts: verify refuses a changed model and non-explain receipts; every --json output has one") {
  if (!*kCli || !fs::is_regular_file(kCli)) {
    MESSAGE("SKIPPED: the gradlens CLI binary is not built");
    return;
  }
  test::ScratchDir scratch;
  const std::string model = scratch / "model.onnx", input = (kSmallCnn / "input.npy").string();
  fs::copy_file(kSmallCnn / "model.onnx", model);
  const test::CliRun r = gradlens_cli(scratch, {"explain", model, input, "--method", "gradient", "--json"});
  REQUIRE(r.exit_code == 0);
  const std::string json = scratch / "gradient.json";
  std::ofstream(json) << r.out;
  std::ofstream(model, std::ios::app) << "x";  // the model file changes after the receipt
  const test::CliRun v = gradlens_cli(scratch, {"verify", json});
  CHECK(v.exit_code == 2);
  CHECK(contains(v.out, "not verifiable"));
  CHECK(contains(v.out, model + " has changed (sha256 differs)"));

  const std::string original = (kSmallCnn / "model.onnx").string();
  const test::CliRun run = gradlens_cli(scratch, {"run", original, input, "--json"});
  REQUIRE(run.exit_code == 0);
  CHECK(contains(run.out, "\"receipt\":{\"gradlens\":"));
  CHECK(contains(run.out, sha256_file(original)));
  const std::string run_json = scratch / "run.json";
  std::ofstream(run_json) << run.out;
  const test::CliRun not_explain = gradlens_cli(scratch, {"verify", run_json});
  CHECK(not_explain.exit_code == 2);
  CHECK(contains(not_explain.err, "verify re-runs explain receipts; this one is from 'run'"));
  const test::CliRun missing = gradlens_cli(scratch, {"verify", scratch / "missing.json"});
  CHECK(missing.exit_code == 2);
  CHECK(contains(missing.err, "missing.json"));

  for (const std::vector<std::string>& args :
       {std::vector<std::string>{"info", original, "--json"}, std::vector<std::string>{"methods", "--json"},
        std::vector<std::string>{"bench", original, "--repeat", "1", "--methods", "gradient", "--json"}}) {
    const test::CliRun o = gradlens_cli(scratch, args);
    INFO(args[0] << ": " << o.err);
    CHECK(o.exit_code == 0);
    CHECK(contains(o.out, "\"receipt\":{\"gradlens\":{\"version\":"));
  }
}

TEST_CASE("receipts: compare's --json and HTML report carry the receipt") {
  if (!*kCli || !fs::is_regular_file(kCli)) {
    MESSAGE("SKIPPED: the gradlens CLI binary is not built");
    return;
  }
  test::ScratchDir scratch;
  const fs::path demo = fs::path(GRADLENS_SOURCE_DIR) / "tools" / "demo";
  const fs::path image = *fs::directory_iterator(demo / "images");
  const std::string model = (demo / "fashion_cnn.onnx").string();
  const test::CliRun r = gradlens_cli(scratch, {"compare", model, image.string(), "--methods", "saliency,grad-cam", "--out",
                                       scratch / "out", "--quiet", "--json"});
  INFO(r.err);
  REQUIRE(r.exit_code == 0);
  CHECK(contains(r.out, "\"receipt\":{\"gradlens\":"));
  CHECK(contains(r.out, "\"method\":\"grad-cam\",\"parameters\":{\"layer\":\"auto\""));
  CHECK(contains(r.out, sha256_file(image.string())));
  const std::string html = file_text(scratch / "out/report.html");
  CHECK(contains(html, "<h2>Receipt</h2>"));
  CHECK(contains(html, sha256_file(model)));
}
