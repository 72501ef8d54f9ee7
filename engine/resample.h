// Spatial resizing of [N, C, H, W] tensors (CAM upsampling, image preprocessing).
//   bilinear: half-pixel centres, src = (dst + ½)·in/out − ½ clamped at 0 — PyTorch's
//             F.interpolate(mode="bilinear", align_corners=False) and OpenCV's INTER_LINEAR
//             for upsampling (no antialiasing when shrinking).
//   nearest:  src = ⌊dst·in/out⌋ — F.interpolate(mode="nearest"), Captum's default.
//   bilinear-corners: src = dst·(in − 1)/(out − 1) — align_corners=True (FullGrad's code).
#pragma once
#include <string>

#include "engine/tensor.h"

namespace gradlens {

enum class Resample { bilinear, nearest, bilinear_corners };
Resample parse_resample(const std::string& name);  // "bilinear", "nearest", "bilinear-corners"

Tensor resize(const Tensor& x, int64_t height, int64_t width, Resample mode);

// A window of the resized image: rows [top, top + height), columns [left, left + width).
struct Window {
  int64_t top = 0, left = 0, height = 0, width = 0;
};
// Exactly `window` of resize(x, height, width, mode), computing only its pixels (a resize followed
// by a crop, e.g. ImageNet's shorter side 256 + centre 224, costs the crop alone).
Tensor resize_window(const Tensor& x, int64_t height, int64_t width, Resample mode, const Window& window);

}  // namespace gradlens
