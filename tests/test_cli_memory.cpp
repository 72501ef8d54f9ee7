// The run-wide memory budget (--max-memory, attribution/chunked_pass.h) through the CLI: a 224×224
// conv model explained with the default flags keeps its chunk's tape within the default 2 GiB;
// a smaller budget shrinks the chunks; a budget under one row's tape runs one row with one
// warning; the flag's values and errors.
#include <doctest/doctest.h>

#include <cstdlib>
#include <string>

#include "attribution/chunked_pass.h"
#include "cli_runner.h"
#include "io/atomic_file.h"
#include "io/npy.h"
#include "onnx_builder.h"
#include "support.h"

namespace gradlens {
using namespace test;
namespace {

using test::CliRun;
using test::run_cli;

// The number after "key": in a JSON text (the first one); -1 when absent.
double json_number(const std::string& json, const std::string& key) {
  const size_t at = json.find("\"" + key + "\":");
  if (at == std::string::npos) return -1;
  return std::strtod(json.c_str() + at + key.size() + 3, nullptr);
}

// x [N,3,224,224] → Conv 3→8 (3×3) → Relu → GlobalAveragePool → Flatten → MatMul [8,10]: about
// 8 MiB of tape per row, so --batch 32 rows are ~270 MiB; every chunk also holds the convolution's
// im2col scratch once, which the two probes (one row, two rows) tell apart from a row's share.
void write_conv224(const test::ScratchDir& scratch) {
  using test::float_tensor;
  using test::node_proto;
  using test::value_info;
  std::vector<float> w(8 * 3 * 3 * 3), b(8), w2(8 * 10);
  for (size_t i = 0; i < w.size(); ++i) w[i] = float(int(i * 7 % 11) - 5) * 0.05f;
  for (size_t i = 0; i < b.size(); ++i) b[i] = 0.01f * float(i);
  for (size_t i = 0; i < w2.size(); ++i) w2[i] = float(int(i * 5 % 13) - 6) * 0.1f;
  test::PbWriter g;
  g.msg(1, node_proto("Conv", {"x", "w", "b"}, {"c"}, "conv"))
      .msg(1, node_proto("Relu", {"c"}, {"r"}, "relu"))
      .msg(1, node_proto("GlobalAveragePool", {"r"}, {"p"}, "gap"))
      .msg(1, node_proto("Flatten", {"p"}, {"f"}, "flatten"))
      .msg(1, node_proto("MatMul", {"f", "w2"}, {"y"}, "fc"))
      .str(2, "conv224")
      .msg(5, float_tensor("w", {8, 3, 3, 3}, w))
      .msg(5, float_tensor("b", {8}, b))
      .msg(5, float_tensor("w2", {8, 10}, w2))
      .msg(11, value_info("x", {-1, 3, 224, 224}))
      .msg(12, value_info("y", {-1, 10}));
  write_file_atomically(scratch / "conv224.onnx", test::model_proto(g).bytes());
  Tensor x(Shape{1, 3, 224, 224});
  for (int64_t i = 0; i < x.numel(); ++i) x[i] = float((i * 37) % 101) / 101.f;
  write_npy(scratch / "x.npy", x);
}

// --quiet: no announcement of a long pass (timing-dependent); the over-budget warning still shows.
CliRun explain_ig(const test::ScratchDir& scratch, std::vector<std::string> extra) {
  std::vector<std::string> args = {"explain", scratch / "conv224.onnx", scratch / "x.npy", "--method",
                                   "integrated-gradients", "--json", "--quiet", "--out-npy", scratch / "a.npy"};
  args.insert(args.end(), extra.begin(), extra.end());
  return run_cli(scratch, args);
}

TEST_CASE("--max-memory: integrated gradients on a 224x224 conv model with the default flags fits the default budget") {
  if (!test::have_cli()) return;
  const test::ScratchDir scratch;
  write_conv224(scratch);
  const CliRun run = explain_ig(scratch, {});
  INFO("stderr: " << run.err);
  REQUIRE(run.exit_code == 0);
  CHECK(run.err.empty());  // no warning
  CHECK(json_number(run.out, "max_memory") == double(kDefaultMaxMemory));
  const double rows = json_number(run.out, "chunk_rows"), tape = json_number(run.out, "tape_bytes");
  MESSAGE("conv224, IG 50 steps, defaults: chunks of " << rows << " rows, tape " << tape / 1048576 << " MiB");
  CHECK(rows == 32);  // --batch: 32 rows of ~5 MB fit in 2 GiB
  CHECK(tape > 32 * 1e6);
  CHECK(tape <= double(kDefaultMaxMemory));
  const Tensor defaults = read_npy(scratch / "a.npy");

  // 128 MiB: ⌊128 MiB / one row's tape⌋ rows, and the chunk's tape within it; the sums are the same.
  const CliRun small = explain_ig(scratch, {"--max-memory", "128M"});
  INFO("stderr: " << small.err);
  REQUIRE(small.exit_code == 0);
  CHECK(small.err.empty());
  CHECK(json_number(small.out, "max_memory") == double(128 << 20));
  const double small_rows = json_number(small.out, "chunk_rows");
  CHECK(small_rows >= 2);
  CHECK(small_rows < 32);
  CHECK(json_number(small.out, "tape_bytes") <= double(128 << 20));
  MESSAGE("conv224, --max-memory 128M: chunks of " << small_rows << " rows");
  CHECK(rel_l2(read_npy(scratch / "a.npy"), defaults) < 1e-6);
}

TEST_CASE("--max-memory under one row's tape: one row per chunk, one warning, results as --batch 1") {
  if (!test::have_cli()) return;
  const test::ScratchDir scratch;
  write_conv224(scratch);
  const CliRun tight = explain_ig(scratch, {"--max-memory=16M", "--steps", "8"});
  INFO("stderr: " << tight.err);
  REQUIRE(tight.exit_code == 0);
  CHECK(std::count(tight.err.begin(), tight.err.end(), '\n') == 1);
  CHECK(contains(tight.err, "warning: one row of this model needs"));
  CHECK(contains(tight.err, "over --max-memory 16.0 MiB"));
  CHECK(json_number(tight.out, "chunk_rows") == 1);
  const Tensor one_row = read_npy(scratch / "a.npy");
  const CliRun batch1 = explain_ig(scratch, {"--batch", "1", "--steps", "8"});
  REQUIRE(batch1.exit_code == 0);
  CHECK(bitwise_equal(read_npy(scratch / "a.npy"), one_row));
}

TEST_CASE("evaluate --json reports max_memory, and each result's chunk_rows and tape_bytes, as numbers") {
  if (!test::have_cli()) return;
  const test::ScratchDir scratch;
  write_conv224(scratch);
  const CliRun run = run_cli(scratch, {"evaluate", scratch / "conv224.onnx", scratch / "x.npy", "--methods",
                                       "gradient", "--metrics", "sparseness", "--json", "--quiet", "--max-memory", "128M"});
  INFO("stderr: " << run.err);
  REQUIRE(run.exit_code == 0);
  CHECK(contains(run.out, "\"max_memory\":134217728"));
  CHECK(json_number(run.out, "chunk_rows") == 1);  // one example
  CHECK(json_number(run.out, "tape_bytes") > 1e6);
  CHECK(json_number(run.out, "tape_bytes") <= double(128 << 20));
  CHECK(!contains(run.out, "\"chunk_rows\":\""));  // not a string
}

// #18: the predicted class comes from the method's own forward, so Grad-CAM on N examples runs
// N rows through a forward in all (counted by the CLI's chunk observer, not timed).
TEST_CASE("explain --target auto: Grad-CAM forwards each example once; the JSON counts every forwarded row") {
  if (!test::have_cli()) return;
  const test::ScratchDir scratch;
  write_conv224(scratch);
  Tensor x2(Shape{2, 3, 224, 224});
  for (int64_t i = 0; i < x2.numel(); ++i) x2[i] = float((i * 53) % 97) / 97.f;
  write_npy(scratch / "x2.npy", x2);
  auto forwarded = [&](const std::string& method, std::vector<std::string> extra) {
    std::vector<std::string> args = {"explain", scratch / "conv224.onnx", scratch / "x2.npy", "--method", method,
                                     "--json", "--quiet", "--layer", "r"};
    args.insert(args.end(), extra.begin(), extra.end());
    const CliRun run = run_cli(scratch, args);
    INFO("stderr: " << run.err);
    REQUIRE(run.exit_code == 0);
    return json_number(run.out, "forwarded_rows");
  };
  CHECK(forwarded("grad-cam", {}) == 2);
  CHECK(forwarded("grad-cam", {"--target", "3"}) == 2);
  // A summary without --json needs the scores too: still one forward per example.
  const CliRun summary = run_cli(scratch, {"explain", scratch / "conv224.onnx", scratch / "x2.npy", "--method",
                                           "grad-cam", "--quiet", "--layer", "r"});
  REQUIRE(summary.exit_code == 0);
  CHECK(contains(summary.out, "top-5"));
  // Integrated gradients' path rows never include the input itself: one forward chooses the classes.
  const std::vector<std::string> steps = {"--steps", "4"};
  auto ig = [&](std::vector<std::string> extra) {
    std::vector<std::string> args = {"explain", scratch / "conv224.onnx", scratch / "x2.npy", "--method",
                                     "integrated-gradients", "--json", "--quiet", "--steps", "4"};
    args.insert(args.end(), extra.begin(), extra.end());
    const CliRun run = run_cli(scratch, args);
    REQUIRE(run.exit_code == 0);
    return json_number(run.out, "forwarded_rows") - json_number(run.out, "forward_passes");
  };
  CHECK(ig({}) == 2);
  CHECK(ig({"--target", "1"}) == 0);
}

TEST_CASE("--max-memory: values with suffixes, errors naming the flag, the help") {
  if (!test::have_cli()) return;
  const test::ScratchDir scratch;
  write_conv224(scratch);
  for (const char* bad : {"0", "-1", "2X", "G", "1.5G", "2000000T"}) {
    INFO(bad);
    test::check_rejected(explain_ig(scratch, {"--max-memory", bad}), "--max-memory", scratch / "a.npy");
  }
  test::check_rejected(explain_ig(scratch, {"--max-memory", "1G", "--max-memory", "2G"}), "given twice");
  // The hard limit is 4× the budget: 1 KiB cannot hold the model's tape.
  test::check_rejected(explain_ig(scratch, {"--max-memory", "1K"}), "raise it with --max-memory");
  const CliRun help = run_cli(scratch, {"explain", "--help"});
  CHECK(contains(help.out, "--max-memory"));
  CHECK(contains(run_cli(scratch, {"--help"}).out, "--max-memory BYTES"));
}

}  // namespace
}  // namespace gradlens
