// Turning a 2-D attribution map into colours.
//   reduce_channels [C,H,W] → [H,W]:  max_abs  m = max_c |a_c|   (Simonyan et al. 2014, Fig. 2)
//                                     sum_abs  m = Σ_c |a_c|     (PAIR saliency's VisualizeImageGrayscale)
//                                     sum      m = Σ_c a_c       (signed, Captum's channel sum)
//   display_values (sign, clip percentile q) → [H,W] in [0, 1]:
//     absolute  v = |m|,  positive  v = max(m, 0),  negative  v = max(−m, 0); then
//               t = min(v / P_q(v), 1) with P_q the q-th percentile (numpy's linear interpolation)
//               of v over the map; q = 100 is the maximum (no clipping).
//     all       t = ½ + ½·clamp(m / P_q(|m|), −1, 1): 0.5 is zero, for a diverging colormap.
//     A map whose scale P_q is 0 displays as t = 0 (or 0.5 for `all`).
//   colormaps (t ∈ [0,1] → RGB in [0,1]):
//     jet      matplotlib's piecewise-linear segment data (0 → (0,0,0.5), 1 → (0.5,0,0))
//     viridis, inferno  matplotlib's tables sampled at entries 0,16,…,240,255 and interpolated
//              linearly in sRGB (within 0.03 of the 256-entry tables; exact at the samples)
//     gray     (t, t, t)
//     bwr      diverging blue (0,0,1) → white (1,1,1) at ½ → red (1,0,0) (matplotlib's "bwr")
//   overlay: out = (1 − α)·image + α·heat per channel, grey images taken as RGB (R = G = B).
#pragma once
#include <array>
#include <string>

#include "engine/tensor.h"
#include "io/image.h"

namespace gradlens {

enum class Colormap { jet, viridis, inferno, gray, bwr };
Colormap parse_colormap(const std::string& name);
const char* colormap_name(Colormap c);
std::string colormap_names();  // "jet|viridis|..." (help text)
std::array<float, 3> colormap_rgb(Colormap c, float t);  // t clamped to [0, 1]

enum class ChannelReduction { max_abs, sum_abs, sum };
ChannelReduction parse_channel_reduction(const std::string& name);  // "max-abs", "sum-abs", "sum"
const char* channel_reduction_name(ChannelReduction r);
std::string channel_reduction_names();
// [C, H, W] → [H, W].
Tensor reduce_channels(const Tensor& chw, ChannelReduction r);

enum class Sign { absolute, positive, negative, all };
Sign parse_sign(const std::string& name);  // "absolute", "positive", "negative", "all"
const char* sign_name(Sign s);
std::string sign_names();

// q-th percentile (0..100) with numpy's default linear interpolation.
float percentile(const Tensor& values, double q);
// The scale P_q that display_values divides by: the clip percentile of |m| (sign absolute or all),
// max(m, 0) (positive) or max(−m, 0) (negative); the value shown at t = 1 (and −P at 0 for all).
float display_scale(const Tensor& map, Sign sign, double clip_percentile);
// [H, W] map → [H, W] values in [0, 1] as described above.
Tensor display_values(const Tensor& map, Sign sign, double clip_percentile);
// [H, W] values in [0, 1] → [3, H, W] colours.
Tensor colorize(const Tensor& values, Colormap c);
// image [1 or 3, H, W] and heat [3, H, W] in [0, 1] → [3, H, W].
Tensor overlay(const Tensor& image, const Tensor& heat, float alpha);
// Nearest-neighbour enlargement by an integer factor (pixels become factor × factor blocks).
Image8 enlarge(const Image8& image, int64_t factor);

}  // namespace gradlens
