#include "engine/resample.h"

#include <algorithm>
#include <cmath>

#include "engine/error.h"
#include "engine/enum_table.h"
#include "engine/parallel.h"

namespace gradlens {

namespace {
const EnumName<Resample> kResampling[] = {
    {"bilinear", Resample::bilinear}, {"nearest", Resample::nearest}, {"bilinear-corners", Resample::bilinear_corners}};
}  // namespace

Resample parse_resample(const std::string& name) { return enum_value(kResampling, name, "resampling"); }

namespace {
struct Tap {
  int64_t i0, i1;
  float w1;  // weight of i1; i0 gets 1 − w1
};

std::vector<Tap> taps(int64_t in, int64_t out, Resample mode) {
  std::vector<Tap> t(static_cast<size_t>(out));
  const double scale = double(in) / double(out);
  for (int64_t d = 0; d < out; ++d) {
    if (mode == Resample::nearest) {
      const int64_t s = std::min<int64_t>(int64_t(std::floor(double(d) * scale)), in - 1);
      t[size_t(d)] = {s, s, 0.f};
      continue;
    }
    double src = mode == Resample::bilinear_corners
                     ? (out > 1 ? double(d) * double(in - 1) / double(out - 1) : 0.0)
                     : (double(d) + 0.5) * scale - 0.5;
    if (src < 0) src = 0;
    const int64_t i0 = std::min<int64_t>(int64_t(src), in - 1);
    const int64_t i1 = std::min<int64_t>(i0 + 1, in - 1);
    t[size_t(d)] = {i0, i1, float(src - double(i0))};
  }
  return t;
}
}  // namespace

Tensor resize(const Tensor& x, int64_t height, int64_t width, Resample mode) {
  return resize_window(x, height, width, mode, Window{0, 0, height, width});
}

Tensor resize_window(const Tensor& x, int64_t height, int64_t width, Resample mode, const Window& window) {
  GL_CHECK(x.rank() == 4, "resize expects [N, C, H, W], got ", x.shape().str());
  GL_CHECK(height > 0 && width > 0 && x.dim(2) > 0 && x.dim(3) > 0, "resize of ", x.shape().str(),
           " to ", height, "x", width);
  GL_CHECK(window.top >= 0 && window.left >= 0 && window.height > 0 && window.width > 0 &&
               window.top <= height - window.height && window.left <= width - window.width,
           "resize window ", window.height, "x", window.width, " at (", window.top, ", ", window.left,
           ") lies outside ", height, "x", width);
  const int64_t H = x.dim(2), W = x.dim(3), planes = x.dim(0) * x.dim(1);
  const int64_t out_h = window.height, out_w = window.width;
  Tensor out(Shape{x.dim(0), x.dim(1), out_h, out_w});
  const std::vector<Tap> ty = taps(H, height, mode), tx = taps(W, width, mode);
  parallel_for(planes, [&](int64_t p) {
    const float* src = x.data() + p * H * W;
    float* dst = out.data() + p * out_h * out_w;
    for (int64_t y = 0; y < out_h; ++y) {
      const Tap& a = ty[size_t(window.top + y)];
      const float* r0 = src + a.i0 * W;
      const float* r1 = src + a.i1 * W;
      for (int64_t c = 0; c < out_w; ++c) {
        const Tap& b = tx[size_t(window.left + c)];
        const float top = r0[b.i0] + b.w1 * (r0[b.i1] - r0[b.i0]);
        const float bottom = r1[b.i0] + b.w1 * (r1[b.i1] - r1[b.i0]);
        dst[y * out_w + c] = top + a.w1 * (bottom - top);
      }
    }
  });
  return out;
}

}  // namespace gradlens
