// Energy-based pointing game (Wang et al. 2020, Score-CAM, §5.2): the share of the map's positive
// energy inside the object, Σ_{p ∈ region} m⁺(p) / Σ_p m⁺(p) with m = Σ_c a_c and m⁺ = max(m, 0)
// (Score-CAM's maps are non-negative; 0 when the map has no positive value).
#include <algorithm>

#include "attribution/metrics/maps.h"

namespace gradlens {
namespace {

class EnergyPointingGame : public Metric {
 public:
  const MetricInfo& info() const override {
    static const MetricInfo i = {"energy-pointing-game", "localisation", "Wang et al. 2020",
                                 "Σ_region m⁺ / Σ m⁺, m = Σ_c a_c", "0", true, true, false, {}, {}};
    return i;
  }
  MetricResult evaluate(const MetricInput& in) const override {
    check_metric_input(info(), in);
    MetricResult out;
    for (int64_t n = 0; n < in.input.dim(0); ++n) {
      const std::vector<double> m = pixel_map(in, n);
      const std::vector<uint8_t> gt = region(in, n);
      double inside = 0, total = 0;
      for (size_t i = 0; i < m.size(); ++i) {
        const double e = std::max(m[i], 0.0);
        total += e;
        if (gt[i]) inside += e;
      }
      out.values.push_back(total > 0 ? inside / total : 0.0);
    }
    return out;
  }
};

}  // namespace
}  // namespace gradlens

GRADLENS_REGISTER_METRIC(energy_pointing_game, gradlens::EnergyPointingGame)
