// Labelled image grids for the CLI's `compare`: text drawn with stb_easy_font (an ASCII bitmap
// font made of axis-aligned quads, which are filled here pixel by pixel) and a grid layout:
//   an optional row-label band of width L on the left (L = widest label line + p, 0 without
//   labels), columns j of width cw_j = max(cell width, text_width(title_j)), an optional legend
//   column of width G on the right (colour bars and a note; 0 without a legend); with padding
//   p = 4 and a title strip of t = 16 pixels above the first row,
//     grid width  = p + L + Σ_j (cw_j + p) + G
//     grid height = max(p + t + rows · (cell height + p), legend height + p)
//   Cells are centred in their column; the background is white, the text black. Output is RGB.
//   A colour bar is the colormap sampled at t = 1 (top) … 0 (bottom), one value per pixel row:
//   row r of a bar of height h shows t = 1 − r/(h − 1).
#pragma once
#include <array>
#include <string>
#include <vector>

#include "io/heatmap.h"
#include "io/image.h"

namespace gradlens {

constexpr int64_t kGridPadding = 4;
constexpr int64_t kGridTitleHeight = 16;
constexpr int64_t kColorBarWidth = 14;

// Width and height in pixels of `text` in stb_easy_font at scale 1.
int64_t text_width(const std::string& text);
int64_t text_height(const std::string& text);
// Draws `text` with its top-left corner at (x, y) on an RGB image; pixels outside are clipped.
void draw_text(Image8& image, int64_t x, int64_t y, const std::string& text, std::array<uint8_t, 3> rgb);
// Splits `text` at spaces into lines no wider than `width` pixels (a longer word stays whole).
std::vector<std::string> wrap_text(const std::string& text, int64_t width);

// An RGB ramp of colormap c: vertical (t = 1 at the top) or horizontal (t = 0 at the left).
Image8 color_bar(Colormap c, int64_t length, int64_t thickness, bool vertical);

struct ColorBarLegend {
  Colormap colormap = Colormap::jet;
  std::string caption;                 // drawn above the bar (wrapped)
  std::string top, middle, bottom;     // tick labels beside the bar ("" = none)
};
struct GridDecorations {
  std::vector<std::vector<std::string>> row_labels;  // empty, or one list of lines per row
  std::vector<ColorBarLegend> bars;                  // stacked in the legend column
  std::string note;                                  // wrapped under the bars
};

// rows[i][j]: the cell of row i, column j; every cell RGB and of the same size; titles.size()
// equals the number of columns.
Image8 compose_grid(const std::vector<std::vector<Image8>>& rows, const std::vector<std::string>& titles,
                    const GridDecorations& decorations = {});

}  // namespace gradlens
