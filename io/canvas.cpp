#include "io/canvas.h"

#include <algorithm>
#include <cmath>

#include "engine/error.h"

#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wunused-function"
#pragma GCC diagnostic ignored "-Wsign-compare"
#pragma GCC diagnostic ignored "-Wmissing-field-initializers"
#include <stb_easy_font.h>
#pragma GCC diagnostic pop

namespace gradlens {

namespace {
// stb_easy_font takes char*; it does not modify the text.
std::vector<char> c_text(const std::string& text) {
  std::vector<char> s(text.begin(), text.end());
  for (char& ch : s)
    if (static_cast<unsigned char>(ch) < 32 || static_cast<unsigned char>(ch) > 126) ch = '?';
  s.push_back('\0');
  return s;
}

struct Vertex {
  float x, y, z;
  unsigned char color[4];
};
}  // namespace

int64_t text_width(const std::string& text) { return stb_easy_font_width(c_text(text).data()); }
int64_t text_height(const std::string& text) { return stb_easy_font_height(c_text(text).data()); }

void draw_text(Image8& image, int64_t x, int64_t y, const std::string& text, std::array<uint8_t, 3> rgb) {
  GL_CHECK(image.channels == 3, "text can only be drawn on RGB images");
  std::vector<char> s = c_text(text);
  std::vector<Vertex> vertices(s.size() * 80 + 64);  // stb's estimate: ~270 bytes (17 vertices) a character
  const int quads = stb_easy_font_print(float(x), float(y), s.data(), nullptr, vertices.data(),
                                        int(vertices.size() * sizeof(Vertex)));
  for (int q = 0; q < quads; ++q) {
    float x0 = vertices[size_t(4 * q)].x, x1 = x0, y0 = vertices[size_t(4 * q)].y, y1 = y0;
    for (int v = 1; v < 4; ++v) {
      x0 = std::min(x0, vertices[size_t(4 * q + v)].x);
      x1 = std::max(x1, vertices[size_t(4 * q + v)].x);
      y0 = std::min(y0, vertices[size_t(4 * q + v)].y);
      y1 = std::max(y1, vertices[size_t(4 * q + v)].y);
    }
    for (int64_t py = std::max<int64_t>(0, int64_t(std::lround(y0))); py < std::min(image.height, int64_t(std::lround(y1))); ++py)
      for (int64_t px = std::max<int64_t>(0, int64_t(std::lround(x0))); px < std::min(image.width, int64_t(std::lround(x1))); ++px)
        std::copy(rgb.begin(), rgb.end(), image.at(py, px));
  }
}

std::vector<std::string> wrap_text(const std::string& text, int64_t width) {
  std::vector<std::string> lines;
  std::string line, word;
  auto flush_word = [&] {
    if (word.empty()) return;
    const std::string joined = line.empty() ? word : line + " " + word;
    if (!line.empty() && text_width(joined) > width) {
      lines.push_back(line);
      line = word;
    } else {
      line = joined;
    }
    word.clear();
  };
  for (char c : text) {
    if (c == ' ') flush_word();
    else word += c;
  }
  flush_word();
  if (!line.empty()) lines.push_back(line);
  return lines;
}

Image8 color_bar(Colormap c, int64_t length, int64_t thickness, bool vertical) {
  GL_CHECK(length >= 2 && thickness >= 1, "a colour bar needs a length of at least 2, got ", length);
  Image8 bar(vertical ? length : thickness, vertical ? thickness : length, 3);
  for (int64_t i = 0; i < length; ++i) {
    const float t = vertical ? 1.f - float(i) / float(length - 1) : float(i) / float(length - 1);
    const auto rgb = colormap_rgb(c, t);
    for (int64_t k = 0; k < thickness; ++k) {
      uint8_t* p = vertical ? bar.at(i, k) : bar.at(k, i);
      for (int ch = 0; ch < 3; ++ch) p[ch] = uint8_t(std::lround(std::clamp(rgb[size_t(ch)], 0.f, 1.f) * 255.f));
    }
  }
  return bar;
}

namespace {
constexpr int64_t kLineHeight = 11;        // stb_easy_font's glyphs are 7 pixels high; 4 between lines
constexpr int64_t kLegendTextWidth = 130;  // wrap width of the legend's captions and note
constexpr std::array<uint8_t, 3> kBlack = {0, 0, 0};

void paste(Image8& canvas, const Image8& image, int64_t y, int64_t x) {
  for (int64_t r = 0; r < image.height; ++r) std::copy_n(image.at(r, 0), image.width * 3, canvas.at(y + r, x));
}

// The legend column: each bar's caption, the bar with its tick labels to the right, then the
// note. Draws at (x, y) when `canvas` is given; returns the height used either way.
int64_t legend(Image8* canvas, const GridDecorations& d, int64_t x, int64_t y, int64_t bar_height) {
  const int64_t y0 = y;
  auto text_lines = [&](const std::vector<std::string>& lines) {
    for (const std::string& line : lines) {
      if (canvas) draw_text(*canvas, x, y, line, kBlack);
      y += kLineHeight;
    }
  };
  for (const ColorBarLegend& b : d.bars) {
    text_lines(wrap_text(b.caption, kLegendTextWidth));
    y += 2;
    if (canvas) {
      paste(*canvas, color_bar(b.colormap, bar_height, kColorBarWidth, true), y, x);
      const int64_t tx = x + kColorBarWidth + 3;
      draw_text(*canvas, tx, y, b.top, kBlack);
      draw_text(*canvas, tx, y + (bar_height - 7) / 2, b.middle, kBlack);
      draw_text(*canvas, tx, y + bar_height - 7, b.bottom, kBlack);
    }
    y += bar_height + 8;
  }
  text_lines(wrap_text(d.note, kLegendTextWidth));
  return y - y0;
}
}  // namespace

Image8 compose_grid(const std::vector<std::vector<Image8>>& rows, const std::vector<std::string>& titles,
                    const GridDecorations& d) {
  GL_CHECK(!rows.empty() && !titles.empty(), "an image grid needs at least one row and one column");
  GL_CHECK(d.row_labels.empty() || d.row_labels.size() == rows.size(), "grid with ", rows.size(), " rows and ",
           d.row_labels.size(), " row labels");
  const int64_t cell_h = rows[0][0].height, cell_w = rows[0][0].width;
  for (const auto& row : rows) {
    GL_CHECK(row.size() == titles.size(), "grid row with ", row.size(), " cells for ", titles.size(), " titles");
    for (const Image8& cell : row)
      GL_CHECK(cell.height == cell_h && cell.width == cell_w && cell.channels == 3,
               "grid cells must all be RGB ", cell_h, "x", cell_w);
  }
  int64_t label_width = 0;
  for (const auto& lines : d.row_labels)
    for (const std::string& line : lines) label_width = std::max(label_width, text_width(line) + kGridPadding);
  std::vector<int64_t> column_width, column_x;
  int64_t width = kGridPadding + label_width;
  for (const std::string& t : titles) {
    column_x.push_back(width);
    column_width.push_back(std::max(cell_w, text_width(t)));
    width += column_width.back() + kGridPadding;
  }
  const bool has_legend = !d.bars.empty() || !d.note.empty();
  const int64_t legend_x = width + kGridPadding, legend_y = kGridPadding + kGridTitleHeight;
  // Bars as tall as a row (at least 64 pixels, so that the ramp reads as one).
  const int64_t bar_height = std::max<int64_t>(64, std::min<int64_t>(cell_h, 160));
  if (has_legend) {
    int64_t ticks = 0;
    for (const ColorBarLegend& b : d.bars)
      ticks = std::max({ticks, text_width(b.top), text_width(b.middle), text_width(b.bottom)});
    width = legend_x + std::max(kLegendTextWidth, kColorBarWidth + 3 + ticks) + kGridPadding;
  }
  const int64_t legend_height = has_legend ? legend(nullptr, d, 0, 0, bar_height) : 0;
  const int64_t height = std::max(kGridPadding + kGridTitleHeight + int64_t(rows.size()) * (cell_h + kGridPadding),
                                  legend_y + legend_height + kGridPadding);
  Image8 grid(height, width, 3, 255);
  for (size_t j = 0; j < titles.size(); ++j) {
    const int64_t tx = column_x[j] + (column_width[j] - text_width(titles[j])) / 2;
    draw_text(grid, tx, kGridPadding + 2, titles[j], kBlack);
  }
  for (size_t i = 0; i < rows.size(); ++i) {
    const int64_t y = kGridPadding + kGridTitleHeight + int64_t(i) * (cell_h + kGridPadding);
    for (size_t j = 0; j < titles.size(); ++j) paste(grid, rows[i][j], y, column_x[j] + (column_width[j] - cell_w) / 2);
    if (!d.row_labels.empty())
      for (size_t k = 0; k < d.row_labels[i].size(); ++k)
        draw_text(grid, kGridPadding, y + 2 + int64_t(k) * kLineHeight, d.row_labels[i][k], kBlack);
  }
  if (has_legend) legend(&grid, d, legend_x, legend_y, bar_height);
  return grid;
}

}  // namespace gradlens
