// Shared by the robustness metrics (sensitivity-max, avg-sensitivity, local-lipschitz): the maps
// of S perturbed copies x + δ_s of one example, δ_s ~ U(−r, r) per value (Captum's
// default_perturb_func for sensitivity_max), drawn from Rng(seed·1000003 + n), together with the
// map of x itself, computed through the public Method API in one Request (so the method batches
// them). Row 0 is x.
#pragma once
#include <cstdint>
#include <vector>

#include "attribution/metrics/metric.h"

namespace gradlens {

struct PerturbedMaps {
  Tensor inputs;  // [S + 1, ...]: x, then x + δ_s
  Tensor maps;    // the method's maps of those rows
};
PerturbedMaps perturbed_maps(const MetricInput& in, const MetricInfo& info, int64_t n, int64_t samples,
                             double radius);

// ‖row r − row 0‖₂ of t (rows of equal size).
double row_distance(const Tensor& t, int64_t r);
double row_norm(const Tensor& t, int64_t r);

}  // namespace gradlens

namespace gradlens {
// For s = 1..S (parameters "samples" and "radius" of `info`): ‖Φ(x + δ_s) − Φ(x)‖₂ divided by
// ‖Φ(x)‖₂ (by 1 when that is 0), or by ‖δ_s‖₂ when `per_input_distance` (draws with δ = 0 skipped).
std::vector<double> map_changes(const MetricInput& in, const MetricInfo& info, int64_t n, bool per_input_distance,
                                int64_t& forward_passes);

// --radius r and --samples S of the map_changes metrics (defaults Captum's sensitivity_max's).
std::vector<Parameter> map_change_parameters(bool captum_note);

// A robustness metric: per example, its map_changes reduced to one value.
class MapChangeMetric : public Metric {
 public:
  MetricResult evaluate(const MetricInput& in) const override;

 protected:
  virtual bool per_input_distance() const { return false; }
  virtual double reduce(const std::vector<double>& changes) const = 0;
};
}  // namespace gradlens
