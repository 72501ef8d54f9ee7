// Models exported with a fixed batch (issue #16): torch.onnx.export without dynamic_axes declares
// the example's batch B and bakes it into shape constants (a transformer's attention Reshape to
// [T, B·heads, d]). Model::fixed_batch() finds B and every chunked pass runs chunks of exactly B
// rows, padding the last one; shapes that depend on values computed at run time (Slice bounds,
// Reshape targets from Shape → Gather → Concat) come from a forward pass. Checked: every
// registered method and the three noise wrappers give on the fixed export what they give on the
// dynamic export of the same weights (tools/make_fixed_batch_fixtures.py), the forward and input
// gradient match PyTorch's, and the results do not depend on the thread count.
#include <omp.h>

#include <filesystem>
#include <map>
#include <set>

#include "attribution/cam.h"
#include "attribution/function.h"
#include "attribution/gradients.h"
#include "attribution/method.h"
#include "attribution/noise.h"
#include "cli_runner.h"
#include "io/npy.h"
#include "io/onnx.h"
#include "layers/model.h"
#include "method_testing.h"
#include "scratch_dir.h"
#include "support.h"

using namespace gradlens;
using gradlens::test::contains;
using gradlens::test::rel_l2;
namespace fs = std::filesystem;

namespace {

fs::path fixed_batch_data(const std::string& file) { return fs::path(GRADLENS_TEST_DATA) / "fixed_batch" / file; }

// A model's two exports with the PyTorch data of tools/make_fixed_batch_fixtures.py.
struct Exports {
  Model fixed, dynamic;
  Tensor input, output, grad;
  std::vector<int64_t> targets;
};

Exports load_exports(const std::string& name) {
  const fs::path fixed = name == "transformer_tiny" ? gradlens::test::fixture(name) / "model.onnx"
                                                    : fixed_batch_data(name + "_fixed.onnx");
  Exports e{Model(load_onnx(fixed.string())), Model(load_onnx(fixed_batch_data(name + "_dynamic.onnx").string())),
            read_npy(fixed_batch_data(name + "_input.npy").string()),
            read_npy(fixed_batch_data(name + "_output.npy").string()),
            read_npy(fixed_batch_data(name + "_grad.npy").string()),
            {}};
  const Tensor t = read_npy(fixed_batch_data(name + "_target.npy").string());
  for (int64_t i = 0; i < t.numel(); ++i) e.targets.push_back(int64_t(t[i]));
  return e;
}

// Small values for the parameters that set a method's cost (as test_method_matrix).
const std::map<std::string, std::string> kCheap = {
    {"steps", "4"},         {"samples", "3"},   {"attack-steps", "3"}, {"bisections", "3"},
    {"descent-steps", "2"}, {"max-iter", "3"},  {"classes", "2"},      {"points", "3"},
    {"features", "0,1"},    {"radii", "0.1"},   {"seed", "3"},
};

// The files some methods need: expected gradients' baselines (two seeded examples) and IDG's
// groups (four contiguous blocks of an example's elements).
struct MethodFiles {
  gradlens::test::ScratchDir dir;
  std::string baselines = (dir.path() / "baselines.npy").string(), groups = (dir.path() / "groups.npy").string();
  explicit MethodFiles(const Tensor& x) {
    Shape example = x.shape();
    example[0] = 2;
    write_npy(baselines, gradlens::test::random_tensor(example, 41));
    example[0] = 1;
    const int64_t per = x.numel() / x.dim(0);
    std::vector<int64_t> ids;
    for (int64_t i = 0; i < per; ++i) ids.push_back(4 * i / per);
    write_npy_int64(groups, example, ids);
  }
};

Request cheap_request(const Method& m, const Function& f, const Exports& e, int64_t batch,
                      const MethodFiles* files = nullptr) {
  Request r = gradlens::test::request(f, e.input, e.targets, batch);
  for (const Parameter& p : m.info().parameters) {
    auto cheap = kCheap.find(p.name);
    if (cheap != kCheap.end()) r.options.set(p.name, cheap->second);
    if (files && p.name == "baselines") r.options.set(p.name, files->baselines);
    if (files && p.name == "groups") r.options.set(p.name, files->groups);
  }
  if (m.info().name == "idg") r.options.set("features", "false");
  return r;
}

struct Outcome {
  Explanation result;
  std::string error;  // a one-line refusal, "" when the method ran
};

template <class Run>
Outcome outcome(Run&& run) {
  Outcome o;
  try {
    o.result = run();
  } catch (const Error& err) {
    o.error = err.what();
    if (o.error.empty()) o.error = "(empty error)";
  }
  return o;
}

// Every registered method, then gradient under each noise wrapper, on the model's two exports.
// Returns the names that ran on both; any method that ran on one export runs on the other and
// gives its attribution and scores to float rounding (rows batched differently: 1e-5).
std::set<std::string> compare_every_method(const std::string& name, std::set<std::string>* refused) {
  const Exports e = load_exports(name);
  const MethodFiles files(e.input);
  ModelFunction fixed(e.fixed), dynamic(e.dynamic);
  std::set<std::string> ran;
  double worst = 0;
  auto compare = [&](const std::string& label, const Outcome& a, const Outcome& b) {
    CAPTURE(name);
    CAPTURE(label);
    CAPTURE(a.error);
    CAPTURE(b.error);
    CHECK(a.error.empty() == b.error.empty());
    if (!a.error.empty() || !b.error.empty()) {
      CHECK(a.error.find('\n') == std::string::npos);
      refused->insert(label);
      return;
    }
    ran.insert(label);
    REQUIRE(a.result.attribution.shape() == b.result.attribution.shape());
    CHECK(a.result.attribution.numel() > 0);
    const double error = rel_l2(a.result.attribution, b.result.attribution);
    CHECK(error < 1e-5);
    worst = std::max(worst, error);
    REQUIRE(a.result.scores.size() == b.result.scores.size());
    for (size_t n = 0; n < a.result.scores.size(); ++n)
      CHECK(a.result.scores[n] == doctest::Approx(b.result.scores[n]).epsilon(1e-5));
  };
  for (const Method* m : methods()) {
    const Outcome a = outcome([&] { return m->explain(cheap_request(*m, fixed, e, 32, &files)); });
    Outcome b = outcome([&] { return m->explain(cheap_request(*m, dynamic, e, 32, &files)); });
    // FullGrad captures a transformer's time-major bias maps one example per chunk: the ViT fixed
    // to a batch of 1 does that at any --batch, its dynamic export at --batch 1.
    if (a.error.empty() && contains(b.error, "--batch 1"))
      b = outcome([&] { return m->explain(cheap_request(*m, dynamic, e, 1, &files)); });
    compare(m->info().name, a, b);
  }
  for (NoiseKind kind : {NoiseKind::smoothgrad, NoiseKind::smoothgrad_sq, NoiseKind::vargrad}) {
    NoiseOptions noise;
    noise.kind = kind;
    noise.samples = 5;
    noise.seed = 11;
    const Method& gradient = method("gradient");
    const Outcome a = outcome([&] { return explain_with_noise(gradient, cheap_request(gradient, fixed, e, 32), noise); });
    const Outcome b = outcome([&] { return explain_with_noise(gradient, cheap_request(gradient, dynamic, e, 32), noise); });
    compare(std::string(noise_kind_name(kind)) + "(gradient)", a, b);
  }
  MESSAGE(name << ": largest relative L2 difference fixed vs dynamic export " << worst);
  return ran;
}

// The methods of issue #16 that stopped on transformer_tiny ("cannot reshape [8,32,16] ...").
const std::vector<std::string> kMultiRowMethods = {
    "integrated-gradients", "idgi", "blur-ig", "split-ig", "guided-ig", "agi", "big", "neflag", "integrated-hessians",
    "smoothgrad(gradient)", "smoothgrad-sq(gradient)", "vargrad(gradient)"};

}  // namespace

