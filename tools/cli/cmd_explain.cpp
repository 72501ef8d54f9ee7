// gradlens explain MODEL.onnx INPUT... --method NAME [options] [--out-npy FILE] [--out-png FILE] [--json]
// Without an output flag it prints a readable summary: top-5 classes, target, map statistics.
// INPUT is one .npy/.pb tensor, or image files and folders of images (preprocessed to one batch;
// an unreadable image is reported and skipped, and the exit code is 1 at the end).
#include <algorithm>
#include <cmath>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <set>

#include "attribution/gradients.h"
#include "attribution/method.h"
#include "attribution/noise.h"
#include "engine/error.h"
#include "io/atomic_file.h"
#include "io/image.h"
#include "io/npy.h"
#include "tools/cli/analytic.h"
#include "tools/cli/args.h"
#include "tools/cli/chunk_monitor.h"
#include "tools/cli/commands.h"
#include "tools/cli/images.h"
#include "tools/cli/inputs.h"
#include "tools/cli/json.h"
#include "tools/cli/legend.h"
#include "tools/cli/method_flags.h"
#include "tools/cli/receipt.h"

namespace gradlens::cli {

namespace {
// Flags handled here rather than passed to the method as parameters.
std::set<std::string> own_flags() {
  std::set<std::string> own = {"method", "target", "contrast", "score", "batch", "out-npy", "out-png",
                               "json", "noise", "noise-file", "no-relu", "analytic", "labels", "no-legend"};
  for (const Flag& f : preprocessing_flags()) own.insert(f.name);
  for (const Flag& f : rendering_flags()) own.insert(f.name);
  return own;
}

std::vector<Flag> explain_flags() {
  std::vector<Flag> flags = {
      {"method", "NAME", "attribution method (gradlens methods lists them)", ""},
      {"target", "auto|K|K1,K2,..", "class explained: argmax, one for all, or one per example", "auto"},
      {"contrast", "K|K1,K2,..", "explain y_target − y_contrast (gradient, saliency, input-x-gradient, ...)", ""},
      {"score", "logit|prob|log-prob", "score explained; logit explains the input of a final Softmax", "logit"},
      {"batch", "B", "most rows (examples × samples) per forward/backward (fewer when --max-memory says so)", "32"},
      max_memory_flag(),
      {"out-npy", "FILE", "raw attribution (.npy, float32); extra outputs go to FILE-stem.NAME.npy", ""},
      {"json", "", "print method, parameters, targets, scores, timings and completeness gaps", ""},
      {"noise", noise_kind_names(), "noise wrapper around the method", "none"},
      {"noise-file", "F.npy", "exact noise draws [N, S, ...] for the noise wrapper", ""},
      {"no-relu", "", "CAM methods: keep the signed map", ""},
      {"out-png", "FILE", "heatmap PNG with a colour bar and caption; with several images FILE-stem.K.png for image K", ""},
      {"no-legend", "", "--out-png: the heatmap alone at the input resolution (no colour bar, caption or zoom)", ""},
      {"labels", "FILE|imagenet", "class names for the PNG's caption, one per line; imagenet: the 1000 shipped names", ""},
      {"analytic", "NAME", "explain an analytic model (gradlens axioms --analytic list) instead of MODEL.onnx", ""},
  };
  for (const Flag& f : preprocessing_flags()) flags.push_back(f);
  for (const Flag& f : rendering_flags()) flags.push_back(f);
  // Every method parameter is a flag; the wrapper's own parameters too.
  flags.push_back({"samples", "VALUE", "noise samples per example (noise wrapper and smooth methods)", "50"});
  flags.push_back({"noise-level", "VALUE", "noise σ as a fraction of each example's max − min, in [0, 1]", "0.15"});
  flags.push_back({"noise-std", "VALUE", "noise σ in input units, the same for every example (Captum's stdevs)", ""});
  flags.push_back({"seed", "VALUE", "random seed", "0"});
  append_method_parameter_flags(flags, own_flags());
  return flags;
}

std::string stem(const std::string& path, const std::string& extension = ".npy") {
  return ends_with(path, extension) ? path.substr(0, path.size() - extension.size()) : path;
}


// The checks that need no file read: method, outputs and the kind of input (true: one tensor file).
bool check_explain_arguments(const Args& args) {
  const auto& pos = args.positional();
  GL_CHECK(pos.size() >= 2, "expected MODEL.onnx and an INPUT (see gradlens explain --help)");
  GL_CHECK(args.has("method"), "--method is required (gradlens methods lists them)");
  return is_tensor_input(args, pos);
}

// The method's options from the flags; the noise wrapper's own flags (--samples, --noise-level,
// --seed) may be left over only when --noise is given.
Options explain_options(const Args& args, const MethodInfo& info) {
  const MethodFlags given = method_options(args, explain_flags(), own_flags(), {&info});
  for (const std::string& name : given.unused) {
    const bool noise_flag = name == "samples" || name == "noise-level" || name == "noise-std" || name == "seed";
    GL_CHECK(noise_flag && args.get("noise") != "none", "--", name, " does not apply to method '", info.name, "'",
             noise_flag ? " without --noise" : "");
  }
  GL_CHECK(!given.no_relu_unused, "--no-relu applies to CAM methods, not to '", info.name, "'");
  return given.options[0];
}

NoiseOptions noise_from_args(const Args& args) {
  NoiseOptions noise;
  noise.kind = parse_noise_kind(args.get("noise"));
  if (noise.kind != NoiseKind::none) {
    noise.samples = args.get_int("samples", 1, 1 << 20);
    noise.level = args.get_double("noise-level");
    GL_CHECK(noise.level >= 0 && noise.level <= 1, "--noise-level is a fraction of each example's max − min in [0, 1] ",
             "(0.15 = 15 %), got ", args.get("noise-level"), "; for σ in input units give --noise-std");
    if (args.has("noise-std")) {
      GL_CHECK(!args.has("noise-level"), "--noise-std and --noise-level both set σ: give one");
      noise.std = args.get_double("noise-std");
      GL_CHECK(noise.std >= 0 && std::isfinite(noise.std), "--noise-std must be a finite σ ≥ 0, got ", args.get("noise-std"));
    }
    noise.seed = uint64_t(args.get_int("seed", 0, INT64_MAX));
    if (args.has("noise-file")) noise.noise = load_tensor(args.get("noise-file"));
  } else {
    // The smoothgrad/smoothgrad-sq/vargrad methods draw their own noise; the wrapper takes a file.
    GL_CHECK(!args.has("noise-file"), "--noise-file needs --noise smoothgrad|smoothgrad-sq|vargrad",
             args.has("method") && method(args.get("method")).info().family == "noise"
                 ? str(" (for given draws, run --method gradient --noise ", args.get("method"),
                       ": the same average of signed gradients)")
                 : std::string());
  }
  return noise;
}

struct ExplainOutputs {
  std::vector<std::string> written;
  std::string rendering;  // how the heatmaps were rendered; "" without --out-png
};

// Writes --out-npy (and the extras beside it) and --out-png (one heatmap per example): every file
// or none.
ExplainOutputs write_explain_outputs(const Args& args, const InputBatch& in, const Rendering& rendering,
                                     const MethodInfo& info, const Explanation& e, const Tensor& scores,
                                     const std::vector<std::string>& labels) {
  ExplainOutputs outputs;
  std::vector<std::string>& written = outputs.written;
  AtomicFileSet files;  // every output file or none (io/atomic_file.h)
  if (args.has("out-npy")) {
    const std::string out = args.get("out-npy");
    write_npy(files.stage(out), e.attribution);
    written.push_back(out);
    for (const auto& [name, t] : e.extras) {
      write_npy(files.stage(stem(out) + "." + name + ".npy"), t);
      written.push_back(stem(out) + "." + name + ".npy");
    }
  }
  if (args.has("out-png")) {
    const Tensor& x = in.x;
    GL_CHECK(x.rank() == 4, "--out-png needs image-shaped inputs [N, C, H, W], got ", x.shape().str());
    const AppliedRendering applied = applied_rendering(rendering, info, e, !in.tensor_input);
    outputs.rendering = describe_rendering(applied, rendering);
    const std::string out = args.get("out-png");
    const int64_t N = x.dim(0);
    const ScoreKind kind = parse_score_kind(args.get("score"));
    for (int64_t n = 0; n < N; ++n) {
      const Tensor& display = in.images.display[size_t(n)];
      const std::string file = N == 1 ? out : stem(out, ".png") + "." + std::to_string(n) + ".png";
      Image8 heat = render_heatmap(e, n, applied, rendering, display);
      if (!args.flag("no-legend")) {
        // As a one-cell grid of compare (tools/cli/legend.h): the method above the map, the example's
        // prediction and the class explained left of it, the colour bar with this map's values right.
        const double scale = heatmap_scale(e, n, applied, display);
        Legend legend = scale_legend({&info}, {applied}, rendering, &scale);
        const int64_t C = scores.dim(1), t = e.targets[size_t(n)];
        const std::string name = std::filesystem::path(in.names[size_t(n)]).filename().string();
        std::vector<std::string> lines = {name, str(score_kind_name(kind), " ", fixed(scores[n * C + t], "%.4g"))};
        if (C > 1) {
          lines = row_label(name, labels, score_probabilities(scores, n, kind),
                            predicted_classes(rows(scores, n, n + 1))[0], t);
          lines.push_back(str(score_kind_name(kind), " ", fixed(scores[n * C + t], "%.4g")));
        }
        legend.grid.row_labels = {lines};
        heat = compose_grid({{heat}}, {info.name}, legend.grid);
      }
      write_png(files.stage(file), heat);
      written.push_back(file);
    }
  }
  files.commit();
  return outputs;
}

// --json: what ran, on what, with which parameters, what came out and where, and the receipt.
void print_explain_json(const Args& args, const std::vector<std::string>& argv, const InputBatch& in,
                        const MethodInfo& info, const Request& r, const NoiseOptions& noise, const Explanation& e,
                        const ExplainOutputs& outputs, int64_t rows_forwarded, double ms_scores, double ms_method) {
  const auto& pos = args.positional();
  const ScoreKind kind = parse_score_kind(args.get("score"));
  Json j;
  j.begin_object().key("model").value(pos[0]);
  if (in.tensor_input) {
    j.key("input").value(pos[1]);
  } else {
    j.key("images").array(in.images.files);
    j.key("failed").array(in.images.failures);
    j.key("preprocessing").value(in.prep.describe());
  }
  if (!outputs.rendering.empty()) j.key("rendering").value(outputs.rendering);
  j.key("input_shape").array(in.x.shape().vec());
  j.key("method").value(info.name).key("family").value(info.family).key("paper").value(info.paper);
  j.key("parameters").begin_object();
  for (const Parameter& p : info.parameters) j.key(p.name).scalar(r.options.text(info, p.name));
  j.end_object();
  j.key("score").value(score_kind_name(kind));
  if (!e.notes.count("noise")) j.key("noise").value(noise_kind_name(noise.kind));
  for (const auto& [k, v] : e.notes) j.key(k).scalar(v);
  j.key("targets").array(r.targets);
  if (!r.contrast.empty()) j.key("contrast").array(r.contrast);
  j.key("scores").array(e.scores);
  for (const auto& [k, v] : e.per_example) j.key(k).array(v);
  j.key("attribution_shape").array(e.attribution.shape().vec());
  j.key("forward_passes").value(e.forward_passes).key("backward_passes").value(e.backward_passes);
  // Rows through any forward of the run: the method's and any the CLI ran for targets or scores.
  j.key("forwarded_rows").value(rows_forwarded);
  j.key("time_ms").begin_object().key("targets").value(ms_scores).key("method").value(ms_method).end_object();
  j.key("written").array(outputs.written);
  ReceiptInputs receipt("explain", argv);
  receipt.files = in.images.files, receipt.input = &in.x, receipt.score = score_kind_name(kind);
  receipt.explained = {{&info, &r, noise, &e.attribution}};
  write_receipt(j, receipt);
  j.end_object();
  std::printf("%s\n", j.str().c_str());
}
// What the summary's probabilities are (score_probabilities computes them from the score kind):
// for a model ending in Softmax/LogSoftmax, ModelFunction scores the Softmax's input.
std::string probability_note(const Model& model, ScoreKind kind) {
  const std::string output = model.graph().outputs[0].name, logits = model.logits_name();
  if (kind == ScoreKind::prob) return "the scores are probabilities (--score prob)";
  if (kind == ScoreKind::log_prob) return "exp of the scores, which are log-probabilities (--score log-prob)";
  if (logits != output)
    return "the model's output '" + output + "' already is a probability (it ends in Softmax); shown is the " +
           "softmax of its input '" + logits + "', the logits explained";
  return "softmax of the scores (the model's outputs, taken as logits)";
}

// Without an output flag: per example the top-5 classes, the target and the map's statistics.
void print_explain_summary(const Model& model, const InputBatch& in, const MethodInfo& info, const Request& r,
                           const Tensor& scores, ScoreKind kind, const Explanation& e) {
  const int64_t N = in.x.dim(0), C = scores.dim(1);
  const Tensor& a = e.attribution;
  const int64_t per = a.numel() / N;
  Shape row = a.shape();
  row[0] = 1;
  const std::string note = probability_note(model, kind);
  std::printf("%s on %lld example(s) of shape %s, score %s\n", info.name.c_str(), (long long)N,
              in.x.shape().str().c_str(), score_kind_name(kind));
  if (C > 1) std::printf("probabilities: %s\n", note.c_str());
  const auto gap = e.per_example.find("completeness_gap");
  for (int64_t n = 0; n < N; ++n) {
    std::printf("\nexample %lld", (long long)n);
    if (!in.tensor_input) std::printf(" (%s)", in.names[size_t(n)].c_str());
    const int64_t t = r.targets[size_t(n)];
    std::printf(": target class %lld, score %.6g", (long long)t, double(scores[n * C + t]));
    if (!r.contrast.empty()) std::printf(" (minus class %lld)", (long long)r.contrast[size_t(n)]);
    std::printf("\n");
    if (C > 1) {
      const std::vector<double> p = score_probabilities(scores, n, kind);
      std::printf("  top-%lld:", (long long)std::min<int64_t>(5, C));
      for (const auto& [c, s] : top_k(scores, n, 5))
        std::printf("  %lld: %.4f (%s %.4g)", (long long)c, p[size_t(c)], score_kind_name(kind), double(s));
      std::printf("\n");
    }
    const float* v = a.data() + n * per;
    double lo = v[0], hi = v[0], abs_sum = 0, sum = 0;
    for (int64_t i = 0; i < per; ++i) {
      lo = std::min(lo, double(v[i])), hi = std::max(hi, double(v[i]));
      abs_sum += std::fabs(double(v[i])), sum += v[i];
    }
    std::printf("  map %s: min %.4g, max %.4g, mean |a| %.4g, sum %.6g\n", row.str().c_str(), lo, hi,
                abs_sum / double(per), sum);
    if (gap != e.per_example.end()) {
      const double g = gap->second[size_t(n)], score = e.scores.empty() ? 0.0 : e.scores[size_t(n)];
      std::printf("  completeness gap %.4g", g);
      if (score != 0) std::printf(" (%.3g %% of the score %.6g)", 100 * std::fabs(g) / std::fabs(score), score);
      std::printf("\n");
    }
  }
}
}  // namespace

int run_explain(const std::vector<std::string>& argv) {
  Args args("explain", explain_flags(), "MODEL.onnx INPUT.npy|IMAGE...|FOLDER... --method NAME");
  if (!args.parse_or_usage(argv)) return 0;
  if (args.has("analytic")) {
    GL_CHECK(args.has("method"), "--method is required (gradlens methods lists them)");
    const Method& am = method(args.get("method"));
    return run_explain_analytic(args, am, explain_options(args, am.info()));
  }
  const auto& pos = args.positional();
  const bool tensor_input = check_explain_arguments(args);
  const Method& m = method(args.get("method"));
  const MethodInfo& info = m.info();
  GL_CHECK(info.output.empty() || !args.has("out-png"), "--out-png: method '", info.name, "' produces an ",
           info.output, ", which is not rendered as a heatmap; write it with --out-npy");

  auto model = load_model(pos[0]);
  GL_CHECK(model->graph().inputs.size() == 1, pos[0], ": explain supports single-input models; this one has ",
           model->graph().inputs.size());
  const InputBatch in = load_input_batch(args, *model, tensor_input, "explain");
  // With the legend, small inputs are enlarged as in compare's grid (the smallest factor giving ≥ 96
  // pixels); the bare heatmap (--no-legend) keeps the input's resolution.
  const int64_t H = in.x.rank() == 4 ? in.x.dim(2) : 1, W = in.x.rank() == 4 ? in.x.dim(3) : 1;
  const Rendering rendering = rendering_from_args(
      args, args.flag("no-legend") ? 1 : std::max<int64_t>(1, (96 + std::max(H, W) - 1) / std::max(H, W)));
  GL_CHECK(!args.flag("no-legend") || args.has("out-png"), "--no-legend applies to --out-png");
  GL_CHECK(rendering.overlay != true || !tensor_input, "--overlay needs image inputs (", pos[1], " is a tensor)");
  ModelFunction f(*model, parse_score_kind(args.get("score")));
  const int64_t batch = args.get_int("batch", 1, 1 << 20);

  const bool quiet = args.flag("quiet");
  Progress progress("explain", 1, quiet);
  ChunkMonitor monitor("explain", &progress, quiet);
  // Every chunked pass of the run reports to the monitor, the CLI's own forwards included: the
  // JSON's forwarded_rows counts them all.
  ScopedChunkObserver observing(&monitor);

  // --target auto leaves the targets to the method: its own first forward chooses each example's
  // predicted class (Method::explain) and returns the scores, so no forward runs here for them.
  const auto t0 = std::chrono::steady_clock::now();
  const int64_t N = in.x.dim(0), classes = model_classes(*model, in.x.shape());
  Tensor scores;
  if (args.get("contrast") == "auto") scores = evaluate_scores(f, in.x, batch);  // the contrast is the argmax itself
  Request r;
  r.function = &f;
  r.input = in.x;
  r.batch = batch;
  r.targets = parse_classes(args.get("target"), N, classes, "target");
  if (args.has("contrast"))
    r.contrast = scores.empty() ? parse_classes(args.get("contrast"), N, classes, "contrast")
                                : parse_targets(args.get("contrast"), scores, "contrast");
  if (args.get("contrast") == "auto" && r.targets.empty()) r.targets = predicted_classes(scores);
  r.options = explain_options(args, info);
  const NoiseOptions noise = noise_from_args(args);
  std::vector<std::string> labels;
  if (args.has("labels")) {
    GL_CHECK(classes > 0, "--labels: the model's number of classes cannot be inferred from its shapes");
    labels = read_labels(args.get("labels"), classes);
  }
  const auto t1 = std::chrono::steady_clock::now();
  std::optional<ExpectedPasses> expected = expected_passes(info, r);
  if (expected && noise.kind != NoiseKind::none) {  // the method on every noisy copy
    const int64_t S = noise.noise.empty() ? noise.samples : noise.noise.dim(1);
    expected->forward_rows *= S, expected->backward_rows *= S;
    expected->values += (expected->values.empty() ? "" : ", ") + std::string("noise samples = ") + std::to_string(S);
  }
  monitor.start_method(info.name, expected, info.cost);
  Explanation e = explain_with_noise(m, r, noise);
  monitor.add_notes(e);
  progress.step(info.name);
  const auto t2 = std::chrono::steady_clock::now();
  r.targets = e.targets;  // as explained, for the JSON, the summary and the receipt
  if (!e.logits.empty()) scores = e.logits;
  // Only when no forward of the input itself ran (explicit targets, a method whose passes never see
  // the input, such as integrated gradients'): the summary and the PNG caption need the scores.
  const bool summary = !args.has("out-npy") && !args.has("out-png") && !args.flag("json");
  if (scores.empty() && (summary || args.has("out-png"))) scores = evaluate_scores(f, in.x, batch);
  const auto t3 = std::chrono::steady_clock::now();

  const ExplainOutputs outputs = write_explain_outputs(args, in, rendering, info, e, scores, labels);
  if (summary) print_explain_summary(*model, in, info, r, scores, parse_score_kind(args.get("score")), e);
  if (args.flag("json"))
    print_explain_json(args, argv, in, info, r, noise, e, outputs, monitor.rows_forwarded(),
                       std::chrono::duration<double, std::milli>((t1 - t0) + (t3 - t2)).count(),
                       std::chrono::duration<double, std::milli>(t2 - t1).count());
  return in.images.failures.empty() ? 0 : 1;
}

}  // namespace gradlens::cli
