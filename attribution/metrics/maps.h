// What the localisation and complexity metrics read from an example: its attribution pooled to one
// value per pixel (sum over channels, as TorchRay and Quantus pool image maps), and its ground-truth
// region (the mask, else the filled box) and box (the box, else the mask's bounding box).
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "attribution/metrics/metric.h"

namespace gradlens {

struct Grid {
  int64_t height = 1, width = 1;
  int64_t size() const { return height * width; }
};
Grid image_grid(const MetricInput& in);  // H × W of [N, C, H, W]; 1 × D of [N, D]

// Example n's attribution summed over channels: H·W values, row-major.
std::vector<double> pixel_map(const MetricInput& in, int64_t n);
// Example n's attribution as given (all its features).
std::vector<double> feature_values(const Tensor& attribution, int64_t n);
// 1 inside example n's ground truth (mask, else box), 0 outside.
std::vector<uint8_t> region(const MetricInput& in, int64_t n);
Box region_box(const MetricInput& in, int64_t n);

}  // namespace gradlens

namespace gradlens {
// Channel pooling of Arras et al. 2022 (their evaluation code's pool_heatmap): "sum-pos"
// max(Σ_c a, 0), "sum-abs" |Σ_c a|, "max-norm" max_c |a_c|. An Error names `metric` otherwise.
std::vector<double> pooled_map(const MetricInput& in, int64_t n, const std::string& pooling,
                               const std::string& metric);
Parameter pooling_parameter();  // --pooling, default sum-pos

// A localisation metric of the pooled relevance R (--pooling) against the ground-truth region,
// one score per example.
class PooledRegionMetric : public Metric {
 public:
  MetricResult evaluate(const MetricInput& in) const override;

 protected:
  virtual double score(const std::vector<double>& R, const std::vector<uint8_t>& region) const = 0;
};
}  // namespace gradlens

namespace gradlens {
// The maps in.method (with in.method_options, on `function`) gives for `input` and `targets`, as
// the CLI makes them: a layer map [N, 1, h, w] is upsampled bilinearly to the input's H × W. An
// Error names `metric` when their shape differs from in.attribution's.
Tensor recomputed_maps(const MetricInput& in, const std::string& metric, const Function& function,
                       const Tensor& input, const std::vector<int64_t>& targets);
}  // namespace gradlens
