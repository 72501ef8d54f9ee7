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

struct ReportImage {
  std::string file;
  std::string original_png;                          // PNG bytes
  std::vector<std::string> heatmap_png;              // one per method
  std::vector<std::pair<std::string, float>> top5;   // label, score
  std::string target;                                // label of the explained class
};

struct Report {
  std::string model, preprocessing, score, grid_file;
  std::vector<ReportMethod> methods;
  std::vector<ReportImage> images;
  std::vector<std::string> failures;
  std::string receipt;  // JSON (tools/cli/receipt.h), shown at the end
};

std::string render_report_html(const Report& report);

}  // namespace gradlens::cli
