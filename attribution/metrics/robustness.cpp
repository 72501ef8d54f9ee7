#include "attribution/metrics/robustness.h"

#include <cmath>

#include "attribution/metrics/perturbation.h"
#include "engine/error.h"
#include "engine/random.h"

namespace gradlens {

PerturbedMaps perturbed_maps(const MetricInput& in, const MetricInfo& info, int64_t n, int64_t samples,
                             double radius) {
  GL_CHECK(in.method, info.name, ": needs the method that made the maps (give --methods, not --attributions)");
  const Tensor x = example(in.input, n);
  Shape s = x.shape();
  s[0] = samples + 1;
  Tensor rows(s);
  Rng rng(example_seed(in, n));
  rng.fill_uniform(rows, float(-radius), float(radius));
  const int64_t per = x.numel();
  for (int64_t r = 0; r <= samples; ++r)
    for (int64_t i = 0; i < per; ++i) rows[r * per + i] = r == 0 ? x[i] : rows[r * per + i] + x[i];
  Request q;
  q.function = &explained_function(in);  // the function the given maps explain
  q.input = rows;
  q.targets.assign(size_t(samples + 1), in.targets[size_t(n)]);
  q.batch = in.batch;
  q.options = in.method_options;
  return {rows, in.method->explain(q).attribution};
}

double row_distance(const Tensor& t, int64_t r) {
  const int64_t per = t.numel() / t.dim(0);
  double s = 0;
  for (int64_t i = 0; i < per; ++i) {
    const double d = double(t[r * per + i]) - double(t[i]);
    s += d * d;
  }
  return std::sqrt(s);
}

double row_norm(const Tensor& t, int64_t r) {
  const int64_t per = t.numel() / t.dim(0);
  double s = 0;
  for (int64_t i = 0; i < per; ++i) s += double(t[r * per + i]) * double(t[r * per + i]);
  return std::sqrt(s);
}

}  // namespace gradlens

namespace gradlens {
std::vector<double> map_changes(const MetricInput& in, const MetricInfo& info, int64_t n, bool per_input_distance,
                                int64_t& forward_passes) {
  const MethodInfo owner = parameter_owner(info);
  const double r = in.options.number(owner, "radius", per_input_distance ? 1e-12 : 0.0, 1e9);
  const int64_t S = in.options.integer(owner, "samples", 1, 1 << 20);
  const PerturbedMaps p = perturbed_maps(in, info, n, S, r);
  forward_passes += S + 1;
  const double base = row_norm(p.maps, 0);
  std::vector<double> out;
  for (int64_t s = 1; s <= S; ++s) {
    const double scale = per_input_distance ? row_distance(p.inputs, s) : (base > 0 ? base : 1.0);
    if (scale > 0) out.push_back(row_distance(p.maps, s) / scale);
  }
  return out;
}

std::vector<Parameter> map_change_parameters(bool captum_note) {
  return {{"radius", "0.02", std::string("r: each value perturbed by U(−r, r)") + (captum_note ? " (Captum: 0.02)" : "")},
          {"samples", "10", std::string("S: perturbed copies per example") + (captum_note ? " (Captum: 10)" : "")}};
}

MetricResult MapChangeMetric::evaluate(const MetricInput& in) const {
  check_metric_input(info(), in);
  MetricResult out;
  for (int64_t n = 0; n < in.input.dim(0); ++n) {
    const std::vector<double> changes = map_changes(in, info(), n, per_input_distance(), out.forward_passes);
    out.values.push_back(reduce(changes));
  }
  return out;
}
}  // namespace gradlens
