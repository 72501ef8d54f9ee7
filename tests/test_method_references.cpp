// Attribution methods against independent PyTorch references (tools/make_fixtures.py, section
// "Attribution references"): each tests/data/fixtures/<model>/ref_<name>.npy is a method's output
// computed in float64 from its formula with torch autograd, forward hooks and rectifier overrides,
// for the targets in target.npy. Every reference file present is run through the C++ API
// (method(name).explain, explain_with_noise with the fixture's noise.npy) on the ONNX model and
// must match to 1e-4 relative L2 — or 5× torch float32's own gradient error when that is larger,
// as in test_fixtures.cpp (the small fixtures are all well below). A reference file that no case
// below knows fails the test, so a new reference cannot go silently untested.
// One case goes through the command line (gradlens explain --out-npy --json), when the CLI binary
// is built next to the test runner's directory (build/gradlens).
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <sstream>

#include "attribution/method.h"
#include "attribution/noise.h"
#include "engine/error.h"
#include "io/npy.h"
#include "io/onnx.h"
#include "layers/model.h"
#include "scratch_dir.h"
#include "support.h"

using namespace gradlens;
namespace fs = std::filesystem;

namespace {

// How the reference ref_<file>.npy is reproduced by gradlens.
struct Case {
  std::string file;
  std::string method;
  std::vector<std::pair<std::string, std::string>> options = {};
  bool contrast = false;  // contrast class (c + 1) mod C
  NoiseKind noise = NoiseKind::none;
};

const std::vector<Case>& cases() {
  static const std::vector<Case> all = {
      {"gradient", "gradient"},
      {"contrastive", "gradient", {}, true},
      {"saliency", "saliency"},
      {"input-x-gradient", "input-x-gradient"},
      {"deconvnet", "deconvnet"},
      {"guided-backprop", "guided-backprop"},
      {"rectgrad", "rectgrad"},
      {"rectgrad_q50", "rectgrad", {{"percentile", "50"}}},
      {"rectgrad_q10", "rectgrad", {{"percentile", "10"}}},
      {"grad-cam", "grad-cam"},
      {"grad-cam_no-relu", "grad-cam", {{"relu", "false"}}},
      // pytorch-grad-cam's maps (tools/make_cam_normalize_references.py).
      {"grad-cam_pytorch-grad-cam", "grad-cam", {{"upsample", "bilinear"}, {"normalize", "minmax"}}},
      {"grad-cam-pp", "grad-cam-pp"},
      // Without noise every copy is x itself, so the averaged G, G², G³ are Grad-CAM++'s.
      {"grad-cam-pp", "smooth-grad-cam-pp", {{"noise-level", "0"}, {"samples", "3"}}},
      {"xgrad-cam", "xgrad-cam"},
      {"layer-cam", "layer-cam"},
      {"hires-cam", "hires-cam"},
      {"cam", "cam"},
      {"eigen-cam", "eigen-cam"},
      {"eigen-grad-cam", "eigen-grad-cam"},
      {"score-cam", "score-cam"},
      {"ablation-cam", "ablation-cam"},
      {"guided-grad-cam", "guided-grad-cam"},
      {"guided-grad-cam_nearest", "guided-grad-cam", {{"upsample", "nearest"}}},
      {"fullgrad", "fullgrad"},
      {"smoothgrad_gradient", "gradient", {}, false, NoiseKind::smoothgrad},
      {"smoothgrad-sq_gradient", "gradient", {}, false, NoiseKind::smoothgrad_sq},
      {"vargrad_gradient", "gradient", {}, false, NoiseKind::vargrad},
      {"smoothgrad_saliency", "saliency", {}, false, NoiseKind::smoothgrad},
      {"smoothgrad-sq_saliency", "saliency", {}, false, NoiseKind::smoothgrad_sq},
      {"vargrad_saliency", "saliency", {}, false, NoiseKind::vargrad},
  };
  return all;
}

// Checked separately, with the fullgrad case.
const std::set<std::string> kAuxiliary = {"fullgrad_terms"};

struct Fixture {
  fs::path dir;
  std::unique_ptr<Model> model;
  std::unique_ptr<ModelFunction> function;
  Tensor input;
  std::vector<int64_t> targets, contrast;
  double tolerance = 1e-4;
};

Fixture load_fixture(const fs::path& dir) {
  Fixture fx;
  fx.dir = dir;
  fx.model = std::make_unique<Model>(load_onnx((dir / "model.onnx").string()));
  // The references explain the model's output; for a model ending in Softmax that is the
  // probability, which gradlens explains with --score prob (its logit is the Softmax's input).
  const bool softmax_output = fx.model->logits_name() != fx.model->graph().outputs[0].name;
  fx.function = std::make_unique<ModelFunction>(*fx.model, softmax_output ? ScoreKind::prob : ScoreKind::logit);
  fx.input = read_npy((dir / "input.npy").string());
  const Tensor target = read_npy((dir / "target.npy").string());
  const Tensor output = read_npy((dir / "output.npy").string());
  const int64_t C = output.dim(1);
  for (int64_t n = 0; n < target.numel(); ++n) {
    fx.targets.push_back(int64_t(target[n]));
    fx.contrast.push_back((int64_t(target[n]) + 1) % C);
  }
  std::ifstream errors(dir / "reference_error.txt");
  double torch_out = 0, torch_grad = 0;
  GL_CHECK(errors >> torch_out >> torch_grad, (dir / "reference_error.txt").string(), ": unreadable");
  fx.tolerance = std::max(1e-4, 5 * torch_grad);
  return fx;
}

Request request_for(const Fixture& fx, const Case& c) {
  Request r;
  r.function = fx.function.get();
  r.input = fx.input;
  r.targets = fx.targets;
  if (c.contrast) r.contrast = fx.contrast;
  for (const auto& [k, v] : c.options) r.options.set(k, v);
  return r;
}

Explanation run_case(const Fixture& fx, const Case& c) {
  const Request r = request_for(fx, c);
  const Method& m = method(c.method);
  if (c.noise == NoiseKind::none) return m.explain(r);
  NoiseOptions noise;
  noise.kind = c.noise;
  noise.noise = read_npy((fx.dir / "noise.npy").string());
  return explain_with_noise(m, r, noise);
}

std::vector<fs::path> fixture_dirs() {
  std::vector<fs::path> dirs;
  for (const auto& entry : fs::directory_iterator(fs::path(GRADLENS_TEST_DATA) / "fixtures"))
    if (fs::exists(entry.path() / "model.onnx")) dirs.push_back(entry.path());
  std::sort(dirs.begin(), dirs.end());
  return dirs;
}

std::set<std::string> reference_names(const fs::path& dir) {
  std::set<std::string> names;
  for (const auto& entry : fs::directory_iterator(dir)) {
    const std::string f = entry.path().filename().string();
    if (f.rfind("ref_", 0) == 0 && f.size() > 8 && f.compare(f.size() - 4, 4, ".npy") == 0)
      names.insert(f.substr(4, f.size() - 8));
  }
  return names;
}

// FullGrad's completeness numbers per example: [f, Σ x⊙∇f, Σ bias terms] against
// ref_fullgrad_terms.npy, each column relative to the size of f.
void check_fullgrad_terms(const Fixture& fx, const Explanation& e, const std::string& model) {
  const Tensor want = read_npy((fx.dir / "ref_fullgrad_terms.npy").string());
  const int64_t N = fx.input.dim(0);
  REQUIRE(want.shape() == (Shape{N, 3}));
  const std::vector<double>* got[3] = {&e.scores, &e.per_example.at("input_term"), &e.per_example.at("bias_term")};
  const std::string names[3] = {"score", "input term", "bias term"};
  double f_norm = 0;
  for (int64_t n = 0; n < N; ++n) f_norm += double(want[n * 3]) * double(want[n * 3]);
  f_norm = std::sqrt(f_norm);
  for (int col = 0; col < 3; ++col) {
    REQUIRE(int64_t(got[col]->size()) == N);
    double err = 0;
    for (int64_t n = 0; n < N; ++n) {
      const double d = (*got[col])[size_t(n)] - double(want[n * 3 + col]);
      err += d * d;
    }
    err = std::sqrt(err) / f_norm;
    MESSAGE(model << " fullgrad " << names[col] << ": error relative to |f| " << err);
    CHECK(err < fx.tolerance);
  }
  for (int64_t n = 0; n < N; ++n)
    CHECK(std::fabs(e.per_example.at("completeness_gap")[size_t(n)]) < 1e-4 * std::fabs(double(want[n * 3])));
}

}  // namespace

