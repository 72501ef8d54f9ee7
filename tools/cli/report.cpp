#include "tools/cli/report.h"

#include <cmath>
#include <cstdio>

#include "engine/error.h"

namespace gradlens::cli {

std::string base64_encode(const std::string& bytes) {
  static const char kAlphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  out.reserve((bytes.size() + 2) / 3 * 4);
  size_t i = 0;
  for (; i + 2 < bytes.size(); i += 3) {
    const uint32_t v = uint32_t(uint8_t(bytes[i])) << 16 | uint32_t(uint8_t(bytes[i + 1])) << 8 | uint8_t(bytes[i + 2]);
    for (int s = 18; s >= 0; s -= 6) out += kAlphabet[(v >> s) & 63];
  }
  const size_t rest = bytes.size() - i;
  if (rest > 0) {
    uint32_t v = uint32_t(uint8_t(bytes[i])) << 16;
    if (rest == 2) v |= uint32_t(uint8_t(bytes[i + 1])) << 8;
    out += kAlphabet[(v >> 18) & 63];
    out += kAlphabet[(v >> 12) & 63];
    out += rest == 2 ? kAlphabet[(v >> 6) & 63] : '=';
    out += '=';
  }
  return out;
}

std::string html_escape(const std::string& text) {
  std::string out;
  for (char c : text) {
    switch (c) {
      case '&': out += "&amp;"; break;
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '"': out += "&quot;"; break;
      case '\'': out += "&#39;"; break;
      default: out += c;
    }
  }
  return out;
}

std::string png_img_tag(const std::string& png_bytes, const std::string& alt) {
  return "<img src=\"data:image/png;base64," + base64_encode(png_bytes) + "\" alt=\"" + html_escape(alt) + "\">";
}

namespace {
std::string number(double v, const char* format = "%.4g") {
  char buffer[64];
  std::snprintf(buffer, sizeof buffer, format, v);
  return buffer;
}
}  // namespace

std::string render_report_html(const Report& r) {
  std::string h;
  h += "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n<title>gradlens compare: " +
       html_escape(r.model) + "</title>\n<style>\n"
       "body{font-family:sans-serif;margin:1.5em;color:#222;background:#fff}\n"
       "table{border-collapse:collapse;margin:0.5em 0}\n"
       "td,th{border:1px solid #ccc;padding:4px 8px;vertical-align:top;text-align:left}\n"
       "figure{display:inline-block;margin:4px;text-align:center}\n"
       "figure img{image-rendering:pixelated;border:1px solid #ccc}\n"
       "figcaption{font-size:0.85em}\n.fail{color:#b00}\n"
       "</style>\n</head>\n<body>\n";
  h += "<h1>gradlens compare</h1>\n<p>model <code>" + html_escape(r.model) + "</code>; score " +
       html_escape(r.score) + "; " + html_escape(r.preprocessing) + "; grid <code>" + html_escape(r.grid_file) +
       "</code></p>\n";
  if (!r.failures.empty()) {
    h += "<p class=\"fail\">Images that could not be read:</p>\n<ul class=\"fail\">\n";
    for (const std::string& f : r.failures) h += "<li>" + html_escape(f) + "</li>\n";
    h += "</ul>\n";
  }
  h += "<h2>Methods</h2>\n<table>\n<tr><th>method</th><th>paper</th><th>parameters</th><th>time (ms, all " +
       std::to_string(r.images.size()) + " images)</th><th>display</th></tr>\n";
  for (const ReportMethod& m : r.methods)
    h += "<tr><td>" + html_escape(m.name) + "</td><td>" + html_escape(m.paper) + "</td><td>" +
         html_escape(m.parameters.empty() ? "—" : m.parameters) + "</td><td>" + number(m.time_ms, "%.1f") +
         "</td><td>" + html_escape(m.rendering) + "</td></tr>\n";
  h += "</table>\n<h2>Images</h2>\n";
  for (size_t i = 0; i < r.images.size(); ++i) {
    const ReportImage& img = r.images[i];
    h += "<section>\n<h3>" + html_escape(img.file) + "</h3>\n<p>explained class: " + html_escape(img.target) +
         "</p>\n<table>\n<tr><th>top-5</th><th>score</th></tr>\n";
    for (const auto& [label, score] : img.top5)
      h += "<tr><td>" + html_escape(label) + "</td><td>" + number(score) + "</td></tr>\n";
    h += "</table>\n<div>\n<figure>" + png_img_tag(img.original_png, img.file) + "<figcaption>image</figcaption></figure>\n";
    for (size_t m = 0; m < r.methods.size(); ++m) {
      std::string caption = html_escape(r.methods[m].name);
      if (!r.methods[m].completeness_gap.empty())
        caption += "<br>completeness gap " + number(r.methods[m].completeness_gap[i]);
      h += "<figure>" + png_img_tag(img.heatmap_png[m], r.methods[m].name + " for " + img.file) + "<figcaption>" +
           caption + "</figcaption></figure>\n";
    }
    h += "</div>\n</section>\n";
  }
  if (!r.receipt.empty()) h += "<h2>Receipt</h2>\n<pre>" + html_escape(r.receipt) + "</pre>\n";
  h += "</body>\n</html>\n";
  return h;
}

}  // namespace gradlens::cli
