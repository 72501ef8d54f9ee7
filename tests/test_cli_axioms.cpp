// `gradlens axioms` and `gradlens explain --analytic` on the binary: the table's verdicts on the
// IG paper's example, the JSON, --out DIR written together, the catalogue listing, the ONNX demo
// path with its dummy channel, and bad input (one line naming the flag / method / model, exit 2).
#include <filesystem>
#include <string>

#include <algorithm>

#include "cli_runner.h"
#include "io/atomic_file.h"
#include "io/npy.h"
#include "onnx_builder.h"
#include "method_testing.h"
#include "scratch_dir.h"

using namespace gradlens::test;
using gradlens::write_file_atomically;
namespace fs = std::filesystem;

TEST_CASE("gradlens axioms --analytic one-minus-relu: the IG paper's verdicts") {
  if (!have_cli()) return;
  const ScratchDir scratch;
  const CliRun r = run_cli(scratch, {"axioms", "--analytic", "one-minus-relu", "--methods",
                                     "gradient,input-x-gradient,integrated-gradients", "--json", "--out",
                                     scratch / "out"});
  REQUIRE(r.exit_code == 0);
  // gradient: completeness not claimed (measured 1), sensitivity (a) fails; IG passes both.
  CHECK(r.out.find("{\"method\":\"gradient\",\"completeness\":{\"verdict\":\"not-claimed\",\"violation\":1,") !=
        std::string::npos);
  CHECK(r.out.find("\"sensitivity-a\":{\"verdict\":\"fail\",\"violation\":1,") != std::string::npos);
  CHECK(r.out.find("{\"method\":\"integrated-gradients\",\"completeness\":{\"verdict\":\"pass\",\"violation\":0,") !=
        std::string::npos);
  CHECK(slurp(scratch / "out/axioms.json") == r.out);
  const std::string table = slurp(scratch / "out/axioms.txt");
  CHECK(table.find("integrated-gradients  pass 0") != std::string::npos);
  CHECK(table.find("FAIL 1") != std::string::npos);
}

TEST_CASE("gradlens axioms --analytic list and explain --analytic print the catalogue and closed forms") {
  if (!have_cli()) return;
  const ScratchDir scratch;
  CliRun r = run_cli(scratch, {"axioms", "--analytic", "list"});
  REQUIRE(r.exit_code == 0);
  for (const char* name : {"one-minus-relu", "min", "product", "quadratic", "sigmoid", "relu-net", "dummy", "softmax-linear"})
    CHECK(r.out.find(std::string("\n") + name + " ") != std::string::npos);
  r = run_cli(scratch, {"explain", "--analytic", "product", "--method", "integrated-gradients", "--out-npy",
                        scratch / "a.npy"});
  REQUIRE(r.exit_code == 0);
  CHECK(r.out.find("closed form: (Δ₀(x′₁ + Δ₁/2), Δ₁(x′₀ + Δ₀/2))") != std::string::npos);
  const gradlens::Tensor a = gradlens::read_npy(scratch / "a.npy");
  CHECK(a[0] == doctest::Approx(3.0).epsilon(1e-5));  // x₀x₁/2 each
  CHECK(a[1] == doctest::Approx(3.0).epsilon(1e-5));
  r = run_cli(scratch, {"explain", "--analytic", "softmax-linear", "--method", "integrated-gradients", "--json"});
  REQUIRE(r.exit_code == 0);
  CHECK(r.out.find("closed_form") == std::string::npos);  // none for IG on a softmax
}

TEST_CASE("gradlens axioms on an ONNX model: dummy channel, symmetry asserted and refused") {
  if (!have_cli()) return;
  const ScratchDir scratch;
  const std::string model = (fixture("small_cnn") / "model.onnx").string();
  const std::string input = (fixture("small_cnn") / "input.npy").string();
  CliRun r = run_cli(scratch, {"axioms", model, input, "--methods", "gradient,saliency"});
  REQUIRE(r.exit_code == 0);
  CHECK(r.out.find("METHOD    completeness  sensitivity-a  dummy   linearity     symmetry  invariance") !=
        std::string::npos);
  // gradient: not claimed, sensitive, zero on the dummy channel, linear, invariant on the twins.
  CHECK(r.out.find("gradient  n/c 0.3       pass 0         pass 0  pass ") != std::string::npos);
  CHECK(r.out.find("saliency  n/c") != std::string::npos);
  CHECK(r.out.find("  FAIL 1.7 ") != std::string::npos);  // saliency's |·| is not linear
  CHECK(r.out.find("symmetry n/a") != std::string::npos);
  CHECK(r.out.find("invariance n/a") == std::string::npos);
  r = run_cli(scratch, {"axioms", model, input, "--methods", "gradient", "--symmetric", "0,1"});
  CHECK(r.exit_code == 2);
  CHECK(r.err.find("--symmetric 0,1: the model is not symmetric") != std::string::npos);
}