TEST_CASE("every attribution method matches its independent PyTorch float64 reference") {
  int checked = 0;
  std::set<std::string> methods_checked;
  for (const fs::path& dir : fixture_dirs()) {
    const std::string model = dir.filename().string();
    const std::set<std::string> present = reference_names(dir);
    if (present.empty()) continue;
    INFO("fixture " << model);
    std::set<std::string> known(kAuxiliary);
    for (const Case& c : cases()) known.insert(c.file);
    for (const std::string& name : present) {
      INFO("reference file ref_" << name << ".npy");
      CHECK_MESSAGE(known.count(name), "no test case reproduces this reference");
    }
    const Fixture fx = load_fixture(dir);
    for (const Case& c : cases()) {
      if (!present.count(c.file)) continue;
      INFO("method " << c.method << " (reference ref_" << c.file << ".npy)");
      const Tensor want = read_npy((dir / ("ref_" + c.file + ".npy")).string());
      Explanation e;
      try {
        e = run_case(fx, c);
      } catch (const Error& err) {
        FAIL_CHECK(std::string(err.what()));
        continue;
      }
      REQUIRE(e.attribution.shape() == want.shape());
      const double err = test::rel_l2(e.attribution, want);
      MESSAGE(model << " " << c.method << (c.file != c.method ? " [" + c.file + "]" : "")
                    << ": rel L2 " << err);
      CHECK(err < fx.tolerance);
      if (c.file == "fullgrad" && present.count("fullgrad_terms")) check_fullgrad_terms(fx, e, model);
      ++checked;
      methods_checked.insert(c.method);
    }
  }
  MESSAGE(checked << " references checked, " << methods_checked.size() << " methods");
  // The committed fixtures carry references for every case in the table.
  std::set<std::string> all_methods;
  for (const Case& c : cases()) all_methods.insert(c.method);
  CHECK(methods_checked == all_methods);
}

