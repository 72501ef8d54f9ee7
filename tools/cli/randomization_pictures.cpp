#include "tools/cli/randomization_pictures.h"

#include <algorithm>
#include <cmath>
#include <cstdlib>

#include "io/canvas.h"
#include "io/heatmap.h"
#include "io/image.h"
#include "tools/cli/curve_plot.h"

namespace gradlens::cli {

namespace {
struct Key {
  std::string mode;
  size_t step = 0;
  std::string measure, layer;
};
// "<mode>:<step>:<measure>:<layer>" (attribution/metrics/model_randomization.cpp); the layer may
// itself hold colons.
bool parse_key(const std::string& text, Key& k) {
  const size_t a = text.find(':');
  if (a == std::string::npos) return false;
  const size_t b = text.find(':', a + 1);
  if (b == std::string::npos) return false;
  const size_t c = text.find(':', b + 1);
  if (c == std::string::npos) return false;
  k.mode = text.substr(0, a);
  k.step = size_t(std::strtoul(text.substr(a + 1, b - a - 1).c_str(), nullptr, 10));
  k.measure = text.substr(b + 1, c - b - 1);
  k.layer = text.substr(c + 1);
  return true;
}

const std::vector<std::pair<std::string, std::string>> kMeasureTitles = {
    {"spearman_abs", "Spearman rank correlation of |a|"},
    {"spearman", "Spearman rank correlation of a"},
    {"ssim", "SSIM of |a| / max"},
    {"hog", "HOG similarity (Pearson)"},
    {"top_k", "top-k intersection of |a|"}};

// The method's name in a cell of the maps' size, broken after each '-' when it does not fit.
Image8 label_cell(const std::string& text, int64_t h, int64_t w) {
  std::vector<std::string> lines = {""};
  for (size_t i = 0; i < text.size(); ++i) {
    lines.back() += text[i];
    if (text[i] == '-' && text_width(text) > w - 4) lines.push_back("");
  }
  Image8 cell(h, w, 3, 255);
  const int64_t y0 = h / 2 - int64_t(lines.size()) * 6;
  for (size_t i = 0; i < lines.size(); ++i) draw_text(cell, 2, y0 + int64_t(i) * 12, lines[i], {0, 0, 0});
  return cell;
}

// A vertical colour bar (1 at the top, 0 at the bottom) with tick labels, h × w.
Image8 colour_bar(int64_t h, int64_t w) {
  Image8 bar(h, w, 3, 255);
  for (int64_t y = 0; y < h; ++y) {
    const auto rgb = colormap_rgb(Colormap::inferno, 1.0f - float(y) / float(std::max<int64_t>(1, h - 1)));
    for (int64_t x = 0; x < 12 && x < w; ++x)
      for (int c = 0; c < 3; ++c) bar.at(y, x)[c] = uint8_t(std::lround(rgb[size_t(c)] * 255.0f));
  }
  draw_text(bar, 15, 0, "1 = max", {0, 0, 0});
  draw_text(bar, 15, h / 2 - 4, "0.5", {0, 0, 0});
  draw_text(bar, 15, h - 9, "0", {0, 0, 0});
  return bar;
}
}  // namespace

void write_randomization_pictures(const std::string& dir, const std::vector<RandomizationColumn>& columns,
                                  int64_t examples) {
  for (const char* mode : {"cascading", "independent"}) {
    std::vector<std::string> layers;  // by step
    std::vector<Image8> panels;
    for (const auto& [measure, title] : kMeasureTitles) {
      std::vector<Series> series;
      for (const RandomizationColumn& c : columns) {
        Series s{c.method, {1.0}};
        for (const auto& [text, values] : *c.per_example) {
          Key k;
          if (!parse_key(text, k) || k.mode != mode || k.measure != measure) continue;
          if (layers.size() <= k.step) layers.resize(k.step + 1);
          layers[k.step] = k.layer;
          if (s.y.size() <= k.step + 1) s.y.resize(k.step + 2, 0.0);
          double mean = 0;
          for (double v : values) mean += v / double(values.size());
          s.y[k.step + 1] = mean;
        }
        if (s.y.size() > 1) series.push_back(s);
      }
      if (series.empty()) continue;
      std::vector<double> x;
      std::vector<std::string> ticks = {"original"};
      for (size_t i = 0; i <= layers.size(); ++i) x.push_back(double(i));
      ticks.insert(ticks.end(), layers.begin(), layers.end());
      panels.push_back(plot_curves(title + ", " + mode + ", mean of " + std::to_string(examples),
                                   "re-drawn layer, output side first", "similarity", x, series, ticks));
    }
    if (panels.empty()) continue;
    std::vector<std::vector<Image8>> rows;
    for (size_t p = 0; p < panels.size(); p += 2)
      rows.push_back({panels[p], p + 1 < panels.size() ? panels[p + 1] : Image8(panels[p].height, panels[p].width, 3, 255)});
    write_png(dir + "/model-randomization_" + mode + ".png", compose_grid(rows, {"", ""}));
  }

  // Cascading maps: rows = methods, columns = original, then each cascading step.
  std::vector<std::vector<Image8>> rows;
  std::vector<std::string> titles;
  for (const RandomizationColumn& c : columns) {
    if (c.cascading.empty()) continue;
    const int64_t steps = c.cascading.dim(0), H = c.cascading.dim(1), W = c.cascading.dim(2);
    const int64_t zoom = std::max<int64_t>(1, 96 / std::max(H, W));
    if (titles.empty()) {
      std::vector<std::string> layers(size_t(steps - 1));
      for (const auto& [text, values] : *c.per_example) {
        Key k;
        if (parse_key(text, k) && k.mode == "cascading" && k.step < layers.size()) layers[k.step] = "+ " + k.layer;
      }
      titles = {"method", "original"};
      titles.insert(titles.end(), layers.begin(), layers.end());
      titles.push_back("|a| / max");
    }
    std::vector<Image8> row = {label_cell(c.method, H * zoom, W * zoom)};
    for (int64_t s = 0; s < steps; ++s) {
      Tensor map(Shape{H, W});
      std::copy(c.cascading.data() + s * H * W, c.cascading.data() + (s + 1) * H * W, map.data());
      row.push_back(enlarge(to_image8(colorize(display_values(map, Sign::absolute, 100.0), Colormap::inferno)), zoom));
    }
    row.push_back(rows.empty() ? colour_bar(H * zoom, W * zoom) : Image8(H * zoom, W * zoom, 3, 255));
    rows.push_back(row);
  }
  if (rows.empty()) return;
  write_png(dir + "/model-randomization_maps.png", compose_grid(rows, titles));
}

}  // namespace gradlens::cli
