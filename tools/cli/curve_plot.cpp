#include "tools/cli/curve_plot.h"

#include <algorithm>
#include <array>
#include <cmath>
#include <cstdio>

#include "io/canvas.h"

namespace gradlens::cli {

namespace {
using Rgb = std::array<uint8_t, 3>;
// Tableau-like colours, reused in order.
const Rgb kColours[] = {{31, 119, 180}, {255, 127, 14}, {44, 160, 44}, {214, 39, 40}, {148, 103, 189},
                        {140, 86, 75},  {227, 119, 194}, {127, 127, 127}, {188, 189, 34}, {23, 190, 207}};

void put(Image8& im, int64_t x, int64_t y, Rgb c) {
  if (x < 0 || y < 0 || x >= im.width || y >= im.height) return;
  std::copy(c.begin(), c.end(), im.at(y, x));
}

// A 2-pixel-wide line by uniform steps (enough for a chart).
void line(Image8& im, double x0, double y0, double x1, double y1, Rgb c) {
  const int64_t n = int64_t(std::max(std::fabs(x1 - x0), std::fabs(y1 - y0))) + 1;
  for (int64_t i = 0; i <= n; ++i) {
    const double t = double(i) / double(n);
    const int64_t x = int64_t(std::lround(x0 + t * (x1 - x0))), y = int64_t(std::lround(y0 + t * (y1 - y0)));
    put(im, x, y, c), put(im, x + 1, y, c), put(im, x, y + 1, c);
  }
}

std::string tick(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.3g", v);
  return buf;
}
}  // namespace

Image8 plot_curves(const std::string& title, const std::string& x_label, const std::string& y_label,
                   const std::vector<double>& x, const std::vector<Series>& series,
                   const std::vector<std::string>& x_ticks) {
  const int64_t W = 640, H = 400, left = 70, right = 190, top = 30, bottom = x_ticks.empty() ? 50 : 62;
  Image8 im(H, W, 3, 255);
  double lo = 0, hi = 1;
  bool first = true;
  for (const Series& s : series)
    for (double v : s.y) {
      if (!std::isfinite(v)) continue;
      lo = first ? v : std::min(lo, v), hi = first ? v : std::max(hi, v), first = false;
    }
  if (hi - lo < 1e-12) lo -= 0.5, hi += 0.5;
  const double x_lo = x.empty() ? 0 : x.front(), x_hi = x.empty() || x.back() == x.front() ? x_lo + 1 : x.back();
  const double pw = double(W - left - right), ph = double(H - top - bottom);
  auto px = [&](double v) { return double(left) + (v - x_lo) / (x_hi - x_lo) * pw; };
  auto py = [&](double v) { return double(H - bottom) - (v - lo) / (hi - lo) * ph; };
  const Rgb black = {0, 0, 0}, grey = {220, 220, 220};
  for (int k = 0; k <= 4; ++k) {
    const double fx = x_lo + (x_hi - x_lo) * k / 4, fy = lo + (hi - lo) * k / 4;
    line(im, double(left), py(fy), double(W - right), py(fy), grey);
    if (x_ticks.empty()) {
      line(im, px(fx), double(top), px(fx), double(H - bottom), grey);
      draw_text(im, int64_t(px(fx)) - text_width(tick(fx)) / 2, H - bottom + 8, tick(fx), black);
    }
    draw_text(im, left - 8 - text_width(tick(fy)), int64_t(py(fy)) - 3, tick(fy), black);
  }
  for (size_t k = 0; k < x_ticks.size() && k < x.size(); ++k) {
    const std::string label = x_ticks[k].size() > 18 ? ".." + x_ticks[k].substr(x_ticks[k].size() - 16) : x_ticks[k];
    line(im, px(x[k]), double(top), px(x[k]), double(H - bottom), grey);
    draw_text(im, int64_t(px(x[k])) - text_width(label) / 2, H - bottom + 8 + int64_t(k % 2) * 12, label, black);
  }
  line(im, double(left), double(H - bottom), double(W - right), double(H - bottom), black);
  line(im, double(left), double(top), double(left), double(H - bottom), black);
  draw_text(im, left + int64_t(pw) / 2 - text_width(x_label) / 2, H - bottom + (x_ticks.empty() ? 26 : 38), x_label,
            black);
  draw_text(im, 6, top - 16, y_label, black);
  draw_text(im, left + int64_t(pw) / 2 - text_width(title) / 2, 8, title, black);
  for (size_t s = 0; s < series.size(); ++s) {
    const Rgb c = kColours[s % 10];
    const auto& y = series[s].y;
    for (size_t k = 0; k + 1 < y.size() && k + 1 < x.size(); ++k)
      line(im, px(x[k]), py(y[k]), px(x[k + 1]), py(y[k + 1]), c);
    const int64_t ly = top + 10 + int64_t(s) * 16;
    line(im, double(W - right + 12), double(ly + 3), double(W - right + 34), double(ly + 3), c);
    draw_text(im, W - right + 40, ly, series[s].name, black);
  }
  return im;
}

}  // namespace gradlens::cli
