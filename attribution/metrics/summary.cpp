#include "attribution/metrics/summary.h"

#include <cmath>
#include <cstdint>

namespace gradlens {

Summary summarize(const std::vector<double>& values) {
  Summary s;
  s.count = int64_t(values.size());
  if (values.empty()) return s;
  double sum = 0;
  for (double v : values) sum += v;
  s.mean = sum / double(values.size());
  double half = 0;
  if (values.size() > 1) {
    double ss = 0;
    for (double v : values) ss += (v - s.mean) * (v - s.mean);
    half = 1.96 * std::sqrt(ss / double(values.size() - 1)) / std::sqrt(double(values.size()));
  }
  s.ci_low = s.mean - half;
  s.ci_high = s.mean + half;
  return s;
}

}  // namespace gradlens
