// The command line's contract, checked on the real binary (GRADLENS_CLI, set by CMake): bad input
// to `gradlens run` — truncated, garbage or non-ONNX model files, a missing file, an unsupported
// op, inputs of the wrong shape, count or dtype — exits with code 2 and prints exactly one line on
// stderr that names the offending file; `gradlens run` on a PyTorch fixture writes output_0.npy
// matching the fixture's output.npy (|a − b| ≤ 1e-4 + 1e-4·|b|); `gradlens info` marks the
// default CAM layer (the last 4-D activation before the head). Output is captured to temp files.
#include <sys/wait.h>

#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "attribution/cam.h"
#include "io/npy.h"
#include "io/onnx.h"
#include "layers/layer.h"
#include "layers/model.h"
#include "cli_runner.h"
#include "onnx_builder.h"
#include "scratch_dir.h"
#include "support.h"

using namespace gradlens;
using namespace gradlens::test;
namespace fs = std::filesystem;

namespace {

const fs::path kFixtures = fs::path(GRADLENS_TEST_DATA) / "fixtures";

using Run = CliRun;

// `gradlens run MODEL INPUTS... --out DIR` in a fresh output directory.
Run run_model(const ScratchDir& scratch, const std::string& model, const std::vector<std::string>& inputs) {
  std::vector<std::string> args = {"run", model};
  args.insert(args.end(), inputs.begin(), inputs.end());
  args.push_back("--out");
  args.push_back(scratch / "out");
  return run_cli(scratch, args);
}

// A .npy file with this dtype descriptor and raw data (format 1.0, header padded to 64 bytes).
void write_raw_npy(const std::string& path, const std::string& descr, const std::string& shape,
                   const std::string& data) {
  std::string header = "{'descr': '" + descr + "', 'fortran_order': False, 'shape': " + shape + ", }";
  while ((10 + header.size() + 1) % 64) header += ' ';
  header += '\n';
  std::string bytes = "\x93NUMPY";
  bytes += char(1);
  bytes += char(0);
  bytes += char(header.size() & 0xff);
  bytes += char(header.size() >> 8);
  write_file(path, bytes + header + data);
}

}  // namespace

TEST_CASE("gradlens run: corrupt, foreign and missing model files exit 2 with one line naming the file") {
  if (!have_cli()) return;
  ScratchDir scratch;
  const std::string input = (kFixtures / "small_cnn" / "input.npy").string();
  const std::string model_bytes = slurp(kFixtures / "small_cnn" / "model.onnx");
  REQUIRE(model_bytes.size() > 1000);

  // Truncated at offsets in the header, in the graph's nodes, inside the weights, near the end.
  for (size_t cut : {size_t(3), size_t(40), model_bytes.size() / 8, model_bytes.size() / 2,
                     model_bytes.size() - 7}) {
    const std::string path = scratch / ("cut_" + std::to_string(cut) + ".onnx");
    write_file(path, model_bytes.substr(0, cut));
    INFO("truncated at " << cut);
    check_rejected(run_model(scratch, path, {input}), path);
  }

  const std::string garbage = scratch / "garbage.onnx";
  std::string noise;
  uint64_t state = 12345;
  for (int i = 0; i < 4096; ++i) {
    state = state * 6364136223846793005ull + 1442695040888963407ull;
    noise += char(state >> 56);
  }
  write_file(garbage, noise);
  check_rejected(run_model(scratch, garbage, {input}), garbage);

  // PNG signature, IHDR of a 1x1 RGB image, IDAT, IEND (what a user gets by swapping arguments).
  const std::string png = scratch / "picture.onnx";
  write_file(png, std::string("\x89PNG\r\n\x1a\n\0\0\0\x0dIHDR\0\0\0\x01\0\0\0\x01\x08\x02\0\0\0\x90\x77\x53\xde"
                              "\0\0\0\x0cIDAT\x08\xd7\x63\xf8\xcf\xc0\0\0\x03\x01\x01\0\x18\xdd\x8d\xb0"
                              "\0\0\0\0IEND\xae\x42\x60\x82", 69));
  check_rejected(run_model(scratch, png, {input}), png);

  const std::string missing = scratch / "no_such_model.onnx";
  check_rejected(run_model(scratch, missing, {input}), missing);
  CHECK(!fs::exists(scratch.path() / "out" / "output_0.npy"));
}

TEST_CASE("gradlens run: an unsupported op is named with its node and the supported ops") {
  if (!have_cli()) return;
  const std::string op = "Hardmax";
  REQUIRE(!layer_registered(op));
  ScratchDir scratch;
  PbWriter graph;
  graph.msg(1, node_proto("Relu", {"x"}, {"r"}, "first_relu"))
      .msg(1, node_proto(op, {"r"}, {"y"}, "the_hardmax"))
      .str(2, "g")
      .msg(11, value_info("x", {1, 4}))
      .msg(12, value_info("y", {1, 4}));
  const std::string model = scratch / "unsupported.onnx";
  write_file(model, model_proto(graph).bytes());
  const std::string input = scratch / "x.npy";
  write_npy(input, Tensor(Shape{1, 4}, {1.f, -2.f, 3.f, 0.5f}));
  const Run r = run_model(scratch, model, {input});
  check_rejected(r, model);
  CHECK(contains(r.err, "'" + op + "'"));
  CHECK(contains(r.err, "the_hardmax"));
  for (const std::string& supported : registered_ops()) {
    INFO("supported op missing from the message: " << supported);
    CHECK(contains(r.err, supported));
  }
}

