// gradlens compare MODEL.onnx IMAGE...|INPUT.npy --methods a,b,c --out DIR: runs several methods on
// a batch of images (or one [N, C, H, W] tensor file, loaded as explain does) and writes DIR/grid.png (rows = images, columns = the image and one heatmap per
// method, titled), DIR/<image>.<method>.npy (each example's raw attribution [1, ...]; extras as
// <image>.<method>.<extra>.npy) and DIR/report.html (self-contained: top-5 predictions, each
// method's parameters, time and completeness gap, every image inline). All files are written
// atomically. An unreadable image is reported and skipped; the exit code is then 1.
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <sstream>

#include "attribution/gradients.h"
#include "attribution/method.h"
#include "engine/error.h"
#include "io/atomic_file.h"
#include "io/canvas.h"
#include "io/image.h"
#include "io/npy.h"
#include "tools/cli/args.h"
#include "tools/cli/chunk_monitor.h"
#include "tools/cli/commands.h"
#include "tools/cli/images.h"
#include "tools/cli/inputs.h"
#include "tools/cli/json.h"
#include "tools/cli/legend.h"
#include "tools/cli/receipt.h"
#include "tools/cli/method_flags.h"
#include "tools/cli/report.h"

namespace gradlens::cli {

namespace {
std::vector<Flag> compare_flags() {
  std::vector<Flag> flags = {
      {"methods", "A,B,..", "attribution methods, one column each (gradlens methods lists them)", ""},
      {"out", "DIR", "output folder (created if missing)", ""},
      {"labels", "FILE|imagenet", "class names, one per line (line K names class K); imagenet: the 1000 shipped names", ""},
      {"target", "auto|K|K1,K2,..", "class explained: argmax, one for all, or one per image", "auto"},
      {"truth", "K|K1,K2,..", "true classes (one for all, or one per image), shown beside the predictions", ""},
      {"score", "logit|prob|log-prob", "score explained", "logit"},
      {"batch", "B", "most rows per forward/backward (fewer when --max-memory says so)", "32"},
      max_memory_flag(),
      {"no-relu", "", "CAM methods: keep the signed map", ""},
      {"json", "", "print a summary (images, preprocessing, methods, times, files)", ""},
  };
  for (const Flag& f : preprocessing_flags()) flags.push_back(f);
  for (const Flag& f : rendering_flags()) flags.push_back(f);
  std::set<std::string> own;
  for (const Flag& f : flags) own.insert(f.name);
  append_method_parameter_flags(flags, own);
  return flags;
}

std::vector<std::string> split_list(const std::string& text) {
  std::vector<std::string> items;
  std::stringstream ss(text);
  std::string item;
  while (std::getline(ss, item, ','))
    if (!item.empty()) items.push_back(item);
  return items;
}

// File-name stems of the images, made unique with "-K" where two images share a name.
std::vector<std::string> unique_stems(const std::vector<std::string>& files) {
  std::vector<std::string> stems;
  std::map<std::string, int> count;
  for (const std::string& f : files) ++count[std::filesystem::path(f).stem().string()];
  for (size_t i = 0; i < files.size(); ++i) {
    std::string s = std::filesystem::path(files[i]).stem().string();
    stems.push_back(count[s] > 1 ? s + "-" + std::to_string(i) : s);
  }
  return stems;
}

// File-name stems of a tensor file's examples: "x" for one, "x-0", "x-1", ... for several.
std::vector<std::string> example_stems(const std::string& file, int64_t N) {
  const std::string stem = std::filesystem::path(file).stem().string();
  std::vector<std::string> stems;
  for (int64_t n = 0; n < N; ++n) stems.push_back(N == 1 ? stem : stem + "-" + std::to_string(n));
  return stems;
}

Image8 rgb(const Image8& image) {
  if (image.channels == 3) return image;
  Image8 out(image.height, image.width, 3);
  for (int64_t i = 0; i < image.height * image.width; ++i)
    for (int c = 0; c < 3; ++c) out.pixels[size_t(i * 3 + c)] = image.pixels[size_t(i * image.channels)];
  return out;
}
}  // namespace

int run_compare(const std::vector<std::string>& argv) {
  const std::vector<Flag> flags = compare_flags();
  Args args("compare", flags, "MODEL.onnx IMAGE...|FOLDER...|INPUT.npy --methods A,B,.. --out DIR");
  if (!args.parse_or_usage(argv)) return 0;
  const auto& pos = args.positional();
  GL_CHECK(pos.size() >= 2, "expected MODEL.onnx and at least one image or one .npy/.pb tensor (see gradlens compare --help)");
  GL_CHECK(args.has("methods"), "--methods is required (gradlens methods lists them)");
  GL_CHECK(args.has("out"), "--out DIR is required");
  std::vector<const Method*> chosen;
  for (const std::string& name : split_list(args.get("methods"))) chosen.push_back(&method(name));
  for (const Method* m : chosen)
    GL_CHECK(m->info().output.empty(), "method '", m->info().name, "' produces an ", m->info().output,
             ", which compare cannot render as a heatmap; use gradlens explain --out-npy");
  GL_CHECK(!chosen.empty(), "--methods is empty");
  const bool quiet = args.flag("quiet");
  const bool tensor_input = is_tensor_input(args, pos);

  // Method parameters: each given flag goes to every chosen method that declares it.
  std::set<std::string> own = {"methods", "out", "labels", "target", "truth", "score", "batch", "no-relu", "json"};
  for (const Flag& f : preprocessing_flags()) own.insert(f.name);
  for (const Flag& f : rendering_flags()) own.insert(f.name);
  std::vector<const MethodInfo*> infos;
  for (const Method* m : chosen) infos.push_back(&m->info());
  const MethodFlags given = method_options(args, flags, own, infos);
  GL_CHECK(given.unused.empty(), "--", given.unused.empty() ? "" : given.unused[0], " applies to none of the methods given");
  GL_CHECK(!given.no_relu_unused, "--no-relu applies to CAM methods, none of which is given");
  const std::vector<Options>& options = given.options;

  auto model = load_model(pos[0]);
  const InputBatch in = load_input_batch(args, *model, tensor_input, "compare");
  const ImageBatch& images = in.images;
  const Tensor& x = in.x;
  GL_CHECK(x.rank() == 4 && x.numel() > 0, pos[1], ": compare renders heatmaps of [N, C, H, W] inputs, got ",
           x.shape().str(), "; use gradlens explain --out-npy");
  GL_CHECK(!tensor_input || !args.flag("overlay"), "--overlay needs image inputs (", pos[1], " is a tensor)");
  const int64_t N = x.dim(0), H = x.dim(2), W = x.dim(3);
  const Rendering rendering = rendering_from_args(args, std::max<int64_t>(1, (96 + std::max(H, W) - 1) / std::max(H, W)));
  const ScoreKind kind = parse_score_kind(args.get("score"));
  ModelFunction f(*model, kind);
  const int64_t batch = args.get_int("batch", 1, 1 << 20);
  // --target auto: the first method's own forward chooses the predicted classes and gives the
  // scores (Method::explain); the methods after it explain those classes. No forward runs here
  // unless no method ran the input itself and the report still needs its scores.
  int64_t classes = model_classes(*model, x.shape());
  std::vector<int64_t> targets = parse_classes(args.get("target"), N, classes, "target");
  GL_CHECK(args.get("truth") != "auto", "--truth takes class indices, not auto");
  std::vector<int64_t> truth;
  if (args.has("truth")) truth = parse_classes(args.get("truth"), N, classes, "truth");
  std::vector<std::string> labels;
  if (args.has("labels") && classes > 0) labels = read_labels(args.get("labels"), classes);
  Tensor scores;

  const std::string dir = args.get("out");
  AtomicDirectory staged(dir);  // every file or none (io/atomic_file.h)
  const std::vector<std::string> stems = tensor_input ? example_stems(pos[1], N) : unique_stems(images.files);

  Progress progress("compare", int64_t(chosen.size()) + 1, quiet);
  std::vector<Explanation> explanations;
  std::vector<double> times;
  std::vector<std::string> written;
  std::vector<Request> requests;  // as run, for the receipt
  ChunkMonitor monitor("compare", &progress, quiet);
  for (size_t m = 0; m < chosen.size(); ++m) {
    Request r;
    r.function = &f;
    r.input = x;
    r.batch = batch;
    r.targets = targets;
    r.options = options[m];
    const auto t0 = std::chrono::steady_clock::now();
    monitor.start_method(chosen[m]->info().name, expected_passes(chosen[m]->info(), r), chosen[m]->info().cost);
    {
      ScopedChunkObserver observing(&monitor);
      explanations.push_back(chosen[m]->explain(r));
    }
    monitor.add_notes(explanations.back());
    if (targets.empty()) targets = explanations.back().targets;
    if (scores.empty()) scores = explanations.back().logits;
    r.targets = targets;
    requests.push_back(r);
    times.push_back(std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count());
    const Explanation& e = explanations.back();
    auto write_examples = [&](const Tensor& t, const std::string& suffix) {
      const int64_t per = t.numel() / N;
      Shape s = t.shape();
      s[0] = 1;
      for (int64_t n = 0; n < N; ++n) {
        Tensor one(s);
        std::copy_n(t.data() + n * per, per, one.data());
        const std::string name = stems[size_t(n)] + "." + chosen[m]->info().name + suffix + ".npy";
        const std::string file = dir + "/" + name;
        write_npy(staged.path(name), one);
        written.push_back(file);
      }
    };
    write_examples(e.attribution, "");
    for (const auto& [name, t] : e.extras) write_examples(t, "." + name);
    progress.step(chosen[m]->info().name);
  }

  if (scores.empty()) scores = evaluate_scores(f, x, batch);
  if (classes < 0) {
    classes = scores.dim(1);
    if (args.has("labels")) labels = read_labels(args.get("labels"), classes);
    for (const int64_t t : truth)
      GL_CHECK(t < classes, "--truth: class ", t, " is out of range (the model has ", classes, " classes)");
  }
  auto label = [&](int64_t c) { return class_label(labels, c); };
  const std::vector<int64_t> predicted = predicted_classes(scores);

  ReceiptInputs receipt("compare", argv);
  receipt.files = images.files, receipt.input = &x, receipt.score = score_kind_name(kind);
  NoiseOptions no_noise;
  no_noise.kind = NoiseKind::none;
  for (size_t m = 0; m < chosen.size(); ++m)
    receipt.explained.push_back({&chosen[m]->info(), &requests[m], no_noise, &explanations[m].attribution});
  Report report;
  report.receipt = receipt_json(receipt);
  report.model = pos[0];
  report.preprocessing = tensor_input ? "no preprocessing (tensor input " + pos[1] + ")" : in.prep.describe();
  report.score = score_kind_name(kind);
  report.grid_file = "grid.png";
  report.probability_note = kind == ScoreKind::logit      ? "p: softmax of the logits (the score explained)."
                            : kind == ScoreKind::prob     ? "p: the score itself, which already is a probability."
                                                          : "p: exp of the score (a log-probability).";
  report.failures = images.failures;
  std::vector<AppliedRendering> applied;
  for (size_t m = 0; m < chosen.size(); ++m) {
    const MethodInfo& info = chosen[m]->info();
    applied.push_back(applied_rendering(rendering, info, explanations[m]));
    ReportMethod rm;
    rm.name = info.name;
    rm.paper = info.paper;
    for (const Parameter& p : info.parameters)
      rm.parameters += (rm.parameters.empty() ? "" : ", ") + p.name + "=" + options[m].text(info, p.name);
    rm.rendering = describe_rendering(applied.back(), rendering);
    rm.time_ms = times[m];
    auto gap = explanations[m].per_example.find("completeness_gap");
    if (gap != explanations[m].per_example.end()) rm.completeness_gap = gap->second;
    report.methods.push_back(rm);
  }
  std::vector<const MethodInfo*> chosen_infos;
  for (const Method* m : chosen) chosen_infos.push_back(&m->info());
  Legend legend = scale_legend(chosen_infos, applied, rendering);
  report.colorbars = legend.report;
  report.scale_note = legend.note;
  std::vector<std::vector<Image8>> rows;
  for (int64_t n = 0; n < N; ++n) {
    std::vector<Image8> row = {rgb(enlarge(to_image8(images.display[size_t(n)]), rendering.zoom))};
    // Tiles of the report at least 192 pixels wide, enlarged by a whole factor (crisp pixels).
    report.tile_width = row[0].width * std::max<int64_t>(1, (192 + row[0].width - 1) / row[0].width);
    const std::vector<double> p = score_probabilities(scores, n, kind);
    const int64_t t = targets[size_t(n)], top = predicted[size_t(n)];
    ReportImage ri;
    ri.file = in.names[size_t(n)];
    ri.original_png = encode_png(row[0]);
    ri.target = label(t);
    ri.target_score = scores[n * classes + t];
    if (!truth.empty()) ri.truth = label(truth[size_t(n)]);
    for (const auto& [c, s] : top_k(scores, n, 5)) ri.top5.push_back({label(c), s, p[size_t(c)]});
    // Grid row label: the file, the prediction with its probability, the explained and true classes.
    legend.grid.row_labels.push_back(
        row_label(stems[size_t(n)], labels, p, top, t, truth.empty() ? -1 : truth[size_t(n)]));
    for (size_t m = 0; m < chosen.size(); ++m) {
      row.push_back(render_heatmap(explanations[m], n, applied[m], rendering, images.display[size_t(n)]));
      ri.heatmap_png.push_back(encode_png(row.back()));
    }
    rows.push_back(std::move(row));
    report.images.push_back(std::move(ri));
  }
  std::vector<std::string> titles = {"image"};
  for (const Method* m : chosen) titles.push_back(m->info().name);
  write_png(staged.path("grid.png"), compose_grid(rows, titles, legend.grid));
  written.push_back(dir + "/grid.png");
  write_file_atomically(staged.path("report.html"), render_report_html(report));
  written.push_back(dir + "/report.html");
  staged.commit();
  progress.step("report");

  if (args.flag("json")) {
    Json j;
    j.begin_object().key("model").value(pos[0]);
    if (tensor_input) {
      j.key("input").value(pos[1]);
    } else {
      j.key("images").array(images.files).key("failed").array(images.failures);
      j.key("preprocessing").value(in.prep.describe());
    }
    j.key("score").value(score_kind_name(kind));
    j.key("targets").array(targets);
    j.key("max_memory").value(max_memory());
    j.key("methods").begin_array();
    for (size_t m = 0; m < chosen.size(); ++m) {
      j.begin_object().key("name").value(chosen[m]->info().name);
      j.key("parameters").value(report.methods[m].parameters);
      j.key("rendering").value(report.methods[m].rendering);
      j.key("time_ms").value(times[m]);
      for (const char* k : {"chunk_rows", "tape_bytes"})
        if (explanations[m].notes.count(k)) j.key(k).scalar(explanations[m].notes.at(k));
      for (const auto& [k, v] : explanations[m].per_example)
        if (k == "completeness_gap") j.key(k).array(v);
      j.end_object();
    }
    j.end_array();
    j.key("written").array(written);
    write_receipt(j, receipt);
    j.end_object();
    std::printf("%s\n", j.str().c_str());
  }
  return images.failures.empty() ? 0 : 1;
}

}  // namespace gradlens::cli
