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
  const std::string tile = std::to_string(r.tile_width);
  std::string h;
  // The images table never widens the page: it scrolls inside its own box (.scroll), and its cells
  // never wrap (white-space/flex-wrap), so one image stays one row however many methods there are.
  h += "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n<title>gradlens compare: " +
       html_escape(r.model) + "</title>\n<style>\n"
       "body{font-family:sans-serif;margin:1.5em;color:#222;background:#fff}\n"
       "table{border-collapse:collapse;margin:0.5em 0}\n"
       "td,th{border:1px solid #ccc;padding:4px 8px;vertical-align:top;text-align:left}\n"
       ".scroll{max-width:100%;overflow-x:auto}\n"
       ".images td,.images th{text-align:center;vertical-align:middle;white-space:nowrap}\n"
       ".images td.prediction{text-align:left;font-size:0.85em}\n"
       // The prediction column stays in view while the tiles scroll sideways.
       ".images td.prediction,.images th:first-child{position:sticky;left:0;background:#fff;z-index:1}\n"
       ".images img{image-rendering:pixelated;display:block;margin:auto}\n"
       ".images figcaption{font-size:0.8em}\n"
       ".bars{display:flex;flex-wrap:wrap;gap:2em;align-items:flex-start}\n"
       ".bar{width:258px}\n.bar img{display:block;image-rendering:pixelated;border:1px solid #888}\n"
       ".ticks{display:flex;justify-content:space-between;font-size:0.8em}\n"
       ".images .top5 td,.images .top5 th{border:none;padding:0 6px 0 0;text-align:left}\n.fail{color:#b00}\npre{overflow-x:auto}\n"
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
  h += "</table>\n<h2>Colour scale</h2>\n<div class=\"bars\">\n";
  for (const ReportColorBar& b : r.colorbars)
    h += "<div class=\"bar\"><div>" + html_escape(b.caption) + "</div>" + png_img_tag(b.png, "colour bar " + b.caption) +
         "<div class=\"ticks\"><span>" + html_escape(b.left) + "</span><span>" + html_escape(b.middle) +
         "</span><span>" + html_escape(b.right) + "</span></div></div>\n";
  h += "</div>\n<p>" + html_escape(r.scale_note) + "</p>\n<h2>Images</h2>\n<p>" + html_escape(r.probability_note) +
       "</p>\n<div class=\"scroll\">\n<table class=\"images\">\n<tr><th>prediction</th><th>image</th>";
  for (const ReportMethod& m : r.methods) h += "<th>" + html_escape(m.name) + "</th>";
  h += "</tr>\n";
  auto img = [&](const std::string& png, const std::string& alt) {
    std::string tag = png_img_tag(png, alt);
    return tag.insert(tag.size() - 1, " width=\"" + tile + "\" height=\"" + tile + "\"");
  };
  for (size_t i = 0; i < r.images.size(); ++i) {
    const ReportImage& im = r.images[i];
    h += "<tr><td class=\"prediction\"><b>" + html_escape(im.file) + "</b><br>explained class: " +
         html_escape(im.target) + "<br>";
    if (!im.truth.empty()) h += "true class: " + html_escape(im.truth) + "<br>";
    h += "<table class=\"top5\"><tr><th>top-5</th><th>p</th><th>" + html_escape(r.score) + "</th></tr>\n";
    for (const ReportPrediction& p : im.top5)
      h += "<tr><td>" + html_escape(p.label) + "</td><td>" + number(p.probability, "%.3f") + "</td><td>" +
           number(p.score) + "</td></tr>\n";
    h += "</table></td>\n<td>" + img(im.original_png, im.file) + "</td>\n";
    for (size_t m = 0; m < r.methods.size(); ++m) {
      h += "<td><figure style=\"margin:0\">" + img(im.heatmap_png[m], r.methods[m].name + " for " + im.file);
      if (!r.methods[m].completeness_gap.empty()) {
        // Completeness: Σ attribution should equal the score difference; the gap is read against
        // the size of the score explained.
        const double gap = r.methods[m].completeness_gap[i];
        h += "<figcaption>completeness gap " + number(gap) + "<br>= " +
             (im.target_score != 0 ? number(100 * std::fabs(gap / im.target_score), "%.2g") + "% of |score| " +
                                         number(std::fabs(im.target_score))
                                   : std::string("(score 0)")) +
             "</figcaption>";
      }
      h += "</figure></td>\n";
    }
    h += "</tr>\n";
  }
  h += "</table>\n</div>\n";
  if (!r.receipt.empty()) h += "<h2>Receipt</h2>\n<pre>" + html_escape(r.receipt) + "</pre>\n";
  h += "</body>\n</html>\n";
  return h;
}

}  // namespace gradlens::cli
