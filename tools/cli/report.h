// The self-contained HTML report of `compare`: images inline as base64 data URIs (RFC 4648 §4
// alphabet with '=' padding), text HTML-escaped, no external resources.
#pragma once
#include <map>
#include <string>
#include <vector>

namespace gradlens::cli {

std::string base64_encode(const std::string& bytes);
std::string html_escape(const std::string& text);
// <img src="data:image/png;base64,..." alt="...">
std::string png_img_tag(const std::string& png_bytes, const std::string& alt);

struct ReportMethod {
  std::string name, paper, parameters, rendering;
  double time_ms = 0;
  std::vector<double> completeness_gap;  // empty when the method does not report one
};

struct ReportPrediction {
  std::string label;
  float score = 0;
  double probability = 0;
};

struct ReportImage {
  std::string file;
  std::string original_png;                // PNG bytes
  std::vector<std::string> heatmap_png;    // one per method
  std::vector<ReportPrediction> top5;
  std::string target, truth;               // labels of the explained and the true class ("" = unknown)
  double target_score = 0;                 // the explained score f(x), the scale of the completeness gap
};

// A colour bar of the heatmaps: a horizontal ramp (t = 0 at the left) and its end labels.
struct ReportColorBar {
  std::string png, caption, left, middle, right;
};

struct Report {
  std::string model, preprocessing, score, grid_file;
  std::string probability_note;  // how the probabilities were obtained from the score
  std::vector<ReportColorBar> colorbars;
  std::string scale_note;        // how each tile is scaled
  int64_t tile_width = 0;        // displayed width of the image tiles (integer multiple of the PNGs')
  std::vector<ReportMethod> methods;
  std::vector<ReportImage> images;
  std::vector<std::string> failures;
  std::string receipt;  // JSON (tools/cli/receipt.h), shown at the end
};

std::string render_report_html(const Report& report);

}  // namespace gradlens::cli
