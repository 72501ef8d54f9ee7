// im2col / col2im for 2-D sliding windows (NCHW planes), shared by Conv and ConvTranspose.
//
// With the window geometry of layers/pool_geometry.h (win.h.input × win.w.input image planes,
// win.h.output × win.w.output window positions):
//   col[(c·kH + i)·kW + j, oh·Wo + ow] = image[c, oh·sH − pT + i·dH, ow·sW − pL + j·dW]
// (0 where the position falls outside the image). col2im_add is its adjoint: it scatter-adds
// every column entry back into the image position it was read from.
// im2col is parallel over rows of col, col2im_add over image channels: every task writes its own
// outputs, so results do not depend on the thread count.
#pragma once
#include <cstdint>

#include "layers/pool_geometry.h"

namespace gradlens {

struct ColumnGeometry {
  int64_t channels = 0;  // image planes (rows of col = channels · kH · kW)
  int64_t kh = 1, kw = 1;
  Window2d win;
  int64_t image_plane() const { return win.h.input * win.w.input; }
  int64_t col_rows() const { return channels * kh * kw; }
  int64_t col_cols() const { return win.h.output * win.w.output; }
};

// col (col_rows × col_cols) = im2col(image) for `channels` planes of image_plane() floats.
void im2col(const ColumnGeometry& g, const float* image, float* col);
// image += col2im(col).
void col2im_add(const ColumnGeometry& g, const float* col, float* image);

}  // namespace gradlens
