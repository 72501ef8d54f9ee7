#include "attribution/metrics/similarity.h"

#include <algorithm>
#include <cmath>
#include <numeric>

namespace gradlens {

double pearson(const std::vector<double>& a, const std::vector<double>& b) {
  const double n = double(a.size());
  const double ma = std::accumulate(a.begin(), a.end(), 0.0) / n, mb = std::accumulate(b.begin(), b.end(), 0.0) / n;
  double sab = 0, saa = 0, sbb = 0;
  for (size_t i = 0; i < a.size(); ++i) {
    const double da = a[i] - ma, db = b[i] - mb;
    sab += da * db, saa += da * da, sbb += db * db;
  }
  if (saa <= 0 || sbb <= 0) return saa <= 0 && sbb <= 0 ? 1.0 : 0.0;
  return sab / std::sqrt(saa * sbb);
}

std::vector<double> average_ranks(const std::vector<double>& v) {
  std::vector<size_t> order(v.size());
  std::iota(order.begin(), order.end(), size_t(0));
  std::stable_sort(order.begin(), order.end(), [&](size_t i, size_t j) { return v[i] < v[j]; });
  std::vector<double> rank(v.size());
  for (size_t i = 0; i < order.size();) {
    size_t j = i;
    while (j + 1 < order.size() && v[order[j + 1]] == v[order[i]]) ++j;
    const double r = 0.5 * double(i + j) + 1.0;  // ranks i+1 .. j+1 share their mean
    for (size_t k = i; k <= j; ++k) rank[order[k]] = r;
    i = j + 1;
  }
  return rank;
}

double spearman(const std::vector<double>& a, const std::vector<double>& b) {
  return pearson(average_ranks(a), average_ranks(b));
}

namespace {
std::vector<size_t> top_k(const std::vector<double>& v, int64_t k) {
  std::vector<size_t> order(v.size());
  std::iota(order.begin(), order.end(), size_t(0));
  std::stable_sort(order.begin(), order.end(), [&](size_t i, size_t j) { return v[i] > v[j]; });
  order.resize(size_t(k));
  std::sort(order.begin(), order.end());
  return order;
}
}  // namespace

double top_k_intersection(const std::vector<double>& a, const std::vector<double>& b, int64_t k) {
  k = std::min<int64_t>(k, int64_t(a.size()));
  const std::vector<size_t> ta = top_k(a, k), tb = top_k(b, k);
  std::vector<size_t> both;
  std::set_intersection(ta.begin(), ta.end(), tb.begin(), tb.end(), std::back_inserter(both));
  return double(both.size()) / double(k);
}

std::vector<double> hog(const std::vector<double>& m, int64_t height, int64_t width, int64_t cell) {
  const int64_t cy = height / cell, cx = width / cell;
  if (cy < 2 || cx < 2) return {};
  std::vector<double> cells(size_t(cy * cx * kHogBins), 0.0);
  auto at = [&](int64_t y, int64_t x) { return m[size_t(y * width + x)]; };
  for (int64_t y = 0; y < cy * cell; ++y)
    for (int64_t x = 0; x < cx * cell; ++x) {
      const double gy = y > 0 && y + 1 < height ? at(y + 1, x) - at(y - 1, x) : 0.0;
      const double gx = x > 0 && x + 1 < width ? at(y, x + 1) - at(y, x - 1) : 0.0;
      const double magnitude = std::hypot(gy, gx);
      if (magnitude == 0) continue;
      double theta = std::fmod(std::atan2(gy, gx) * 180.0 / M_PI, 180.0);
      if (theta < 0) theta += 180.0;
      const int bin = std::min(kHogBins - 1, int(theta / (180.0 / kHogBins)));
      cells[size_t(((y / cell) * cx + x / cell) * kHogBins + bin)] += magnitude;
    }
  for (double& v : cells) v /= double(cell * cell);
  const double eps2 = 1e-10;
  auto normalise = [&](std::vector<double>& v) {
    double s = 0;
    for (double e : v) s += e * e;
    for (double& e : v) e /= std::sqrt(s + eps2);
  };
  std::vector<double> out;
  for (int64_t by = 0; by + 1 < cy; ++by)
    for (int64_t bx = 0; bx + 1 < cx; ++bx) {
      std::vector<double> block;
      for (int64_t dy = 0; dy < 2; ++dy)
        for (int64_t dx = 0; dx < 2; ++dx) {
          const size_t c = size_t(((by + dy) * cx + bx + dx) * kHogBins);
          block.insert(block.end(), cells.begin() + long(c), cells.begin() + long(c + kHogBins));
        }
      normalise(block);
      for (double& e : block) e = std::min(e, 0.2);
      normalise(block);
      out.insert(out.end(), block.begin(), block.end());
    }
  return out;
}

double hog_similarity(const std::vector<double>& a, const std::vector<double>& b, int64_t height, int64_t width,
                      int64_t cell) {
  return pearson(hog(a, height, width, cell), hog(b, height, width, cell));
}

}  // namespace gradlens
