// Shared helpers of the metric tests: a MetricInput over hand-made [N, C, H, W] maps and masks,
// and a metric run by name with options given as text (as the CLI passes them).
#pragma once
#include <map>
#include <string>
#include <vector>

#include "attribution/metrics/metric.h"

namespace gradlens::test {

inline MetricInput metric_input(const Tensor& attribution, std::vector<int64_t> targets = {}) {
  MetricInput in;
  in.input = Tensor(attribution.shape());
  in.attribution = attribution;
  in.targets = targets.empty() ? std::vector<int64_t>(size_t(attribution.dim(0)), 0) : targets;
  return in;
}

inline MetricResult run_metric(const std::string& name, MetricInput in,
                               const std::map<std::string, std::string>& options = {}) {
  for (const auto& [k, v] : options) in.options.set(k, v);
  return metric(name).evaluate(in);
}

}  // namespace gradlens::test