TEST_CASE("fixed batch: found on the exports without dynamic axes only") {
  const Exports t = load_exports("transformer_tiny"), v = load_exports("vit_tiny");
  CHECK(t.fixed.fixed_batch() == 2);
  CHECK(t.dynamic.fixed_batch() == 0);
  CHECK(v.fixed.fixed_batch() == 1);
  CHECK(v.dynamic.fixed_batch() == 0);
  // Static declared batches whose graphs compute shapes from the input (Flatten, Gemm) run any batch.
  for (const char* name : {"mlp", "small_cnn", "resnet_tiny", "mobilenet_tiny", "dilated_grouped", "embedding_mlp"}) {
    CAPTURE(name);
    const Model m(load_onnx((gradlens::test::fixture(name) / "model.onnx").string()));
    CHECK(m.graph().inputs[0].dims[0] == 2);
    CHECK(m.fixed_batch() == 0);
  }
}

TEST_CASE("fixed batch: 3 rows in padded chunks of the declared batch give PyTorch's scores and gradients") {
  for (const char* name : {"transformer_tiny", "vit_tiny"}) {
    CAPTURE(name);
    const Exports e = load_exports(name);
    // The graph itself refuses 3 rows: the batch is baked into its attention Reshape.
    Tape tape;
    const std::string refusal = gradlens::test::error_of([&] { e.fixed.forward(tape, e.input); });
    CHECK((contains(refusal, "cannot reshape") || contains(refusal, "cannot be broadcast")));
    for (const Model* model : {&e.fixed, &e.dynamic}) {
      ModelFunction f(*model);
      for (int64_t batch : {1, 2, 32}) {
        CAPTURE(batch);
        PassOptions options;
        options.batch = batch;
        const PassResult p = gradient_pass(f, e.input, e.targets, {}, options);
        CHECK(rel_l2(p.logits, e.output) < 1e-5);
        CHECK(rel_l2(p.input_grad, e.grad) < 1e-4);
        CHECK(rel_l2(evaluate_scores(f, e.input, batch), e.output) < 1e-5);
      }
    }
  }
}

