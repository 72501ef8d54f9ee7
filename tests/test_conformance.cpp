// ONNX backend conformance: every test of the ONNX backend suite (Debian's libonnx-testdata:
// node/, simple/, pytorch-converted/, pytorch-operator/) whose model uses only ops gradlens
// registers is loaded, run on each test_data_set_K/input_J.pb and compared with output_J.pb:
// float outputs per element within |a − b| ≤ 1e-4 + 1e-4·|b| (NaN only where the reference is NaN,
// infinities exactly), integer and bool outputs exactly, shapes exactly.
// gradlens takes weights (Conv's W and B, BatchNormalization's statistics, PRelu's slope, ...) as
// load-time constants: attribution never differentiates with respect to them. Backend node tests
// feed weights as graph inputs; the harness binds a graph input that only feeds such weight slots
// as an initializer holding the data set's value, and every other input at run time.
// Tests needing an unregistered op are counted and skipped; tests of registered ops that are out
// of scope by design are listed by name below with the reason, and the list is checked to be
// current (each listed test exists, uses only registered ops and does fail). Everything else must
// pass. The per-op tally is printed, and written as a Markdown table to the file named by
// GRADLENS_WRITE_CONFORMANCE (how tests/data/conformance.md, quoted in the README, is produced):
//   GRADLENS_WRITE_CONFORMANCE=tests/data/conformance.md build/tests/gradlens_tests
//       --source-file='*test_conformance.cpp'
// GRADLENS_ONNX_TESTDATA overrides the data location, as for tests/test_onnx_reader.cpp.
#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <sstream>
#include <tuple>

#include "engine/error.h"
#include "engine/tape.h"
#include "io/onnx.h"
#include "io/protobuf.h"
#include "layers/layer.h"
#include "layers/model.h"
#include "support.h"

using namespace gradlens;
namespace fs = std::filesystem;

