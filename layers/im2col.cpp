#include "layers/im2col.h"

#include <algorithm>

#include "engine/parallel.h"

namespace gradlens {

void im2col(const ColumnGeometry& g, const float* image, float* col) {
  const int64_t Ho = g.win.h.output, Wo = g.win.w.output, width = g.win.w.input;
  const int64_t plane = g.image_plane();
  parallel_for(g.col_rows(), [&](int64_t r) {
    const int64_t c = r / (g.kh * g.kw), i = r / g.kw % g.kh, j = r % g.kw;
    const float* xc = image + c * plane;
    float* dst = col + r * Ho * Wo;
    int64_t oh0, oh1, ow0, ow1;
    g.win.h.outputs_reading(i, oh0, oh1);
    g.win.w.outputs_reading(j, ow0, ow1);
    const int64_t sw = g.win.w.stride;
    for (int64_t oh = 0; oh < Ho; ++oh) {
      float* d = dst + oh * Wo;
      if (oh < oh0 || oh >= oh1) {
        std::fill(d, d + Wo, 0.f);
        continue;
      }
      const int64_t base = g.win.h.tap(oh, i) * width + g.win.w.tap(0, j);
      std::fill(d, d + ow0, 0.f);
      if (sw == 1)  // a contiguous run: a copy the compiler vectorises
        std::copy(xc + base + ow0, xc + base + ow1, d + ow0);
      else
        for (int64_t ow = ow0; ow < ow1; ++ow) d[ow] = xc[base + ow * sw];
      std::fill(d + ow1, d + Wo, 0.f);
    }
  }, min_parallel_tasks(Ho * Wo));
}

void col2im_add(const ColumnGeometry& g, const float* col, float* image) {
  const int64_t Ho = g.win.h.output, Wo = g.win.w.output, width = g.win.w.input;
  const int64_t plane = g.image_plane();
  parallel_for(g.channels, [&](int64_t c) {
    float* dc = image + c * plane;
    for (int64_t i = 0; i < g.kh; ++i) {
      int64_t oh0, oh1;
      g.win.h.outputs_reading(i, oh0, oh1);
      for (int64_t j = 0; j < g.kw; ++j) {
        int64_t ow0, ow1;
        g.win.w.outputs_reading(j, ow0, ow1);
        const float* src = col + ((c * g.kh + i) * g.kw + j) * Ho * Wo;
        const int64_t sw = g.win.w.stride;
        for (int64_t oh = oh0; oh < oh1; ++oh) {
          const int64_t base = g.win.h.tap(oh, i) * width + g.win.w.tap(0, j);
          const float* s = src + oh * Wo;
          if (sw == 1) {
            float* __restrict__ d = dc + base;  // col and image never overlap
            for (int64_t ow = ow0; ow < ow1; ++ow) d[ow] += s[ow];
          } else {
            for (int64_t ow = ow0; ow < ow1; ++ow) dc[base + ow * sw] += s[ow];
          }
        }
      }
    }
  }, min_parallel_tasks(g.kh * g.kw * Ho * Wo));
}

}  // namespace gradlens