TEST_CASE("fixed batch: every method on transformer_tiny as on its dynamic-batch export") {
  std::set<std::string> refused;
  const std::set<std::string> ran = compare_every_method("transformer_tiny", &refused);
  for (const std::string& m : kMultiRowMethods) {
    CAPTURE(m);
    CHECK(ran.count(m) == 1);
  }
  // Refused on both exports alike: the CAM family (no 4-D activation in a token model) and
  // FullGrad, whose bias maps include the attention's [T·N, d] tensors, which have no batch axis to
  // split: the dynamic export captures them with --batch 1, the fixed one cannot run fewer than 2
  // examples per chunk and says so.
  for (const std::string& m : refused) {
    CAPTURE(m);
    const Method* method = find_method(m);
    REQUIRE(method);
    CHECK((method->info().family == "cam" || m == "fullgrad"));
  }
  CHECK(refused.count("fullgrad") == 1);
  {
    const Exports e = load_exports("transformer_tiny");
    ModelFunction f(e.fixed);
    const std::string err = gradlens::test::error_of([&] { method("fullgrad").explain(cheap_request(method("fullgrad"), f, e, 1)); });
    CHECK(contains(err, "fixed to a batch of 2"));
  }
  MESSAGE(ran.size() << " methods agree, " << refused.size() << " refused on both exports");
}

TEST_CASE("fixed batch: every method on a ViT exported with a batch of 1 as on its dynamic-batch export") {
  std::set<std::string> refused;
  const std::set<std::string> ran = compare_every_method("vit_tiny", &refused);
  for (const std::string& m : kMultiRowMethods) {
    CAPTURE(m);
    CHECK(ran.count(m) == 1);
  }
  // The CAM family runs on the patch embedding's [N, d, 4, 4] output.
  for (const char* m : {"grad-cam", "grad-cam-pp", "xgrad-cam", "layer-cam", "hires-cam", "eigen-cam", "score-cam",
                        "ablation-cam", "fullgrad", "idg", "expected-gradients"}) {
    CAPTURE(m);
    CHECK(ran.count(m) == 1);
  }
  // Only CAM, which needs a global-average-pooling head, is refused (on both exports alike).
  CHECK(refused == std::set<std::string>{"cam"});
  MESSAGE(ran.size() << " methods agree, " << refused.size() << " refused on both exports");
}

