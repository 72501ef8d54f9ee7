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

Image8 compose_grid(const std::vector<std::vector<Image8>>& rows, const std::vector<std::string>& titles) {
  GL_CHECK(!rows.empty() && !titles.empty(), "an image grid needs at least one row and one column");
  const int64_t cell_h = rows[0][0].height, cell_w = rows[0][0].width;
  for (const auto& row : rows) {
    GL_CHECK(row.size() == titles.size(), "grid row with ", row.size(), " cells for ", titles.size(), " titles");
    for (const Image8& cell : row)
      GL_CHECK(cell.height == cell_h && cell.width == cell_w && cell.channels == 3,
               "grid cells must all be RGB ", cell_h, "x", cell_w);
  }
  std::vector<int64_t> column_width, column_x;
  int64_t width = kGridPadding;
  for (const std::string& t : titles) {
    column_x.push_back(width);
    column_width.push_back(std::max(cell_w, text_width(t)));
    width += column_width.back() + kGridPadding;
  }
  const int64_t height = kGridPadding + kGridTitleHeight + int64_t(rows.size()) * (cell_h + kGridPadding);
  Image8 grid(height, width, 3, 255);
  for (size_t j = 0; j < titles.size(); ++j) {
    const int64_t tx = column_x[j] + (column_width[j] - text_width(titles[j])) / 2;
    draw_text(grid, tx, kGridPadding + 2, titles[j], {0, 0, 0});
  }
  for (size_t i = 0; i < rows.size(); ++i) {
    const int64_t y = kGridPadding + kGridTitleHeight + int64_t(i) * (cell_h + kGridPadding);
    for (size_t j = 0; j < titles.size(); ++j) {
      const int64_t x = column_x[j] + (column_width[j] - cell_w) / 2;
      for (int64_t r = 0; r < cell_h; ++r)
        std::copy_n(rows[i][j].at(r, 0), cell_w * 3, grid.at(y + r, x));
    }
  }
  return grid;
}

}  // namespace gradlens