namespace {

fs::path backend_dir() {
  const char* env = std::getenv("GRADLENS_ONNX_TESTDATA");
  return env ? fs::path(env) : fs::path("/usr/share/libonnx-testdata/data");
}

bool have_backend_data() {
  if (fs::is_directory(backend_dir() / "node")) return true;
  MESSAGE("SKIPPED: ONNX backend test data not found at " << backend_dir().string()
          << " (install Debian's libonnx-testdata or set GRADLENS_ONNX_TESTDATA)");
  return false;
}

const char* const kSuites[] = {"node", "simple", "pytorch-converted", "pytorch-operator"};

// Backend tests of registered ops that gradlens does not aim to pass, with the reason. The sweep
// checks that each still exists, uses only registered ops and still fails.
struct OutOfScope {
  const char* test;
  const char* reason;
};
const char* const kTrainingMode = "training mode (batch statistics, random dropout masks): gradlens runs inference only";
const char* const kStrings = "string tensors: gradlens tensors are numeric";
const char* const kBfloat16Bits = "the reference data hold bfloat16 as raw uint16 bits (the model declares BFLOAT16)";
const char* const kWindows1d3d = "1-D / 3-D windows: gradlens' Conv and pooling kernels are 2-D (images)";
const char* const kOpset6NegativeAxis = "negative axis at opset 6, which the spec allows only from opset 11; gradlens rejects it";
const OutOfScope kOutOfScope[] = {
    {"test_batchnorm_epsilon_training_mode", kTrainingMode},
    {"test_batchnorm_example_training_mode", kTrainingMode},
    {"test_training_dropout", kTrainingMode},
    {"test_training_dropout_default", kTrainingMode},
    {"test_training_dropout_default_mask", kTrainingMode},
    {"test_training_dropout_mask", kTrainingMode},
    {"test_training_dropout_zero_ratio", kTrainingMode},
    {"test_training_dropout_zero_ratio_mask", kTrainingMode},
    {"test_cast_FLOAT_to_STRING", kStrings},
    {"test_cast_STRING_to_FLOAT", kStrings},
    {"test_castlike_FLOAT_to_STRING_expanded", kStrings},
    {"test_castlike_STRING_to_FLOAT_expanded", kStrings},
    {"test_cast_BFLOAT16_to_FLOAT", kBfloat16Bits},
    {"test_cast_FLOAT_to_BFLOAT16", kBfloat16Bits},
    {"test_castlike_BFLOAT16_to_FLOAT_expanded", kBfloat16Bits},
    {"test_castlike_FLOAT_to_BFLOAT16_expanded", kBfloat16Bits},
    {"test_identity_opt", "optional types: gradlens graphs carry tensors only"},
    {"test_identity_sequence", "sequence types: gradlens graphs carry tensors only"},
    {"test_einsum_batch_diagonal", "Einsum ellipsis ('...') broadcasting is not implemented"},
    {"test_maxpool_with_argmax_2d_precomputed_pads", "MaxPool's Indices output is not implemented"},
    {"test_maxpool_with_argmax_2d_precomputed_strides", "MaxPool's Indices output is not implemented"},
    {"test_GLU", kOpset6NegativeAxis},
    {"test_log_softmax_lastdim", kOpset6NegativeAxis},
    {"test_averagepool_1d_default", kWindows1d3d},
    {"test_averagepool_3d_default", kWindows1d3d},
    {"test_maxpool_1d_default", kWindows1d3d},
    {"test_maxpool_3d_default", kWindows1d3d},
    {"test_convtranspose_1d", kWindows1d3d},
    {"test_convtranspose_3d", kWindows1d3d},
    {"test_AvgPool3d", kWindows1d3d},
    {"test_AvgPool3d_stride", kWindows1d3d},
    {"test_AvgPool3d_stride1_pad0_gpu_input", kWindows1d3d},
    {"test_Conv1d", kWindows1d3d},
    {"test_Conv1d_dilated", kWindows1d3d},
    {"test_Conv1d_groups", kWindows1d3d},
    {"test_Conv1d_pad1", kWindows1d3d},
    {"test_Conv1d_pad1size1", kWindows1d3d},
    {"test_Conv1d_pad2", kWindows1d3d},
    {"test_Conv1d_pad2size1", kWindows1d3d},
    {"test_Conv1d_stride", kWindows1d3d},
    {"test_Conv3d", kWindows1d3d},
    {"test_Conv3d_dilated", kWindows1d3d},
    {"test_Conv3d_dilated_strided", kWindows1d3d},
    {"test_Conv3d_groups", kWindows1d3d},
    {"test_Conv3d_no_bias", kWindows1d3d},
    {"test_Conv3d_stride", kWindows1d3d},
    {"test_Conv3d_stride_padding", kWindows1d3d},
    {"test_MaxPool1d", kWindows1d3d},
    {"test_MaxPool1d_stride", kWindows1d3d},
    {"test_MaxPool1d_stride_padding_dilation", kWindows1d3d},
    {"test_MaxPool3d", kWindows1d3d},
    {"test_MaxPool3d_stride", kWindows1d3d},
    {"test_MaxPool3d_stride_padding", kWindows1d3d},
    {"test_operator_maxpool", kWindows1d3d},
};

std::map<std::string, std::string> out_of_scope_reasons() {
  std::map<std::string, std::string> reasons;
  for (const OutOfScope& o : kOutOfScope) reasons[o.test] = o.reason;
  return reasons;
}

// Inputs that gradlens layers take as load-time constants (weights), by op.
const std::map<std::string, std::set<size_t>>& weight_slots() {
  static const std::map<std::string, std::set<size_t>> slots = {
      {"Conv", {1, 2}},
      {"ConvTranspose", {1, 2}},
      {"BatchNormalization", {1, 2, 3, 4}},
      {"InstanceNormalization", {1, 2}},
      {"LayerNormalization", {1, 2}},
      {"PRelu", {1}},
  };
  return slots;
}

// Whether graph input `name` is consumed only at weight slots (and at least once).
bool feeds_only_weights(const Graph& g, const std::string& name) {
  bool any = false;
  for (const NodeDef& n : g.nodes)
    for (size_t k = 0; k < n.inputs.size(); ++k) {
      if (n.inputs[k] != name) continue;
      auto it = weight_slots().find(n.op_type);
      if (it == weight_slots().end() || !it->second.count(k)) return false;
      any = true;
    }
  return any;
}

std::string read_bytes(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
}

// Op types of the model's top-level graph (ModelProto.graph = 7, GraphProto.node = 1,
// NodeProto.op_type = 4, NodeProto.domain = 7), read straight from the wire so that models the
// importer rejects still report their ops. Ops of another domain are reported as "domain:op".
std::set<std::string> model_ops(const fs::path& path) {
  std::set<std::string> ops;
  const std::string bytes = read_bytes(path);
  pb::Reader model(bytes, path.string());
  while (model.next()) {
    if (model.field() != 7 || model.wire() != pb::WireType::bytes) continue;
    pb::Reader graph = model.as_message();
    while (graph.next()) {
      if (graph.field() != 1 || graph.wire() != pb::WireType::bytes) continue;
      pb::Reader node = graph.as_message();
      std::string op, domain;
      while (node.next()) {
        if (node.field() == 4) op = node.as_string();
        if (node.field() == 7) domain = node.as_string();
      }
      ops.insert(domain.empty() || domain == "ai.onnx" ? op : domain + ":" + op);
    }
  }
  return ops;
}

// Compares one output with its reference; on a mismatch returns a description, else "".
std::string compare(const Tensor& got, const Initializer& want) {
  std::ostringstream why;
  if (got.shape() != want.value.shape()) {
    why << "shape " << got.shape().str() << ", expected " << want.value.shape().str();
    return why.str();
  }
  for (int64_t i = 0; i < got.numel(); ++i) {
    const double a = got[i];
    bool ok;
    double b;
    if (want.is_integer) {
      b = double(want.ints[size_t(i)]);
      ok = a == b;
    } else {
      b = want.value[i];
      if (std::isnan(b)) ok = std::isnan(a);
      else if (std::isinf(b)) ok = a == b;
      else ok = std::fabs(a - b) <= 1e-4 + 1e-4 * std::fabs(b);
    }
    if (!ok) {
      why.precision(9);
      why << "element " << i << " of " << got.numel() << ": got " << a << ", expected " << b
          << (want.is_integer ? " (integer, exact)" : "");
      return why.str();
    }
  }
  return "";
}

// Runs one backend test directory: every data set, every output. Returns "" when all match,
// else what went wrong first.
std::string run_backend_test(const fs::path& dir) {
  try {
    const Graph loaded = load_onnx((dir / "model.onnx").string());
    int data_sets = 0;
    for (int k = 0;; ++k) {
      const fs::path data = dir / ("test_data_set_" + std::to_string(k));
      if (!fs::is_directory(data)) break;
      ++data_sets;
      // input_J binds to the J-th graph input; weights become initializers.
      Graph graph = loaded;
      std::vector<Initializer> runtime_inputs;
      graph.inputs.clear();
      for (size_t j = 0;; ++j) {
        const fs::path pb = data / ("input_" + std::to_string(j) + ".pb");
        if (!fs::is_regular_file(pb)) break;
        if (j >= loaded.inputs.size())
          return data.filename().string() + ": more input files than graph inputs";
        Initializer value = read_tensor_pb(pb.string());
        if (feeds_only_weights(loaded, loaded.inputs[j].name)) {
          graph.initializers[loaded.inputs[j].name] = std::move(value);
        } else {
          graph.inputs.push_back(loaded.inputs[j]);
          runtime_inputs.push_back(std::move(value));
        }
      }
      Model model(std::move(graph));
      Tape tape;
      std::vector<Var> inputs;
      for (size_t j = 0; j < runtime_inputs.size(); ++j)
        inputs.push_back(tape.input(runtime_inputs[j].value, false, model.graph().inputs[j].name));
      const std::vector<Var> outputs = model.forward(tape, inputs);
      size_t checked = 0;
      for (size_t j = 0;; ++j) {
        const fs::path pb = data / ("output_" + std::to_string(j) + ".pb");
        if (!fs::is_regular_file(pb)) break;
        if (j >= outputs.size()) return data.filename().string() + ": more output files than graph outputs";
        const std::string why = compare(outputs[j].value(), read_tensor_pb(pb.string()));
        if (!why.empty())
          return data.filename().string() + ", output " + std::to_string(j) + " ('" +
                 model.graph().outputs[j].name + "'): " + why;
        ++checked;
      }
      if (checked != outputs.size())
        return data.filename().string() + ": " + std::to_string(checked) + " reference outputs for " +
               std::to_string(outputs.size()) + " graph outputs";
    }
    if (data_sets == 0) return "no test_data_set_0";
    return "";
  } catch (const Error& e) {
    return e.what();
  } catch (const std::exception& e) {
    return std::string("non-gradlens exception: ") + e.what();
  }
}

struct TestCase {
  std::string suite, name;
  fs::path dir;
  std::set<std::string> ops;
};

std::vector<TestCase> backend_tests() {
  std::vector<TestCase> tests;
  for (const char* suite : kSuites) {
    if (!fs::is_directory(backend_dir() / suite)) continue;
    for (const auto& entry : fs::directory_iterator(backend_dir() / suite)) {
      const fs::path model = entry.path() / "model.onnx";
      if (!fs::is_regular_file(model)) continue;
      tests.push_back({suite, entry.path().filename().string(), entry.path(), model_ops(model)});
    }
  }
  std::sort(tests.begin(), tests.end(), [](const TestCase& a, const TestCase& b) {
    return std::tie(a.suite, a.name) < std::tie(b.suite, b.name);
  });
  return tests;
}

bool uses_only_registered_ops(const TestCase& t) {
  if (t.ops.empty()) return false;
  for (const std::string& op : t.ops)
    if (!layer_registered(op)) return false;
  return true;
}

struct OpTally {
  int run = 0, passed = 0, out_of_scope = 0, needs_other_ops = 0;
};

void write_markdown(const std::string& path, const std::map<std::string, OpTally>& tally,
                    int run, int passed, int out_of_scope, int skipped, int total) {
  std::ofstream out(path);
  out << "<!-- Generated by tests/test_conformance.cpp: GRADLENS_WRITE_CONFORMANCE=tests/data/conformance.md "
         "build/tests/gradlens_tests --source-file='*test_conformance.cpp' -->\n\n";
  out << "| op | conformance tests passing / run | out of scope (listed) | not run: also need an unsupported op |\n";
  out << "|---|---|---|---|\n";
  for (const auto& [op, t] : tally)
    out << "| " << op << " | " << t.passed << " / " << t.run << " | " << t.out_of_scope << " | "
        << t.needs_other_ops << " |\n";
  out << "\nOf " << total << " backend tests (node, simple, pytorch-converted, pytorch-operator), "
      << run << " use only supported ops and are run; " << passed << " pass, " << out_of_scope
      << " are listed as out of scope, " << skipped << " need an unsupported op.\n";
  std::map<std::string, std::vector<std::string>> by_reason;
  for (const OutOfScope& o : kOutOfScope) by_reason[o.reason].push_back(o.test);
  out << "\nOut of scope, by reason:\n\n";
  for (const auto& [reason, tests] : by_reason) {
    out << "- " << reason << ":";
    for (size_t i = 0; i < tests.size(); ++i) out << (i ? ", " : " ") << "`" << tests[i] << "`";
    out << "\n";
  }
  GL_CHECK(out.good(), path, ": cannot write the conformance table");
}

}  // namespace