TEST_CASE("gradlens axioms: bad input exits 2 with one line naming the flag, method or model") {
  if (!have_cli()) return;
  const ScratchDir scratch;
  const std::vector<std::pair<std::vector<std::string>, std::string>> cases = {
      {{"axioms", "--analytic", "nope"}, "unknown analytic model 'nope'"},
      {{"axioms", "--analytic", "min", "--methods", "gradient,nope"}, "nope"},
      {{"axioms", "--analytic", "min", "--methods", "grad-cam"}, "'grad-cam' gives a layer map"},
      {{"axioms", "--analytic", "min", "--symmetric", "0"}, "--symmetric"},
      {{"axioms", "--analytic", "min", "--tolerance", "-1"}, "--tolerance"},
      {{"axioms", "--analytic", "min", "--steps", "5", "--methods", "gradient"}, "--steps"},
      {{"axioms", "--analytic", "quadratic", "--symmetric", "0,1"}, "not symmetric"},
      {{"explain", "--analytic", "nope", "--method", "gradient"}, "unknown analytic model"},
      {{"explain", "--analytic", "min", "--method", "gradient", "--out-png", scratch / "x.png"}, "--out-png"},
  };
  for (const auto& [args, expected] : cases) {
    INFO(cli_command(args));
    const CliRun r = run_cli(scratch, args);
    CHECK(r.exit_code == 2);
    CHECK(r.err.find(expected) != std::string::npos);
    CHECK(std::count(r.err.begin(), r.err.end(), '\n') == 1);
  }
}

TEST_CASE("gradlens axioms --symmetric on an ONNX model symmetric in two inputs") {
  if (!have_cli()) return;
  using gradlens::test::float_tensor;
  using gradlens::test::node_proto;
  using gradlens::test::value_info;
  const ScratchDir scratch;
  // y = relu(x·W1)·W2: features 0 and 1 feed hidden units 0 and 1 alike, and rows 0 and 1 of W2
  // are equal, so swapping the features swaps two units with the same output weights.
  PbWriter g;
  g.msg(1, node_proto("MatMul", {"x", "w1"}, {"h"}, "mm1"))
      .msg(1, node_proto("Relu", {"h"}, {"r"}, "relu"))
      .msg(1, node_proto("MatMul", {"r", "w2"}, {"y"}, "mm2"))
      .str(2, "symmetric")
      .msg(5, float_tensor("w1", {3, 4}, {1.f, 0.f, 0.3f, 0.8f, 0.f, 1.f, 0.3f, 0.8f, -0.7f, -0.7f, 1.1f, -0.4f}))
      .msg(5, float_tensor("w2", {4, 2}, {1.f, -0.5f, 1.f, -0.5f, -1.2f, 0.3f, 0.6f, 0.7f}))
      .msg(11, value_info("x", {-1, 3}))
      .msg(12, value_info("y", {-1, 2}));
  write_file_atomically(scratch / "sym.onnx", gradlens::test::model_proto(g).bytes());
  gradlens::write_npy(scratch / "x.npy", gradlens::Tensor(gradlens::Shape{2, 3}, {0.2f, 5.f, 0.3f, 0.3f, -1.f, 2.f}));
  CliRun r = run_cli(scratch, {"axioms", scratch / "sym.onnx", scratch / "x.npy", "--symmetric", "0,1", "--methods",
                               "gradient,integrated-gradients,smoothgrad", "--json"});
  REQUIRE(r.exit_code == 0);
  CHECK(r.out.find("\"symmetry\":{\"verdict\":\"pass\",\"violation\":0,") != std::string::npos);  // gradient, IG
  // smoothgrad's noise differs between the two features: on the first example (x₀ = x₁ = 0.2
  // after symmetrising, units 0 and 1 at −0.01) it switches the two units on in different
  // samples, so a finite sample is not symmetric.
  const size_t smooth = r.out.find("{\"method\":\"smoothgrad\"");
  REQUIRE(smooth != std::string::npos);
  CHECK(r.out.find("\"symmetry\":{\"verdict\":\"fail\"", smooth) != std::string::npos);
  // The dummy channel is added to the first MatMul; the 4 hidden units between the MatMuls are
  // permuted, rescaled and split, and gradient and IG stay the same on those twins.
  CHECK(r.out.find("\"dummy\":{\"verdict\":\"pass\"") != std::string::npos);
  CHECK(r.out.find("\"invariance\":{\"verdict\":\"n/a\"") == std::string::npos);
  CHECK(r.out.find("permute 4 channels from 'mm1' to 'mm2'") != std::string::npos);
  CHECK(r.out.find("\"invariance\":{\"verdict\":\"pass\"") < smooth);
  r = run_cli(scratch, {"axioms", scratch / "sym.onnx", scratch / "x.npy", "--symmetric", "0,2"});
  CHECK(r.exit_code == 2);
  CHECK(r.err.find("--symmetric 0,2: the model is not symmetric") != std::string::npos);
}
