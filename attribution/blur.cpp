// The Gaussian blur and its σ-derivative (see blur.h).
#include "attribution/blur.h"

#include <algorithm>
#include <cmath>

#include "engine/error.h"
#include "engine/parallel.h"

namespace gradlens {

namespace {
// One axis of length L filtered by the kernel (or its σ-derivative) with zeros beyond the
// borders: for each output position, the source positions and their weights.
struct AxisFilter {
  std::vector<std::vector<std::pair<int64_t, double>>> taps;
};

AxisFilter axis_filter(int64_t L, double sigma, bool derivative) {
  const int64_t radius = int64_t(4.0 * sigma + 0.5);
  std::vector<double> w(size_t(2 * radius + 1));
  double total = 0, second_moment = 0;
  for (int64_t j = -radius; j <= radius; ++j) total += w[size_t(j + radius)] = std::exp(-double(j * j) / (2 * sigma * sigma));
  for (int64_t j = -radius; j <= radius; ++j) {
    w[size_t(j + radius)] /= total;
    second_moment += w[size_t(j + radius)] * double(j * j);
  }
  if (derivative) {
    const double s3 = sigma * sigma * sigma;
    for (int64_t j = -radius; j <= radius; ++j) w[size_t(j + radius)] *= (double(j * j) - second_moment) / s3;
  }
  AxisFilter f;
  f.taps.resize(size_t(L));
  for (int64_t i = 0; i < L; ++i)
    for (int64_t j = std::max(-radius, -i); j <= std::min(radius, L - 1 - i); ++j)
      f.taps[size_t(i)].push_back({i + j, w[size_t(j + radius)]});
  return f;
}

// out[i] = Σ taps(i) in[src], along an axis with the given stride, for `lines` lines.
void apply_axis(const AxisFilter& f, const double* in, double* out, int64_t L, int64_t stride) {
  for (int64_t i = 0; i < L; ++i) {
    double s = 0;
    for (const auto& [src, w] : f.taps[size_t(i)]) s += w * in[src * stride];
    out[i * stride] = s;
  }
}
}  // namespace

Tensor gaussian_blur(const Tensor& x, double sigma, bool sigma_derivative) {
  GL_CHECK(x.rank() >= 2, "blur: input must be [N, D], [N, C, L] or [N, C, H, W], got ", x.shape().str());
  GL_CHECK(x.rank() <= 4, "blur: inputs of rank ", x.rank(), " are not supported (", x.shape().str(), ")");
  GL_CHECK(std::isfinite(sigma) && sigma >= 0, "blur: sigma must be finite and non-negative, got ", sigma);
  if (sigma == 0) return sigma_derivative ? Tensor(x.shape()) : x.clone();
  const bool two_d = x.rank() == 4;
  const int64_t W = x.dim(x.rank() - 1), H = two_d ? x.dim(2) : 1;
  const int64_t planes = x.numel() / (H * W);
  const AxisFilter fx = axis_filter(W, sigma, false), fy = axis_filter(H, sigma, false);
  AxisFilter dx, dy;
  if (sigma_derivative) {
    dx = axis_filter(W, sigma, true);
    dy = axis_filter(H, sigma, true);
  }
  Tensor out(x.shape());
  parallel_for(planes, [&](int64_t p) {
    const float* src = x.data() + p * H * W;
    std::vector<double> in(src, src + H * W), along_x(size_t(H * W)), result(size_t(H * W));
    auto blur2 = [&](const AxisFilter& ax, const AxisFilter& ay, double* dst) {
      for (int64_t r = 0; r < H; ++r) apply_axis(ax, in.data() + r * W, along_x.data() + r * W, W, 1);
      if (!two_d) {
        std::copy(along_x.begin(), along_x.end(), dst);
        return;
      }
      for (int64_t c = 0; c < W; ++c) apply_axis(ay, along_x.data() + c, dst + c, H, W);
    };
    if (!sigma_derivative) {
      blur2(fx, fy, result.data());
    } else if (!two_d) {
      blur2(dx, fy, result.data());
    } else {
      // ∂σ (K_y K_x x) = K_y K'_x x + K'_y K_x x
      std::vector<double> second(size_t(H * W));
      blur2(dx, fy, result.data());
      blur2(fx, dy, second.data());
      for (int64_t i = 0; i < H * W; ++i) result[size_t(i)] += second[size_t(i)];
    }
    float* dst = out.data() + p * H * W;
    for (int64_t i = 0; i < H * W; ++i) dst[i] = float(result[size_t(i)]);
  });
  return out;
}
}  // namespace gradlens
