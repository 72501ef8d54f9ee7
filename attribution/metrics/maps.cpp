#include "attribution/metrics/maps.h"

#include <algorithm>
#include <cmath>
#include <string>

#include "engine/enum_table.h"
#include "engine/error.h"
#include "engine/resample.h"

namespace gradlens {

Grid image_grid(const MetricInput& in) {
  const Shape& s = in.input.shape();
  if (s.rank() == 4) return {s[2], s[3]};
  return {1, in.input.numel() / s[0]};
}

std::vector<double> pixel_map(const MetricInput& in, int64_t n) {
  const Grid g = image_grid(in);
  const int64_t per = in.attribution.numel() / in.attribution.dim(0);
  const int64_t channels = per / g.size();
  const float* a = in.attribution.data() + n * per;
  std::vector<double> out(size_t(g.size()), 0.0);
  for (int64_t c = 0; c < channels; ++c)
    for (int64_t i = 0; i < g.size(); ++i) out[size_t(i)] += a[c * g.size() + i];
  return out;
}

std::vector<double> feature_values(const Tensor& attribution, int64_t n) {
  const int64_t per = attribution.numel() / attribution.dim(0);
  const float* a = attribution.data() + n * per;
  return std::vector<double>(a, a + per);
}

std::vector<uint8_t> region(const MetricInput& in, int64_t n) {
  const Grid g = image_grid(in);
  std::vector<uint8_t> r(size_t(g.size()), 0);
  if (!in.masks.empty()) {
    for (int64_t i = 0; i < g.size(); ++i) r[size_t(i)] = in.masks[n * g.size() + i] != 0.0f;
    return r;
  }
  const Box& b = in.boxes[size_t(n)];
  for (int64_t y = b.y0; y < b.y1; ++y)
    for (int64_t x = b.x0; x < b.x1; ++x) r[size_t(y * g.width + x)] = 1;
  return r;
}

Box region_box(const MetricInput& in, int64_t n) {
  if (!in.boxes.empty()) return in.boxes[size_t(n)];
  const Grid g = image_grid(in);
  Box b{g.width, g.height, 0, 0};
  for (int64_t y = 0; y < g.height; ++y)
    for (int64_t x = 0; x < g.width; ++x)
      if (in.masks[n * g.size() + y * g.width + x] != 0.0f) {
        b.x0 = std::min(b.x0, x), b.y0 = std::min(b.y0, y);
        b.x1 = std::max(b.x1, x + 1), b.y1 = std::max(b.y1, y + 1);
      }
  return b;
}

}  // namespace gradlens

namespace gradlens {
namespace {
enum class Pooling { sum_pos, sum_abs, max_norm };
const EnumName<Pooling> kPoolings[] = {
    {"sum-pos", Pooling::sum_pos}, {"sum-abs", Pooling::sum_abs}, {"max-norm", Pooling::max_norm}};
}  // namespace

Parameter pooling_parameter() {
  return {"pooling", "sum-pos", "channel pooling: " + enum_choices(kPoolings) + " (Arras et al.)"};
}

MetricResult PooledRegionMetric::evaluate(const MetricInput& in) const {
  check_metric_input(info(), in);
  const std::string pooling = in.options.text(parameter_owner(info()), "pooling");
  MetricResult out;
  for (int64_t n = 0; n < in.input.dim(0); ++n) {
    const std::vector<double> R = pooled_map(in, n, pooling, info().name);
    out.values.push_back(score(R, region(in, n)));
  }
  return out;
}

std::vector<double> pooled_map(const MetricInput& in, int64_t n, const std::string& pooling_name,
                               const std::string& metric) {
  const Pooling* pooling = enum_find(kPoolings, pooling_name);
  GL_CHECK(pooling, metric, ": --pooling must be ", enum_choices(kPoolings), ", got '", pooling_name, "'");
  if (*pooling != Pooling::max_norm) {
    std::vector<double> m = pixel_map(in, n);
    for (double& v : m) v = *pooling == Pooling::sum_pos ? std::max(v, 0.0) : std::fabs(v);
    return m;
  }
  const Grid g = image_grid(in);
  const int64_t per = in.attribution.numel() / in.attribution.dim(0);
  const float* a = in.attribution.data() + n * per;
  std::vector<double> m(size_t(g.size()), 0.0);
  for (int64_t c = 0; c < per / g.size(); ++c)
    for (int64_t i = 0; i < g.size(); ++i) m[size_t(i)] = std::max(m[size_t(i)], std::fabs(double(a[c * g.size() + i])));
  return m;
}
}  // namespace gradlens

namespace gradlens {
Tensor recomputed_maps(const MetricInput& in, const std::string& metric, const Function& function,
                       const Tensor& input, const std::vector<int64_t>& targets) {
  GL_CHECK(in.method, metric, ": needs the method that made the maps (give --methods, not --attributions)");
  Request q;
  q.function = &function;
  q.input = input;
  q.targets = targets;
  q.batch = in.batch;
  q.options = in.method_options;
  Tensor maps = in.method->explain(q).attribution;
  const Shape& rs = maps.shape();
  if (rs != in.attribution.shape() && rs.rank() == 4 && rs[1] == 1 && input.rank() == 4)
    maps = resize(maps, input.dim(2), input.dim(3), Resample::bilinear);  // as the CLI's CAMs
  Shape want = in.attribution.shape();
  want[0] = input.dim(0);
  GL_CHECK(maps.shape() == want, metric, ": the method's maps ", maps.shape().str(), " differ in shape from the given ",
           in.attribution.shape().str());
  return maps;
}
}  // namespace gradlens
