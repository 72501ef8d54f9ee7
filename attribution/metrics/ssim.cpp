#include "attribution/metrics/ssim.h"

#include <algorithm>

namespace gradlens {

double ssim(const std::vector<double>& a, const std::vector<double>& b, int64_t height, int64_t width) {
  const int64_t wy = std::min<int64_t>(7, height), wx = std::min<int64_t>(7, width);
  const auto [amin, amax] = std::minmax_element(a.begin(), a.end());
  const auto [bmin, bmax] = std::minmax_element(b.begin(), b.end());
  double L = std::max(*amax - *amin, *bmax - *bmin);
  if (L <= 0) L = 1;
  const double c1 = (0.01 * L) * (0.01 * L), c2 = (0.03 * L) * (0.03 * L);
  const double n = double(wy * wx), cov_norm = n > 1 ? n / (n - 1) : 1.0;
  double total = 0;
  int64_t windows = 0;
  for (int64_t y0 = 0; y0 + wy <= height; ++y0)
    for (int64_t x0 = 0; x0 + wx <= width; ++x0) {
      double sa = 0, sb = 0, saa = 0, sbb = 0, sab = 0;
      for (int64_t y = y0; y < y0 + wy; ++y)
        for (int64_t x = x0; x < x0 + wx; ++x) {
          const double p = a[size_t(y * width + x)], q = b[size_t(y * width + x)];
          sa += p, sb += q, saa += p * p, sbb += q * q, sab += p * q;
        }
      const double ma = sa / n, mb = sb / n;
      const double va = cov_norm * (saa / n - ma * ma), vb = cov_norm * (sbb / n - mb * mb);
      const double cab = cov_norm * (sab / n - ma * mb);
      total += ((2 * ma * mb + c1) * (2 * cab + c2)) / ((ma * ma + mb * mb + c1) * (va + vb + c2));
      ++windows;
    }
  return total / double(windows);
}

}  // namespace gradlens
