// The mean of a metric over examples with a 95% confidence interval: mean ± 1.96·s/√n with s the
// sample standard deviation (normal approximation; the half-width is 0 for n < 2).
#pragma once
#include <cstdint>
#include <vector>

namespace gradlens {

struct Summary {
  double mean = 0, ci_low = 0, ci_high = 0;
  int64_t count = 0;
};
Summary summarize(const std::vector<double>& values);

}  // namespace gradlens
