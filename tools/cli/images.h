// What `explain` and `compare` share for image inputs: the preprocessing and rendering flags,
// expanding folders into image files, loading a batch (an unreadable image is reported on stderr
// and skipped), rendering one example's heatmap, and a progress bar on stderr.
#pragma once
#include <optional>
#include <string>
#include <vector>

#include "attribution/display.h"
#include "attribution/function.h"
#include "io/heatmap.h"
#include "io/preprocess.h"
#include "layers/model.h"
#include "tools/cli/args.h"

namespace gradlens::cli {

std::vector<Flag> preprocessing_flags();
std::vector<Flag> rendering_flags();  // --cmap --sign --clip --reduce --overlay --no-overlay --alpha --zoom
// The preset (--preset) adjusted by --resize/--crop/--size/--mean/--std, for the model's input.
Preprocessing preprocessing_from_args(const Args& args, const Model& model);

// The INPUT arguments pos[1..] of explain and evaluate: true for one .npy/.pb tensor (then no
// preprocessing flag but --quiet may be given), false for image files and folders (no tensor
// file among them); an Error otherwise.
bool is_tensor_input(const Args& args, const std::vector<std::string>& pos);

// Image files named on the command line: files as given, folders expanded to the image files
// (.png .jpg .jpeg .bmp) directly inside them, sorted by name.
std::vector<std::string> expand_image_paths(const std::vector<std::string>& paths);

struct ImageBatch {
  Tensor input;                       // [N, C, H, W] preprocessed
  std::vector<Tensor> display;        // per image: [1 or 3, H, W] in [0, 1]
  std::vector<std::string> files;     // images that loaded
  std::vector<std::string> failures;  // one-line errors of those that did not
};
// Reads and preprocesses every file; failures are printed to stderr as they happen. Error when
// no image loads. With `all_or_nothing` (evaluate, whose masks and labels follow the files) the
// first failure is the Error instead, naming the file, and nothing is printed.
ImageBatch load_image_batch(const std::vector<std::string>& files, const Preprocessing& p, const Model& model,
                            bool all_or_nothing = false);

// The batch `explain` and `compare` run on (one loader for both): with `tensor_input` the one
// .npy/.pb tensor pos[1] (a batch axis added when it has none; integer arrays converted with a note
// on stderr), else the images and folders pos[1..] preprocessed for the model (the preprocessing
// line on stderr unless --quiet). `images.display` holds each example's picture: the image, or a
// [N, C, H, W] tensor's example scaled to [0, 1] (channels averaged unless 1 or 3).
struct InputBatch {
  bool tensor_input = false;
  Preprocessing prep;              // images only
  ImageBatch images;               // files and failures: images only
  Tensor x;                        // [N, ...]
  std::vector<std::string> names;  // per example: its image file, or "FILE.npy[n]"
};
InputBatch load_input_batch(const Args& args, const Model& model, bool tensor_input, const std::string& command);

struct Rendering {
  Colormap colormap = Colormap::jet;
  bool colormap_given = false;
  // Unset: the method's convention.
  std::optional<Sign> sign;
  std::optional<double> clip;
  std::optional<ChannelReduction> reduce;
  std::optional<bool> overlay;  // --overlay / --no-overlay
  float alpha = 0.5f;
  int64_t zoom = 1;
};
Rendering rendering_from_args(const Args& args, int64_t default_zoom);

// What was applied for a method: convention with the user's overrides. The channel reduction
// follows the sign: with --sign all or negative and no --reduce, a method whose convention takes
// |·| over channels (max-abs, sum-abs) is reduced by the signed sum instead, since |·| leaves no
// negative value to show; an explicit --reduce max-abs|sum-abs with those signs is an Error
// naming --reduce sum.
struct AppliedRendering {
  ChannelReduction reduction;
  bool overlay;  // blended over the image (the method's convention unless --overlay/--no-overlay)
  Sign sign;
  double clip_percentile;
  Colormap colormap;
  std::string source;  // "attribution" or the extra's name
};
// `image_shown`: there is an image to overlay on (false for tensor inputs: no default overlay).
AppliedRendering applied_rendering(const Rendering& r, const MethodInfo& info, const Explanation& e,
                                   bool image_shown = true);
// Example n's heatmap (over its display image when a.overlay), enlarged by the zoom.
Image8 render_heatmap(const Explanation& e, int64_t n, const AppliedRendering& a, const Rendering& r,
                      const Tensor& display_image);

// The value example n's heatmap shows at the colour bar's top (display_scale of its rendered map,
// in attribution units; −that at the bottom for --sign all).
double heatmap_scale(const Explanation& e, int64_t n, const AppliedRendering& a, const Tensor& display_image);

// "name=value" text of the rendering for logs and reports.
std::string describe_rendering(const AppliedRendering& a, const Rendering& r);

// A progress bar on stderr, drawn only when stderr is a terminal and not silenced: `total` steps
// (methods, metrics), and within a step the rows of the chunked pass running (ChunkMonitor
// reports them) with the pass's ETA.
class Progress {
 public:
  Progress(std::string label, int64_t total, bool quiet);
  ~Progress();
  void step(const std::string& what);  // a step is done; `what` the next one or the one finished
  void working_on(const std::string& what);  // names the step now running
  void pass_begins(int64_t rows);
  void rows_ran(int64_t rows);
  bool active() const { return active_; }

 private:
  void draw(bool force);
  std::string label_, what_;
  int64_t total_, done_ = 0;
  int64_t rows_done_ = 0, rows_total_ = 0;
  double pass_start_ = 0, last_draw_ = -1;
  bool active_;
};

// Class probabilities of row n of [N, C] scores: softmax for --score logit, the scores themselves
// for prob, their exp for log-prob.
std::vector<double> score_probabilities(const Tensor& scores, int64_t n, ScoreKind kind);

}  // namespace gradlens::cli
