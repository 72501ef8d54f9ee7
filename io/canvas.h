// Labelled image grids for the CLI's `compare`: text drawn with stb_easy_font (an ASCII bitmap
// font made of axis-aligned quads, which are filled here pixel by pixel) and a grid layout:
//   columns j have width cw_j = max(cell width, text_width(title_j)); with padding p = 4 and a
//   title strip of t = 16 pixels above the first row,
//     grid width  = p + Σ_j (cw_j + p)
//     grid height = p + t + rows · (cell height + p)
//   Cells are centred in their column; the background is white, the text black. Output is RGB.
#pragma once
#include <array>
#include <string>
#include <vector>

#include "io/image.h"

namespace gradlens {

constexpr int64_t kGridPadding = 4;
constexpr int64_t kGridTitleHeight = 16;

// Width and height in pixels of `text` in stb_easy_font at scale 1.
int64_t text_width(const std::string& text);
int64_t text_height(const std::string& text);
// Draws `text` with its top-left corner at (x, y) on an RGB image; pixels outside are clipped.
void draw_text(Image8& image, int64_t x, int64_t y, const std::string& text, std::array<uint8_t, 3> rgb);

// rows[i][j]: the cell of row i, column j; every cell RGB and of the same size; titles.size()
// equals the number of columns.
Image8 compose_grid(const std::vector<std::vector<Image8>>& rows, const std::vector<std::string>& titles);

}  // namespace gradlens