TEST_CASE("gradlens explain on the command line writes the reference attribution") {
  const fs::path self = fs::read_symlink("/proc/self/exe");
  const fs::path cli = self.parent_path().parent_path() / "gradlens";
  if (!fs::exists(cli)) {
    MESSAGE("SKIPPED: no CLI binary at " << cli.string());
    return;
  }
  const fs::path dir = fs::path(GRADLENS_TEST_DATA) / "fixtures" / "gap_cnn";
  REQUIRE(fs::exists(dir / "ref_grad-cam-pp.npy"));
  test::ScratchDir scratch;
  const Tensor target = read_npy((dir / "target.npy").string());
  std::string targets;
  for (int64_t n = 0; n < target.numel(); ++n) targets += (n ? "," : "") + std::to_string(int64_t(target[n]));
  const std::string out = scratch / "map.npy", json = scratch / "out.json";
  const std::string cmd = "'" + cli.string() + "' explain '" + (dir / "model.onnx").string() + "' '" +
                          (dir / "input.npy").string() + "' --method grad-cam-pp --target " + targets +
                          " --out-npy '" + out + "' --json > '" + json + "' 2>&1";
  const int status = std::system(cmd.c_str());
  std::ifstream in(json);
  std::stringstream text;
  text << in.rdbuf();
  INFO("command: " << cmd << "\noutput: " << text.str());
  REQUIRE(status == 0);
  CHECK(text.str().find("\"method\":\"grad-cam-pp\"") != std::string::npos);
  CHECK(text.str().find(out) != std::string::npos);  // listed under "written"
  const double err = test::rel_l2(read_npy(out), read_npy((dir / "ref_grad-cam-pp.npy").string()));
  MESSAGE("CLI gap_cnn grad-cam-pp: rel L2 " << err);
  CHECK(err < 1e-4);
}
