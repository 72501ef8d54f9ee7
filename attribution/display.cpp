#include "attribution/display.h"

#include <algorithm>
#include <set>

#include "engine/error.h"
#include "engine/resample.h"

namespace gradlens {

DisplayConvention display_convention(const MethodInfo& info) {
  static const std::set<std::string> pixel_gradients = {"gradient", "saliency", "deconvnet",
                                                        "guided-backprop", "rectgrad", "guided-grad-cam"};
  static const std::set<std::string> saliency_maps = {"gradient", "saliency"};
  DisplayConvention d;
  d.overlay = info.layer_map || info.name == "fullgrad" || saliency_maps.count(info.name) > 0;
  if (info.layer_map) {
    d.reduction = ChannelReduction::sum;
    d.sign = Sign::positive;
    d.clip_percentile = 100;
  } else if (info.name == "fullgrad") {
    d.reduction = ChannelReduction::sum;
    d.sign = Sign::positive;
    d.clip_percentile = 100;
    d.extra = "map";
  } else if (pixel_gradients.count(info.name) || info.family == "rule") {
    d.reduction = ChannelReduction::max_abs;
    d.sign = Sign::absolute;
  } else {
    d.reduction = ChannelReduction::sum;
    d.sign = Sign::positive;
  }
  return d;
}

Tensor example_map(const Explanation& e, int64_t n, const DisplayConvention& convention,
                   ChannelReduction reduction, int64_t height, int64_t width) {
  const Tensor* source = &e.attribution;
  if (!convention.extra.empty()) {
    auto it = e.extras.find(convention.extra);
    if (it != e.extras.end()) source = &it->second;
  }
  GL_CHECK(source->rank() == 4 && n >= 0 && n < source->dim(0),
           "an attribution of ", source->shape().str(), " cannot be shown as an image (need [N, C, H, W])");
  const int64_t C = source->dim(1), h = source->dim(2), w = source->dim(3), per = C * h * w;
  Tensor example(Shape{C, h, w});
  std::copy_n(source->data() + n * per, per, example.data());
  Tensor map = reduce_channels(example, reduction);
  if (h == height && w == width) return map;
  Tensor up = resize(map.reshaped(Shape{1, 1, h, w}), height, width, Resample::bilinear);
  return up.reshaped(Shape{height, width});
}

}  // namespace gradlens
