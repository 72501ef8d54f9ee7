// Weakly supervised localisation (Zhou et al. 2016, "Learning deep features for discriminative
// localization", §3): keep the pixels where m = Σ_c a_c ≥ τ·max m (τ = 0.2), take the bounding box
// of the largest 8-connected component (first found in row-major order on a tie in size) and
// report its IoU with the ground-truth box (the given box, else the mask's bounding box). An
// example is localised when IoU ≥ --iou (0.5) and, when true labels are known, the explained
// class is the label (the seed's "bounding box of the correctly predicted category").
#include <algorithm>

#include "attribution/metrics/maps.h"

namespace gradlens {
namespace {

// Bounding box of the largest 8-connected component of `on` (an empty box when none is on).
Box largest_component_box(const std::vector<uint8_t>& on, const Grid& g) {
  std::vector<int32_t> label(on.size(), -1);
  std::vector<int64_t> stack;
  Box best;
  int64_t best_size = 0;
  for (int64_t s = 0; s < g.size(); ++s) {
    if (!on[size_t(s)] || label[size_t(s)] >= 0) continue;
    Box b{g.width, g.height, 0, 0};
    int64_t size = 0;
    stack.assign(1, s);
    label[size_t(s)] = 1;
    while (!stack.empty()) {
      const int64_t p = stack.back();
      stack.pop_back();
      const int64_t y = p / g.width, x = p % g.width;
      ++size;
      b.x0 = std::min(b.x0, x), b.y0 = std::min(b.y0, y), b.x1 = std::max(b.x1, x + 1), b.y1 = std::max(b.y1, y + 1);
      for (int64_t dy = -1; dy <= 1; ++dy)
        for (int64_t dx = -1; dx <= 1; ++dx) {
          const int64_t yy = y + dy, xx = x + dx;
          if (yy < 0 || xx < 0 || yy >= g.height || xx >= g.width) continue;
          const size_t q = size_t(yy * g.width + xx);
          if (on[q] && label[q] < 0) label[q] = 1, stack.push_back(int64_t(q));
        }
    }
    if (size > best_size) best_size = size, best = b;
  }
  return best;
}

class WslIou : public Metric {
 public:
  const MetricInfo& info() const override {
    static const MetricInfo i = {
        "wsl-iou", "localisation", "Zhou et al. 2016",
        "IoU(box of largest component of {m ≥ τ·max m}, ground-truth box); localised = IoU ≥ 0.5 ∧ right class", "0",
        true, true, false,
        {{"threshold", "0.2", "τ: keep pixels at or above this fraction of the map's maximum"},
         {"iou", "0.5", "IoU at which an example counts as localised"}},
        {"localised"}};
    return i;
  }
  MetricResult evaluate(const MetricInput& in) const override {
    check_metric_input(info(), in);
    const MethodInfo owner = parameter_owner(info());
    const double tau = in.options.number(owner, "threshold", 0, 1);
    const double iou_min = in.options.number(owner, "iou", 0, 1);
    const Grid g = image_grid(in);
    MetricResult out;
    for (int64_t n = 0; n < in.input.dim(0); ++n) {
      const std::vector<double> m = pixel_map(in, n);
      const double top = *std::max_element(m.begin(), m.end());
      std::vector<uint8_t> on(m.size(), 0);
      if (top > 0)
        for (size_t i = 0; i < m.size(); ++i) on[i] = m[i] >= tau * top;
      const Box b = largest_component_box(on, g);
      const double iou = b.area() > 0 ? box_iou(b, region_box(in, n)) : 0.0;
      const bool right_class = in.labels.empty() || in.labels[size_t(n)] == in.targets[size_t(n)];
      out.values.push_back(iou);
      out.per_example["localised"].push_back(iou >= iou_min && right_class ? 1.0 : 0.0);
      out.per_example["box_x0"].push_back(double(b.x0));
      out.per_example["box_y0"].push_back(double(b.y0));
      out.per_example["box_x1"].push_back(double(b.x1));
      out.per_example["box_y1"].push_back(double(b.y1));
    }
    return out;
  }
};

}  // namespace
}  // namespace gradlens

GRADLENS_REGISTER_METRIC(wsl_iou, gradlens::WslIou)
