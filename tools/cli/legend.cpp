#include "tools/cli/legend.h"

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>

#include "engine/error.h"
#include "io/image.h"

namespace gradlens::cli {

std::string fixed(double v, const char* format) {
  char buffer[64];
  std::snprintf(buffer, sizeof buffer, format, v);
  return buffer;
}

namespace {
// The shipped ImageNet class names (tools/data/imagenet_classes.txt, made by
// tools/make_imagenet_classes.py): installed as PREFIX/share/gradlens/ beside PREFIX/bin/gradlens,
// and copied by CMake to BUILD/share/gradlens/ for build/gradlens and build/tests/.
std::string imagenet_labels_path() {
  std::error_code ec;
  const std::filesystem::path exe = std::filesystem::read_symlink("/proc/self/exe", ec);
  std::vector<std::filesystem::path> places;
  if (!ec)
    for (const char* up : {"..", "."})
      places.push_back(exe.parent_path() / up / "share" / "gradlens" / "imagenet_classes.txt");
  for (const auto& p : places)
    if (std::filesystem::is_regular_file(p, ec)) return p.lexically_normal().string();
  throw Error(str("--labels imagenet: the shipped names are not in ",
                  places.empty() ? std::string("share/gradlens") : places[0].lexically_normal().string(),
                  "; give --labels tools/data/imagenet_classes.txt from the source tree"));
}
}  // namespace

std::vector<std::string> read_labels(std::string path, int64_t classes) {
  if (path == "imagenet") path = imagenet_labels_path();
  std::ifstream in(path);
  GL_CHECK(in, path, ": cannot open the labels file");
  std::vector<std::string> labels;
  std::string line;
  while (std::getline(in, line)) {
    if (!line.empty() && line.back() == '\r') line.pop_back();
    labels.push_back(line);
  }
  while (!labels.empty() && labels.back().empty()) labels.pop_back();
  GL_CHECK(int64_t(labels.size()) == classes, path, ": ", labels.size(), " labels for a model with ", classes,
           " classes");
  return labels;
}

std::string class_label(const std::vector<std::string>& labels, int64_t c) {
  return labels.empty() ? "class " + std::to_string(c) : labels[size_t(c)] + " (" + std::to_string(c) + ")";
}

Legend scale_legend(const std::vector<const MethodInfo*>& methods, const std::vector<AppliedRendering>& applied,
                    const Rendering& rendering, const double* scale) {
  Legend legend;
  std::map<std::pair<Colormap, bool>, std::string> bars;  // (colormap, diverging) → methods
  std::map<double, std::string> clips;                    // clip percentile → methods
  bool any_overlay = false;
  for (size_t m = 0; m < methods.size(); ++m) {
    const std::string& name = methods[m]->name;
    std::string& b = bars[{applied[m].colormap, applied[m].sign == Sign::all}];
    b += (b.empty() ? "" : ", ") + name;
    std::string& c = clips[applied[m].clip_percentile];
    c += (c.empty() ? "" : ", ") + name;
    any_overlay = any_overlay || applied[m].overlay;
  }
  const std::string max = scale ? fixed(*scale, "%.3g") : "max";
  for (const auto& [key, names] : bars) {
    const auto& [colormap, diverging] = key;
    ColorBarLegend g;
    g.colormap = colormap;
    g.caption = std::string(colormap_name(colormap)) + ": " + names;
    g.top = diverging ? "+" + max : max;
    g.middle = diverging ? "0" : "";
    g.bottom = diverging ? "-" + max : "0";
    legend.grid.bars.push_back(g);
    legend.report.push_back({encode_png(color_bar(colormap, 256, 14, false)), g.caption, g.bottom, g.middle, g.top});
  }
  std::string note = scale ? "The top of the bar is" : "Each tile is scaled on its own: max is";
  bool first = true;
  for (const auto& [clip, names] : clips) {
    note += first ? " " : "; ";
    const std::string whose = scale ? "the map's" : "the tile's";
    note += clip >= 100 ? whose + " largest magnitude" : "the " + fixed(clip, "%g") + "th percentile of " + whose + " magnitudes";
    if (!scale) note += " (" + names + ")";
    first = false;
  }
  note += ", values beyond are clipped.";
  if (any_overlay) note += " Overlays blend the colour at alpha " + fixed(rendering.alpha, "%g") + " over the image.";
  legend.grid.note = legend.note = note;
  return legend;
}

std::vector<std::string> row_label(const std::string& name, const std::vector<std::string>& labels,
                                   const std::vector<double>& probabilities, int64_t predicted, int64_t explained,
                                   int64_t truth) {
  std::vector<std::string> lines = {name.size() > 32 ? name.substr(0, 29) + "..." : name,
                                    "pred: " + class_label(labels, predicted),
                                    "p = " + fixed(probabilities[size_t(predicted)], "%.3f")};
  if (explained != predicted)
    lines.push_back("shown: " + class_label(labels, explained) + " p = " +
                    fixed(probabilities[size_t(explained)], "%.3f"));
  if (truth >= 0) lines.push_back("true: " + class_label(labels, truth));
  return lines;
}

}  // namespace gradlens::cli