TEST_CASE("ONNX backend conformance of every registered op") {
  if (!have_backend_data()) return;
  const std::map<std::string, std::string> listed = out_of_scope_reasons();
  std::map<std::string, OpTally> tally;
  for (const std::string& op : registered_ops()) tally[op];
  std::map<std::string, int> suite_run, suite_passed;
  int total = 0, run = 0, passed = 0, out_of_scope = 0, skipped = 0;
  std::set<std::string> seen_listed;
  for (const TestCase& t : backend_tests()) {
    ++total;
    const bool runnable = uses_only_registered_ops(t);
    const bool is_listed = listed.count(t.name) > 0;
    if (is_listed) seen_listed.insert(t.name);
    if (!runnable) {
      ++skipped;
      for (const std::string& op : t.ops)
        if (tally.count(op)) ++tally[op].needs_other_ops;
      INFO(t.name << " is listed as out of scope but needs an unregistered op");
      CHECK(!is_listed);
      continue;
    }
    const std::string failure = run_backend_test(t.dir);
    if (is_listed) {
      ++out_of_scope;
      for (const std::string& op : t.ops) ++tally[op].out_of_scope;
      INFO(t.suite << "/" << t.name << " is listed as out of scope but passes: remove it from the list");
      CHECK(!failure.empty());
      continue;
    }
    ++run;
    ++suite_run[t.suite];
    const bool ok = failure.empty();
    passed += ok;
    suite_passed[t.suite] += ok;
    for (const std::string& op : t.ops) {
      ++tally[op].run;
      tally[op].passed += ok;
    }
    INFO(t.suite << "/" << t.name << ": " << failure);
    CHECK(ok);
  }
  for (const auto& [name, reason] : listed) {
    INFO("listed out-of-scope test " << name << " (" << reason << ") is not in the backend data");
    CHECK(seen_listed.count(name));
  }

  std::ostringstream per_op;
  for (const auto& [op, t] : tally) {
    per_op << "\n  " << op << ": " << t.passed << "/" << t.run << " pass";
    if (t.out_of_scope) per_op << ", " << t.out_of_scope << " out of scope";
    if (t.needs_other_ops) per_op << ", " << t.needs_other_ops << " need an unsupported op";
  }
  MESSAGE("conformance per registered op (tests passing/run):" << per_op.str());
  std::ostringstream per_suite;
  for (const auto& [suite, n] : suite_run) per_suite << " " << suite << " " << suite_passed[suite] << "/" << n;
  MESSAGE("conformance: " << passed << "/" << run << " backend tests pass (" << per_suite.str()
          << " ), " << out_of_scope << " out of scope, " << skipped << " of " << total
          << " skipped for unsupported ops");
  CHECK(run > 300);

  if (const char* path = std::getenv("GRADLENS_WRITE_CONFORMANCE")) {
    write_markdown(path, tally, run, passed, out_of_scope, skipped, total);
    MESSAGE("conformance table written to " << path);
  }
}

