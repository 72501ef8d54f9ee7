// How each method's map is shown as an image, following the method's paper:
//   pixel-gradient methods (gradient, saliency, deconvnet, guided-backprop, rectgrad,
//   guided-grad-cam): max over channels of |a| (Simonyan et al. 2014 §3.1), sign absolute,
//   clipped at the 99th percentile;
//   attributions that add up to the score (input-x-gradient, integrated-gradients, fullgrad's raw
//   input term and any other input-shaped method): signed sum over channels, sign positive,
//   clipped at the 99th percentile;
//   CAMs (layer maps [N,1,h,w]): the map itself, upsampled bilinearly (half-pixel centres) to the
//   image, sign positive, no clipping;
//   fullgrad: its post-processed saliency map (Explanation::extras["map"], Srinivas & Fleuret
//   2019 eq. 7), sign positive, no clipping.
// Overlaid on the image by default where the paper shows the map so: CAMs (Zhou et al. 2016
// Fig. 1, Selvaraju et al. 2017 Fig. 1), fullgrad (Srinivas & Fleuret 2019 Fig. 1) and the
// saliency maps gradient/saliency; the guided/deconvnet reconstructions and the attributions
// that add up to the score are shown alone, as in their papers.
#pragma once
#include <string>

#include "attribution/method.h"
#include "io/heatmap.h"

namespace gradlens {

struct DisplayConvention {
  ChannelReduction reduction = ChannelReduction::max_abs;
  Sign sign = Sign::absolute;
  double clip_percentile = 99;  // 100 = no clipping
  std::string extra;            // name of the Explanation extra shown instead of the attribution, or ""
  bool overlay = false;         // blended over the image by default
};

DisplayConvention display_convention(const MethodInfo& info);

// The 2-D map [H, W] of example n: the attribution (or the convention's extra, when the
// explanation has it) reduced over channels and resized bilinearly to H×W when its resolution differs.
Tensor example_map(const Explanation& e, int64_t n, const DisplayConvention& convention,
                   ChannelReduction reduction, int64_t height, int64_t width);

}  // namespace gradlens
