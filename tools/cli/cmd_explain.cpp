// gradlens explain MODEL.onnx INPUT --method NAME [options] --out-npy FILE [--json]
#include <chrono>
#include <cstdio>
#include <set>

#include "attribution/gradients.h"
#include "attribution/method.h"
#include "attribution/noise.h"
#include "engine/error.h"
#include "io/npy.h"
#include "tools/cli/args.h"
#include "tools/cli/commands.h"
#include "tools/cli/inputs.h"
#include "tools/cli/json.h"

namespace gradlens::cli {

namespace {
// Flags handled here rather than passed to the method as parameters.
const std::set<std::string> kOwnFlags = {"method", "target", "contrast", "score", "batch", "out-npy",
                                         "json", "noise", "noise-file", "no-relu"};

std::vector<Flag> explain_flags() {
  std::vector<Flag> flags = {
      {"method", "NAME", "attribution method (gradlens methods lists them)", ""},
      {"target", "auto|K|K1,K2,..", "class explained: argmax, one for all, or one per example", "auto"},
      {"contrast", "K|K1,K2,..", "explain y_target − y_contrast (gradient, saliency, input-x-gradient, ...)", ""},
      {"score", "logit|prob|log-prob", "score explained; logit explains the input of a final Softmax", "logit"},
      {"batch", "B", "rows (examples × samples) per forward/backward", "32"},
      {"out-npy", "FILE", "raw attribution (.npy, float32); extra outputs go to FILE-stem.NAME.npy", ""},
      {"json", "", "print method, parameters, targets, scores, timings and completeness gaps", ""},
      {"noise", "none|smoothgrad|smoothgrad-sq|vargrad", "noise wrapper around the method", "none"},
      {"noise-file", "F.npy", "exact noise draws [N, S, ...] for the noise wrapper", ""},
      {"no-relu", "", "CAM methods: keep the signed map", ""},
  };
  // Every method parameter is a flag; the wrapper's own parameters too.
  std::set<std::string> seen(kOwnFlags.begin(), kOwnFlags.end());
  auto add = [&](const std::string& name, const std::string& fallback, const std::string& help) {
    if (seen.insert(name).second) flags.push_back({name, "VALUE", help, fallback});
  };
  add("samples", "50", "noise samples per example (noise wrapper and smooth methods)");
  add("noise-level", "0.15", "noise σ as a fraction of each example's max − min");
  add("seed", "0", "random seed");
  for (const Method* m : methods())
    for (const Parameter& p : m->info().parameters)
      if (p.name != "relu") add(p.name, "", p.help + " [" + m->info().name + ": " + p.fallback + "]");
  return flags;
}

std::string stem(const std::string& path) {
  return ends_with(path, ".npy") ? path.substr(0, path.size() - 4) : path;
}
}  // namespace

int run_explain(const std::vector<std::string>& argv) {
  Args args("explain", explain_flags(), "MODEL.onnx INPUT.npy --method NAME");
  args.parse(argv);
  if (args.help_requested()) {
    std::printf("%s", args.usage().c_str());
    return 0;
  }
  const auto& pos = args.positional();
  GL_CHECK(pos.size() == 2, "expected MODEL.onnx and one INPUT (see gradlens explain --help)");
  GL_CHECK(args.has("method"), "--method is required (gradlens methods lists them)");
  GL_CHECK(args.has("out-npy") || args.flag("json"), "nothing to do: give --out-npy FILE and/or --json");
  const Method& m = method(args.get("method"));
  const MethodInfo& info = m.info();

  auto model = load_model(pos[0]);
  GL_CHECK(model->graph().inputs.size() == 1, pos[0], ": explain supports single-input models; this one has ",
           model->graph().inputs.size());
  const Tensor x = with_batch_axis(*model, 0, load_tensor(pos[1]), pos[1]);
  const ScoreKind kind = parse_score_kind(args.get("score"));
  ModelFunction f(*model, kind);
  const int64_t batch = args.get_int("batch", 1, 1 << 20);

  const auto t0 = std::chrono::steady_clock::now();
  const Tensor scores = evaluate_scores(f, x, batch);
  Request r;
  r.function = &f;
  r.input = x;
  r.batch = batch;
  r.targets = parse_targets(args.get("target"), scores, "target");
  if (args.has("contrast")) r.contrast = parse_targets(args.get("contrast"), scores, "contrast");
  std::set<std::string> declared;
  for (const Parameter& p : info.parameters) declared.insert(p.name);
  for (const Flag& fl : explain_flags()) {
    if (kOwnFlags.count(fl.name) || !args.has(fl.name)) continue;
    if (declared.count(fl.name)) {
      r.options.set(fl.name, args.get(fl.name));
      continue;
    }
    const bool noise_flag = fl.name == "samples" || fl.name == "noise-level" || fl.name == "seed";
    GL_CHECK(noise_flag && args.get("noise") != "none", "--", fl.name, " does not apply to method '",
             info.name, "'", noise_flag ? " without --noise" : "");
  }
  if (args.flag("no-relu")) {
    GL_CHECK(declared.count("relu"), "--no-relu applies to CAM methods, not to '", info.name, "'");
    r.options.set("relu", "false");
  }
  NoiseOptions noise;
  noise.kind = parse_noise_kind(args.get("noise"));
  if (noise.kind != NoiseKind::none) {
    noise.samples = args.get_int("samples", 1, 1 << 20);
    noise.level = args.get_double("noise-level");
    GL_CHECK(noise.level >= 0, "--noise-level must be non-negative");
    noise.seed = uint64_t(args.get_int("seed", 0, INT64_MAX));
    if (args.has("noise-file")) noise.noise = load_tensor(args.get("noise-file"));
  } else {
    GL_CHECK(!args.has("noise-file"), "--noise-file needs --noise smoothgrad|smoothgrad-sq|vargrad");
  }
  const auto t1 = std::chrono::steady_clock::now();
  Explanation e = explain_with_noise(m, r, noise);
  const auto t2 = std::chrono::steady_clock::now();

  std::vector<std::string> written;
  if (args.has("out-npy")) {
    const std::string out = args.get("out-npy");
    write_npy(out, e.attribution);
    written.push_back(out);
    for (const auto& [name, t] : e.extras) {
      write_npy(stem(out) + "." + name + ".npy", t);
      written.push_back(stem(out) + "." + name + ".npy");
    }
  }
  if (args.flag("json")) {
    const double ms_scores = std::chrono::duration<double, std::milli>(t1 - t0).count();
    const double ms_method = std::chrono::duration<double, std::milli>(t2 - t1).count();
    Json j;
    j.begin_object().key("model").value(pos[0]).key("input").value(pos[1]);
    j.key("input_shape").array(x.shape().vec());
    j.key("method").value(info.name).key("family").value(info.family).key("paper").value(info.paper);
    j.key("parameters").begin_object();
    for (const Parameter& p : info.parameters) j.key(p.name).value(r.options.text(info, p.name));
    j.end_object();
    j.key("score").value(score_kind_name(kind));
    j.key("noise").value(noise_kind_name(noise.kind));
    for (const auto& [k, v] : e.notes) j.key(k).value(v);
    j.key("targets").array(r.targets);
    if (!r.contrast.empty()) j.key("contrast").array(r.contrast);
    j.key("scores").array(e.scores);
    for (const auto& [k, v] : e.per_example) j.key(k).array(v);
    j.key("attribution_shape").array(e.attribution.shape().vec());
    j.key("forward_passes").value(e.forward_passes).key("backward_passes").value(e.backward_passes);
    j.key("time_ms").begin_object().key("targets").value(ms_scores).key("method").value(ms_method).end_object();
    j.key("written").array(written);
    j.end_object();
    std::printf("%s\n", j.str().c_str());
  }
  return 0;
}

}  // namespace gradlens::cli