// Backend tests that failed when this sweep was first run, each for a bug fixed in layers/ or the
// importer; checked by name so that a regression points at its cause.
TEST_CASE("ONNX backend conformance regressions: fixed layer bugs stay fixed") {
  if (!have_backend_data()) return;
  const std::pair<const char*, const char*> fixed[] = {
      // PRelu before opset 7: a 1-D slope of C values is per channel (axis 1).
      {"pytorch-converted/test_PReLU_1d_multiparam", "PRelu legacy per-channel slope"},
      {"pytorch-converted/test_PReLU_2d_multiparam", "PRelu legacy per-channel slope"},
      {"pytorch-converted/test_PReLU_3d_multiparam", "PRelu legacy per-channel slope"},
      // LayerNormalization's optional Mean and InvStdDev outputs.
      {"node/test_layer_normalization_2d_axis0", "LayerNormalization Mean/InvStdDev"},
      {"node/test_layer_normalization_3d_axis_negative_2_epsilon", "LayerNormalization Mean/InvStdDev"},
      {"node/test_layer_normalization_4d_axis_negative_4", "LayerNormalization Mean/InvStdDev"},
      {"node/test_layer_normalization_default_axis", "LayerNormalization Mean/InvStdDev"},
      // Integer graph inputs are known to be integers: uint8 Div truncates.
      {"node/test_div_uint8", "element type of graph inputs"},
  };
  for (const auto& [test, what] : fixed) {
    INFO(test << " (" << what << ")");
    const fs::path dir = backend_dir() / test;
    REQUIRE(fs::is_regular_file(dir / "model.onnx"));
    CHECK(run_backend_test(dir) == "");
  }
}