TEST_CASE("gradlens run: inputs of the wrong shape, count or dtype exit 2 with one line naming the file") {
  if (!have_cli()) return;
  ScratchDir scratch;
  const std::string model = (kFixtures / "small_cnn" / "model.onnx").string();
  const std::string input = (kFixtures / "small_cnn" / "input.npy").string();

  SUBCASE("wrong shape") {
    const std::string bad = scratch / "wrong_shape.npy";
    write_npy(bad, Tensor(Shape{2, 3, 16, 32}, 0.5f));  // the model takes [N,3,32,32]
    const Run r = run_model(scratch, model, {bad});
    check_rejected(r, bad);
    CHECK(contains(r.err, model));
    CHECK(contains(r.err, "[2,3,16,32]"));
  }
  SUBCASE("wrong rank") {
    const std::string bad = scratch / "wrong_rank.npy";
    write_npy(bad, Tensor(Shape{6, 32}, 0.5f));
    check_rejected(run_model(scratch, model, {bad}), bad);
  }
  SUBCASE("two inputs for a one-input model") {
    const Run r = run_model(scratch, model, {input, input});
    check_rejected(r, model);
    CHECK(contains(r.err, "takes 1 input"));
  }
  SUBCASE("dtypes gradlens does not read") {
    for (const auto& [descr, size] : {std::pair{std::string("<u2"), 2}, std::pair{std::string("<f2"), 2},
                                      std::pair{std::string("|b1"), 1}, std::pair{std::string("<c8"), 8}}) {
      const std::string bad = scratch / ("dtype_" + std::to_string(size) + descr.substr(1) + ".npy");
      write_raw_npy(bad, descr, "(1, 3, 32, 32)", std::string(size_t(3 * 32 * 32 * size), '\0'));
      INFO("dtype " << descr);
      const Run r = run_model(scratch, model, {bad});
      check_rejected(r, bad);
      CHECK(contains(r.err, descr));
    }
  }
  SUBCASE("missing input file") {
    const std::string missing = scratch / "no_such_input.npy";
    check_rejected(run_model(scratch, model, {missing}), missing);
  }
  CHECK(!fs::exists(scratch.path() / "out" / "output_0.npy"));
}

TEST_CASE("gradlens run writes output_0.npy matching each fixture's PyTorch output") {
  if (!have_cli()) return;
  int fixtures = 0;
  for (const char* name : {"mlp", "small_cnn", "gap_cnn", "resnet_tiny", "transformer_tiny", "embedding_mlp"}) {
    const fs::path dir = kFixtures / name;
    if (!fs::exists(dir / "model.onnx")) continue;
    ++fixtures;
    INFO("fixture " << name);
    ScratchDir scratch;
    const Run r = run_model(scratch, (dir / "model.onnx").string(), {(dir / "input.npy").string()});
    INFO("stderr: " << r.err);
    REQUIRE(r.exit_code == 0);
    CHECK(r.err.empty());
    const Tensor got = read_npy(scratch / "out/output_0.npy");
    const Tensor want = read_npy((dir / "output.npy").string());
    REQUIRE(got.shape() == want.shape());
    for (int64_t i = 0; i < got.numel(); ++i) {
      INFO("element " << i << ": got " << got[i] << ", want " << want[i]);
      CHECK(std::fabs(double(got[i]) - double(want[i])) <= 1e-4 + 1e-4 * std::fabs(double(want[i])));
    }
    CHECK(!fs::exists(scratch / "out/output_1.npy"));
  }
  CHECK(fixtures >= 4);
}

TEST_CASE("gradlens info marks the default CAM layer: the last 4-D activation before the head") {
  if (!have_cli()) return;
  int checked = 0;
  for (const char* name : {"small_cnn", "gap_cnn", "resnet_tiny"}) {
    const fs::path dir = kFixtures / name;
    if (!fs::exists(dir / "model.onnx")) continue;
    INFO("fixture " << name);
    // The head starts at the first Flatten, GlobalAveragePool or ReduceMean: its input is the
    // layer Grad-CAM explains.
    Model model(load_onnx((dir / "model.onnx").string()));
    std::string head_input;
    for (const auto& layer : model.layers()) {
      const std::string& op = layer->node().op_type;
      if (op == "Flatten" || op == "GlobalAveragePool" || op == "ReduceMean") {
        head_input = layer->node().inputs[0];
        break;
      }
    }
    REQUIRE(!head_input.empty());
    CHECK(default_cam_layer(model, read_npy((dir / "input.npy").string()).shape()) == head_input);

    ScratchDir scratch;
    const Run r = run_cli(scratch, {"info", (dir / "model.onnx").string()});
    INFO("stdout: " << r.out << "\nstderr: " << r.err);
    REQUIRE(r.exit_code == 0);
    std::string starred;
    std::istringstream lines(r.out);
    for (std::string line; std::getline(lines, line);) {
      const size_t star = line.find("* ");
      if (star == std::string::npos || line.find_first_not_of(' ') != star) continue;
      std::istringstream fields(line.substr(star + 2));
      fields >> starred;
    }
    CHECK(starred == head_input);
    ++checked;
  }
  CHECK(checked >= 2);
}