TEST_CASE("fixed batch: identical results for 1 and 2 threads") {
  const Exports t = load_exports("transformer_tiny"), v = load_exports("vit_tiny");
  ModelFunction ft(t.fixed), fv(v.fixed);
  const int saved = omp_get_max_threads();
  std::vector<Tensor> runs;
  for (int threads : {1, 2}) {
    omp_set_num_threads(threads);
    for (const char* name : {"integrated-gradients", "integrated-hessians", "guided-ig"})
      runs.push_back(method(name).explain(cheap_request(method(name), ft, t, 32)).attribution);
    runs.push_back(method("grad-cam").explain(cheap_request(method("grad-cam"), fv, v, 32)).attribution);
    NoiseOptions noise;
    noise.samples = 5;
    noise.seed = 2;
    runs.push_back(explain_with_noise(method("gradient"), cheap_request(method("gradient"), fv, v, 32), noise).attribution);
  }
  omp_set_num_threads(saved);
  const size_t per = runs.size() / 2;
  for (size_t i = 0; i < per; ++i) {
    CAPTURE(i);
    CHECK(gradlens::test::bitwise_equal(runs[i], runs[i + per]));
  }
}

TEST_CASE("shapes computed at run time: inferred by a forward pass, the CAM layer found") {
  const Exports v = load_exports("vit_tiny"), t = load_exports("transformer_tiny");
  // The dynamic ViT's patch flattening is a Reshape whose target comes from Shape → Gather → Concat.
  bool found = false;
  for (const auto& [name, shape] : v.dynamic.infer_shapes({Shape{5, 3, 16, 16}}))
    if (name == "/Reshape_output_0") {
      CHECK(shape == Shape{5, 16, 16});
      found = true;
    }
  CHECK(found);
  CHECK(default_cam_layer(v.dynamic, Shape{5, 3, 16, 16}) == "/patch/Conv_output_0");
  // Fixed to a batch of 1: the layer search runs at that batch whatever the request's.
  CHECK(default_cam_layer(v.fixed, Shape{5, 3, 16, 16}) == "/patch/Conv_output_0");
  // transformer_tiny: the Slice bounds are computed at run time; at its batch the shapes are
  // known, at another one the error names the node that cannot take it.
  const auto shapes = t.fixed.infer_shapes({Shape{2, 8, 16}});
  CHECK(shapes.back().second == Shape{2, 4});
  const std::string err = gradlens::test::error_of([&] { t.fixed.infer_shapes({Shape{3, 8, 16}}); });
  CHECK(contains(err, "node '/layers.0/self_attn/Reshape'"));
  CHECK(contains(err, "cannot reshape"));
  // A token model has no 4-D activation: the CAM family says so instead of failing on a Slice.
  CHECK(contains(gradlens::test::error_of([&] { default_cam_layer(t.fixed, Shape{3, 8, 16}); }), "no 4-D activation"));
}

TEST_CASE("fixed batch on the command line: info names it, explain runs integrated gradients in chunks of it") {
  if (!gradlens::test::have_cli()) return;
  gradlens::test::ScratchDir scratch;
  const std::string model = (gradlens::test::fixture("transformer_tiny") / "model.onnx").string();
  const std::string input = fixed_batch_data("transformer_tiny_input.npy").string();
  const auto info = gradlens::test::run_cli(scratch, {"info", model});
  CHECK(info.exit_code == 0);
  CHECK(contains(info.out, "batch      fixed to 2"));
  CHECK(contains(gradlens::test::run_cli(scratch, {"info", model, "--json"}).out, "\"fixed_batch\":2"));
  CHECK(contains(gradlens::test::run_cli(scratch, {"info", fixed_batch_data("transformer_tiny_dynamic.onnx").string(), "--json"}).out,
                 "\"fixed_batch\":0"));
  // The failing run: 3 examples × 8 steps through a graph that takes 2 rows.
  const auto ig = gradlens::test::run_cli(scratch, {"explain", model, input, "--method", "integrated-gradients",
                                                    "--steps", "8", "--json", "--quiet"});
  INFO("stderr: " << ig.err);
  CHECK(ig.exit_code == 0);
  CHECK(contains(ig.out, "\"chunk_rows\":2"));
}
