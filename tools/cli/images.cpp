#include "tools/cli/images.h"

#include <tuple>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <sstream>

#include "engine/error.h"
#include "engine/number_text.h"
#include "io/image.h"
#include "tools/cli/inputs.h"
#include "tools/cli/progress_text.h"

namespace gradlens::cli {

namespace {
std::pair<int64_t, int64_t> parse_size(const std::string& text, const char* flag) {
  const size_t x = text.find('x');
  auto number = [&](const std::string& s) {
    int64_t v = 0;
    GL_CHECK(parse_integer(s, v) && v > 0 && v <= 65536, "--", flag, " expects H, HxW or a size in pixels, got '",
             text, "'");
    return v;
  };
  if (x == std::string::npos) {
    const int64_t v = number(text);
    return {v, v};
  }
  return {number(text.substr(0, x)), number(text.substr(x + 1))};
}

std::vector<float> parse_floats(const std::string& text, const char* flag) {
  std::vector<float> values;
  GL_CHECK(!text.empty(), "--", flag, " is empty");
  for_each_item(text, [&](const std::string& item) {
    double v = 0;
    GL_CHECK(parse_real(item, v), "--", flag, ": '", item, "' is not a number");
    values.push_back(float(v));
    return true;
  });
  return values;
}
}  // namespace

std::vector<Flag> preprocessing_flags() {
  return {
      {"preset", preset_names(), "image preprocessing preset (none: resize to the model's H×W, [0,1])", "none"},
      {"resize", "S", "resize the shorter side of each image to S (keeps the aspect ratio)", ""},
      {"crop", "HxW", "centre crop after --resize", ""},
      {"size", "HxW", "resize each image directly to H×W", ""},
      {"mean", "M|M1,M2,M3", "subtract per-channel means after scaling to [0,1]", ""},
      {"std", "S|S1,S2,S3", "divide by per-channel standard deviations", ""},
      {"quiet", "", "print no preprocessing line and no progress bar", ""},
  };
}

std::vector<Flag> rendering_flags() {
  return {
      {"cmap", colormap_names(), "heatmap colours (bwr for --sign all)", "jet"},
      {"sign", sign_names(), "which part of the attribution is shown (all: diverging map)", "per method"},
      {"clip", "P", "clip at the P-th percentile before scaling to [0,1] (100 = none)", "99 pixel methods, 100 CAMs"},
      {"reduce", channel_reduction_names(), "channel reduction of pixel attributions (sum with --sign all|negative)", "per method"},
      {"overlay", "", "blend every heatmap over the (resized) image (done by default for CAMs, fullgrad, gradient, saliency)", ""},
      {"no-overlay", "", "show every heatmap alone, without the image", ""},
      {"alpha", "A", "heatmap weight in the overlay", "0.5"},
      {"zoom", "K", "enlarge heatmaps by K (nearest neighbour)", ""},
  };
}

Preprocessing preprocessing_from_args(const Args& args, const Model& model) {
  const auto& inputs = model.graph().inputs;
  GL_CHECK(inputs.size() == 1 && inputs[0].dims.size() == 4, "images need a model with one [N, C, H, W] input");
  const auto& d = inputs[0].dims;
  Preprocessing p = preset_preprocessing(args.get("preset"), d[1], d[2], d[3]);
  if (args.has("size")) {
    GL_CHECK(!args.has("resize") && !args.has("crop"), "--size excludes --resize and --crop");
    std::tie(p.height, p.width) = parse_size(args.get("size"), "size");
    p.shorter_side = p.crop_height = p.crop_width = 0;
  }
  if (args.has("resize") || args.has("crop")) {
    p.height = p.width = 0;
    p.shorter_side = args.has("resize") ? parse_size(args.get("resize"), "resize").first : 0;
    p.crop_height = p.crop_width = 0;
    if (args.has("crop")) std::tie(p.crop_height, p.crop_width) = parse_size(args.get("crop"), "crop");
  }
  if (args.has("mean")) p.mean = parse_floats(args.get("mean"), "mean");
  if (args.has("std")) p.std = parse_floats(args.get("std"), "std");
  GL_CHECK(d[1] == -1 || d[1] == 1 || d[1] == 3, "the model's input has ", d[1],
           " channels; images give 1 (grey) or 3 (RGB)");
  if (p.channels == 0 && d[1] > 0) p.channels = d[1];
  GL_CHECK(d[1] < 0 || p.channels == d[1], "--preset ", p.preset, " gives ", p.channels,
           " channel(s) but the model takes ", d[1]);
  // A preset's per-channel means/stds that do not fit the model are the preset's fault, not a
  // --mean/--std the user never gave.
  const std::pair<const char*, const std::vector<float>*> normalisation[] = {{"mean", &p.mean}, {"std", &p.std}};
  for (const auto& [flag, values] : normalisation) {
    const int64_t given = int64_t(values->size());
    GL_CHECK(args.has(flag) || p.channels <= 0 || given <= 1 || given == p.channels, "--preset ", p.preset, " gives ",
             given, std::string(flag) == "mean" ? " channel means" : " channel standard deviations",
             " but the model's input has ", p.channels, p.channels == 1 ? " channel" : " channels", "; use ",
             p.channels == 1 ? "--preset fashion-mnist" : "--preset imagenet", " or --mean/--std");
  }
  return p;
}

bool is_tensor_input(const Args& args, const std::vector<std::string>& pos) {
  const bool tensor_input = pos.size() == 2 && is_tensor_file(pos[1]);
  for (size_t k = 1; k < pos.size(); ++k)
    GL_CHECK(tensor_input || !is_tensor_file(pos[k]), pos[k],
             ": a .npy/.pb input must be the only input (images can be several)");
  if (tensor_input)
    for (const Flag& f : preprocessing_flags())
      GL_CHECK(f.name == "quiet" || !args.has(f.name), "--", f.name, " applies to image inputs, not to ", pos[1]);
  return tensor_input;
}

std::vector<std::string> expand_image_paths(const std::vector<std::string>& paths) {
  std::vector<std::string> files;
  for (const std::string& p : paths) {
    std::error_code ec;
    if (!std::filesystem::is_directory(p, ec)) {
      files.push_back(p);
      continue;
    }
    std::vector<std::string> found;
    for (const auto& entry : std::filesystem::directory_iterator(p, ec))
      if (entry.is_regular_file() && has_image_extension(entry.path().string())) found.push_back(entry.path().string());
    GL_CHECK(!ec, p, ": cannot list the folder (", ec.message(), ")");
    GL_CHECK(!found.empty(), p, ": no .png, .jpg, .jpeg or .bmp files in the folder");
    std::sort(found.begin(), found.end());
    files.insert(files.end(), found.begin(), found.end());
  }
  return files;
}

ImageBatch load_image_batch(const std::vector<std::string>& files, const Preprocessing& p, const Model& model,
                            bool all_or_nothing) {
  const auto& d = model.graph().inputs[0].dims;
  ImageBatch batch;
  std::vector<Tensor> inputs;
  for (const std::string& file : files) {
    try {
      PreparedImage prepared = prepare_image(read_image(file), p, file);
      const Tensor& x = prepared.input;
      GL_CHECK((d[2] < 0 || d[2] == x.dim(1)) && (d[3] < 0 || d[3] == x.dim(2)), file, ": preprocessed to ",
               x.dim(1), "x", x.dim(2), " but the model takes ", d[2], "x", d[3],
               " (choose --preset, --size or --resize/--crop)");
      if (!inputs.empty())
        GL_CHECK(inputs[0].shape() == x.shape(), file, ": preprocessed to ", x.shape().str(), ", unlike ",
                 batch.files[0], " (", inputs[0].shape().str(), "); give --size");
      inputs.push_back(x);
      batch.display.push_back(prepared.display);
      batch.files.push_back(file);
    } catch (const Error& e) {
      std::string message = e.what();
      if (message.compare(0, file.size(), file) != 0) message = file + ": " + message;
      if (all_or_nothing) throw Error(message);
      std::fprintf(stderr, "gradlens: %s\n", message.c_str());
      batch.failures.push_back(message);
    }
  }
  GL_CHECK(!inputs.empty(), "no image could be read (", files.size(), " given)");
  const Shape& s = inputs[0].shape();
  batch.input = Tensor(Shape{int64_t(inputs.size()), s[0], s[1], s[2]});
  for (size_t i = 0; i < inputs.size(); ++i)
    std::copy_n(inputs[i].data(), inputs[i].numel(), batch.input.data() + int64_t(i) * inputs[i].numel());
  return batch;
}

namespace {
// Example n of a [N, C, H, W] tensor as a [1 or 3, H, W] picture in [0, 1]: min-max scaled over
// the example (channels averaged first unless there are 1 or 3).
Tensor tensor_display(const Tensor& x, int64_t n) {
  const int64_t C = x.dim(1), plane = x.dim(2) * x.dim(3);
  const float* v = x.data() + n * C * plane;
  const int64_t shown = C == 1 || C == 3 ? C : 1;
  Tensor d(Shape{shown, x.dim(2), x.dim(3)});
  if (shown == C) {
    std::copy_n(v, C * plane, d.data());
  } else {
    for (int64_t i = 0; i < plane; ++i) {
      double mean = 0;
      for (int64_t c = 0; c < C; ++c) mean += v[c * plane + i];
      d[i] = float(mean / double(C));
    }
  }
  float lo = d[0], hi = d[0];
  for (int64_t i = 0; i < d.numel(); ++i) lo = std::min(lo, d[i]), hi = std::max(hi, d[i]);
  for (int64_t i = 0; i < d.numel(); ++i) d[i] = hi > lo ? (d[i] - lo) / (hi - lo) : 0.f;
  return d;
}
}  // namespace

InputBatch load_input_batch(const Args& args, const Model& model, bool tensor_input, const std::string& command) {
  const auto& pos = args.positional();
  InputBatch in;
  in.tensor_input = tensor_input;
  if (tensor_input) {
    in.x = load_model_input(model, 0, pos[1]);
    for (int64_t n = 0; n < in.x.dim(0); ++n) {
      in.names.push_back(pos[1] + "[" + std::to_string(n) + "]");
      if (in.x.rank() == 4 && in.x.numel() > 0) in.images.display.push_back(tensor_display(in.x, n));
    }
  } else {
    in.prep = preprocessing_from_args(args, model);
    if (!args.flag("quiet")) std::fprintf(stderr, "gradlens %s: %s\n", command.c_str(), in.prep.describe().c_str());
    in.images = load_image_batch(expand_image_paths({pos.begin() + 1, pos.end()}), in.prep, model);
    in.x = in.images.input;
    in.names = in.images.files;
  }
  return in;
}

Rendering rendering_from_args(const Args& args, int64_t default_zoom) {
  Rendering r;
  r.colormap_given = args.has("cmap");
  r.colormap = parse_colormap(args.get("cmap"));
  if (args.has("sign")) r.sign = parse_sign(args.get("sign"));
  if (args.has("clip")) {
    r.clip = args.get_double("clip");
    GL_CHECK(*r.clip > 0 && *r.clip <= 100, "--clip must be in (0, 100], got ", *r.clip);
  }
  if (args.has("reduce")) r.reduce = parse_channel_reduction(args.get("reduce"));
  GL_CHECK(!(args.flag("overlay") && args.flag("no-overlay")), "--overlay and --no-overlay exclude each other");
  if (args.flag("overlay")) r.overlay = true;
  if (args.flag("no-overlay")) r.overlay = false;
  r.alpha = float(args.get_double("alpha"));
  GL_CHECK(r.alpha >= 0.f && r.alpha <= 1.f, "--alpha must be in [0, 1], got ", r.alpha);
  GL_CHECK(!args.has("alpha") || r.overlay != false, "--alpha applies to overlays, and --no-overlay is given");
  if (r.sign && r.reduce && (*r.sign == Sign::all || *r.sign == Sign::negative))
    GL_CHECK(*r.reduce == ChannelReduction::sum, "--sign ", sign_name(*r.sign), " with --reduce ",
             channel_reduction_name(*r.reduce), ": the reduction takes |.| over channels, so no negative value is "
             "left to show; give --reduce sum (or leave --reduce out)");
  r.zoom = args.has("zoom") ? args.get_int("zoom", 1, 64) : default_zoom;
  return r;
}

AppliedRendering applied_rendering(const Rendering& r, const MethodInfo& info, const Explanation& e,
                                   bool image_shown) {
  const DisplayConvention c = display_convention(info);
  AppliedRendering a;
  a.sign = r.sign.value_or(c.sign);
  const bool signed_view = a.sign == Sign::all || a.sign == Sign::negative;
  a.reduction = r.reduce.value_or(signed_view ? ChannelReduction::sum : c.reduction);
  a.overlay = r.overlay.value_or(c.overlay && image_shown);
  a.clip_percentile = r.clip.value_or(c.clip_percentile);
  a.colormap = a.sign == Sign::all && !r.colormap_given ? Colormap::bwr : r.colormap;
  a.source = !c.extra.empty() && e.extras.count(c.extra) ? c.extra : "attribution";
  return a;
}

namespace {
// Example n's map [H, W] as rendered: the source (attribution or extra), channel-reduced, upsampled.
Tensor rendered_map(const Explanation& e, int64_t n, const AppliedRendering& a, const Tensor& display_image) {
  DisplayConvention c;
  c.extra = a.source == "attribution" ? "" : a.source;
  return example_map(e, n, c, a.reduction, display_image.dim(1), display_image.dim(2));
}
}  // namespace

double heatmap_scale(const Explanation& e, int64_t n, const AppliedRendering& a, const Tensor& display_image) {
  return display_scale(rendered_map(e, n, a, display_image), a.sign, a.clip_percentile);
}

Image8 render_heatmap(const Explanation& e, int64_t n, const AppliedRendering& a, const Rendering& r,
                      const Tensor& display_image) {
  const Tensor map = rendered_map(e, n, a, display_image);
  Tensor heat = colorize(display_values(map, a.sign, a.clip_percentile), a.colormap);
  if (a.overlay) heat = overlay(display_image, heat, r.alpha);
  return enlarge(to_image8(heat), r.zoom);
}

std::string describe_rendering(const AppliedRendering& a, const Rendering& r) {
  std::string s = str("map=", a.source, " reduce=", channel_reduction_name(a.reduction), " sign=", sign_name(a.sign),
                      " clip=", a.clip_percentile, " cmap=", colormap_name(a.colormap));
  s += a.overlay ? str(" overlay alpha=", r.alpha) : std::string(" no-overlay");
  return s;
}

namespace {
double now_seconds() {
  return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
}
}  // namespace

Progress::Progress(std::string label, int64_t total, bool quiet)
    : label_(std::move(label)), total_(total), active_(!quiet && isatty(STDERR_FILENO)) {
  if (active_) draw(true);
}

Progress::~Progress() {
  if (active_) std::fprintf(stderr, "\n");
}

void Progress::step(const std::string& what) {
  ++done_;
  what_ = what;
  rows_total_ = rows_done_ = 0;
  if (active_) draw(true);
}

void Progress::working_on(const std::string& what) {
  what_ = what;
  if (active_) draw(true);
}

void Progress::pass_begins(int64_t rows) {
  rows_total_ = rows;
  rows_done_ = 0;
  pass_start_ = now_seconds();
  if (active_) draw(false);
}

void Progress::rows_ran(int64_t rows) {
  rows_done_ += rows;
  if (active_) draw(rows_done_ >= rows_total_);
}

// At most ten redraws a second: a pass of tiny chunks should not spend its time on the terminal.
void Progress::draw(bool force) {
  const double t = now_seconds();
  if (!force && last_draw_ >= 0 && t - last_draw_ < 0.1) return;
  last_draw_ = t;
  const std::string line = progress_line(label_, done_, total_, what_, rows_done_, rows_total_, t - pass_start_);
  std::fprintf(stderr, "\r%-100.100s", line.c_str());
  std::fflush(stderr);
}

// Class probabilities of example n: softmax of the logits (exp(s_c − max s) / Σ exp(s_k − max s)),
// the scores themselves for --score prob, exp of them for --score log-prob.
std::vector<double> score_probabilities(const Tensor& scores, int64_t n, ScoreKind kind) {
  const int64_t C = scores.dim(1);
  const float* s = scores.data() + n * C;
  std::vector<double> p(static_cast<size_t>(C));
  if (kind == ScoreKind::prob) return std::vector<double>(s, s + C);
  if (kind == ScoreKind::log_prob) {
    for (int64_t c = 0; c < C; ++c) p[size_t(c)] = std::exp(double(s[c]));
    return p;
  }
  const double top = *std::max_element(s, s + C);
  double total = 0;
  for (int64_t c = 0; c < C; ++c) total += p[size_t(c)] = std::exp(double(s[c]) - top);
  for (double& v : p) v /= total;
  return p;
}

}  // namespace gradlens::cli
