// Pointing game (Zhang et al. 2018, "Top-down neural attention by excitation backprop", §5.1):
// p* = argmax_p Σ_c a_c(p) (the first maximum in row-major order); a hit when some ground-truth
// pixel q has |q − p*|₂ ≤ r (TorchRay's tolerance r = 15 px). Accuracy = #hits / #examples, also
// reported per class (label when known, else the explained target) by the CLI.
#include <algorithm>

#include "attribution/metrics/maps.h"

namespace gradlens {
namespace {

class PointingGame : public Metric {
 public:
  const MetricInfo& info() const override {
    static const MetricInfo i = {
        "pointing-game", "localisation", "Zhang et al. 2018",
        "hit = ∃ q ∈ region: |q − argmax Σ_c a_c| ≤ r; accuracy = hits / N", "0", true, true, false,
        {{"tolerance", "15", "hit radius r in pixels around the maximum (TorchRay: 15)"}}, {}};
    return i;
  }
  MetricResult evaluate(const MetricInput& in) const override {
    check_metric_input(info(), in);
    const double r = in.options.number(parameter_owner(info()), "tolerance", 0, 1e6);
    const Grid g = image_grid(in);
    MetricResult out;
    for (int64_t n = 0; n < in.input.dim(0); ++n) {
      const std::vector<double> m = pixel_map(in, n);
      const int64_t p = std::max_element(m.begin(), m.end()) - m.begin();
      const int64_t py = p / g.width, px = p % g.width;
      const std::vector<uint8_t> gt = region(in, n);
      bool hit = false;
      for (int64_t y = 0; y < g.height && !hit; ++y)
        for (int64_t x = 0; x < g.width && !hit; ++x)
          hit = gt[size_t(y * g.width + x)] && double((y - py) * (y - py) + (x - px) * (x - px)) <= r * r;
      out.values.push_back(hit ? 1.0 : 0.0);
      out.per_example["max_x"].push_back(double(px));
      out.per_example["max_y"].push_back(double(py));
    }
    return out;
  }
};

}  // namespace
}  // namespace gradlens

GRADLENS_REGISTER_METRIC(pointing_game, gradlens::PointingGame)
