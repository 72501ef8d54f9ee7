#include "attribution/metrics/perturbation.h"

#include <algorithm>
#include <cmath>
#include <numeric>

#include "attribution/gradients.h"
#include "engine/enum_table.h"
#include "engine/error.h"
#include "engine/random.h"
#include "io/npy.h"

namespace gradlens {

Tensor example(const Tensor& batch, int64_t n) {
  Shape s = batch.shape();
  const int64_t per = batch.numel() / s[0];
  s[0] = 1;
  Tensor out(s);
  std::copy(batch.data() + n * per, batch.data() + (n + 1) * per, out.data());
  return out;
}

Tensor gaussian_blur(const Tensor& image, int64_t size, double sigma) {
  GL_CHECK(image.rank() == 4, "blur needs [1, C, H, W] images, got ", image.shape().str());
  const int64_t C = image.dim(1), H = image.dim(2), W = image.dim(3), r = size / 2;
  std::vector<double> k(static_cast<size_t>(size));
  double total = 0;
  for (int64_t i = 0; i < size; ++i) total += k[size_t(i)] = std::exp(-0.5 * double((i - r) * (i - r)) / (sigma * sigma));
  for (double& v : k) v /= total;  // the 2-D kernel k(i)·k(j) sums to 1, as gkern's
  Tensor rowsum(image.shape()), out(image.shape());
  for (int64_t c = 0; c < C; ++c) {
    const float* x = image.data() + c * H * W;
    float* t = rowsum.data() + c * H * W;
    for (int64_t y = 0; y < H; ++y)
      for (int64_t xx = 0; xx < W; ++xx) {
        double s = 0;
        for (int64_t i = -r; i <= r; ++i)
          if (xx + i >= 0 && xx + i < W) s += k[size_t(i + r)] * x[y * W + xx + i];
        t[y * W + xx] = float(s);
      }
    float* o = out.data() + c * H * W;
    for (int64_t y = 0; y < H; ++y)
      for (int64_t xx = 0; xx < W; ++xx) {
        double s = 0;
        for (int64_t i = -r; i <= r; ++i)
          if (y + i >= 0 && y + i < H) s += k[size_t(i + r)] * t[(y + i) * W + xx];
        o[y * W + xx] = float(s);
      }
  }
  return out;
}

namespace {
enum class Removal { zero, mean, blur, uniform };
const EnumName<Removal> kRemovals[] = {
    {"zero", Removal::zero}, {"mean", Removal::mean}, {"blur", Removal::blur}, {"uniform", Removal::uniform}};
}  // namespace

Tensor removal_image(const MetricInput& in, int64_t n, const std::string& removal, const std::string& metric) {
  const Tensor x = example(in.input, n);
  const Grid g = image_grid(in);
  const int64_t channels = x.numel() / g.size();
  const Removal* named = enum_find(kRemovals, removal);
  if (!named) {
    GL_CHECK(removal.size() > 4 && removal.substr(removal.size() - 4) == ".npy", metric, ": --removal must be ",
             enum_choices(kRemovals, ", ", ", "), " or a .npy file, got '", removal, "'");
    const Tensor file = read_npy(removal);
    if (file.numel() == x.numel()) return file.reshaped(x.shape()).clone();
    GL_CHECK(file.numel() == in.input.numel(), metric, ": --removal ", removal, ": shape ", file.shape().str(),
             " fits neither one example ", x.shape().str(), " nor the inputs ", in.input.shape().str());
    return example(file.reshaped(in.input.shape()), n);
  }
  Tensor out(x.shape());
  switch (*named) {
    case Removal::zero:
      break;
    case Removal::mean:
      for (int64_t c = 0; c < channels; ++c) {
        double s = 0;
        for (int64_t i = 0; i < g.size(); ++i) s += x[c * g.size() + i];
        for (int64_t i = 0; i < g.size(); ++i) out[c * g.size() + i] = float(s / double(g.size()));
      }
      break;
    case Removal::blur:
      GL_CHECK(x.rank() == 4, metric, ": --removal blur needs image inputs [N, C, H, W]");
      return gaussian_blur(x);
    case Removal::uniform: {
      const auto [lo, hi] = std::minmax_element(x.data(), x.data() + x.numel());
      Rng rng(example_seed(in, n));
      rng.fill_uniform(out, *lo, *hi);
      break;
    }
  }
  return out;
}

std::vector<int64_t> pixel_order(const std::vector<double>& m, bool lerf) {
  std::vector<int64_t> order(m.size());
  std::iota(order.begin(), order.end(), int64_t(0));
  std::stable_sort(order.begin(), order.end(), [&](int64_t a, int64_t b) {
    return lerf ? m[size_t(a)] < m[size_t(b)] : m[size_t(a)] > m[size_t(b)];
  });
  return order;
}

std::vector<std::vector<int64_t>> singleton_groups(const std::vector<int64_t>& order) {
  std::vector<std::vector<int64_t>> g;
  g.reserve(order.size());
  for (int64_t p : order) g.push_back({p});
  return g;
}

std::vector<double> perturbation_curve(const MetricInput& in, int64_t n, const Tensor& start, const Tensor& end,
                                       const std::vector<std::vector<int64_t>>& groups, int64_t steps,
                                       int64_t& forward_passes) {
  const Grid g = image_grid(in);
  const int64_t per = start.numel(), channels = per / g.size(), P = int64_t(groups.size());
  Shape s = start.shape();
  s[0] = steps + 1;
  Tensor batch(s);
  Tensor current = start.clone();
  int64_t moved = 0;
  for (int64_t k = 0; k <= steps; ++k) {
    const int64_t upto = k * P / steps;
    for (; moved < upto; ++moved)
      for (int64_t p : groups[size_t(moved)])
        for (int64_t c = 0; c < channels; ++c) current[c * g.size() + p] = end[c * g.size() + p];
    std::copy(current.data(), current.data() + per, batch.data() + k * per);
  }
  return target_scores(in, n, batch, forward_passes);
}

std::vector<double> target_scores(const MetricInput& in, int64_t n, const Tensor& images, int64_t& forward_passes) {
  const Tensor scores = evaluate_scores(*in.function, images, in.batch);
  forward_passes += images.dim(0);
  const int64_t C = scores.dim(1), t = in.targets[size_t(n)];
  GL_CHECK(t >= 0 && t < C, "target ", t, " is out of range for ", C, " classes");
  std::vector<double> y(size_t(images.dim(0)));
  for (int64_t k = 0; k < images.dim(0); ++k) y[size_t(k)] = scores[k * C + t];
  return y;
}

std::vector<double> saliency_weights(const MetricInput& in, int64_t n) {
  std::vector<double> m = pixel_map(in, n);
  const double top = *std::max_element(m.begin(), m.end());
  for (double& v : m) v = top > 0 ? std::max(v, 0.0) / top : 0.0;
  return m;
}

Tensor weighted_images(const MetricInput& in, int64_t n, const std::vector<double>& w, bool removed) {
  const Grid g = image_grid(in);
  const Tensor x = example(in.input, n);
  Shape s = x.shape();
  s[0] = 2;
  Tensor out(s);
  const int64_t per = x.numel(), channels = per / g.size();
  for (int64_t c = 0; c < channels; ++c)
    for (int64_t i = 0; i < g.size(); ++i) {
      const float v = x[c * g.size() + i];
      const double keep = removed ? 1.0 - w[size_t(i)] : w[size_t(i)];
      out[c * g.size() + i] = v;
      out[per + c * g.size() + i] = float(keep * v);
    }
  return out;
}

std::vector<std::pair<double, double>> masked_scores(const MetricInput& in, bool removed, int64_t& forward_passes) {
  std::vector<std::pair<double, double>> out;
  for (int64_t n = 0; n < in.input.dim(0); ++n) {
    const std::vector<double> y =
        target_scores(in, n, weighted_images(in, n, saliency_weights(in, n), removed), forward_passes);
    out.push_back({y[0], y[1]});
  }
  return out;
}

double trapezoid_auc(const std::vector<double>& y) {
  double s = 0;
  for (size_t k = 0; k + 1 < y.size(); ++k) s += 0.5 * (y[k] + y[k + 1]);
  return s / double(y.size() - 1);
}

std::vector<double> curve_fractions(int64_t steps) {
  std::vector<double> x;
  for (int64_t k = 0; k <= steps; ++k) x.push_back(double(k) / double(steps));
  return x;
}

}  // namespace gradlens

namespace gradlens {
MetricResult pixel_curves(const MetricInput& in, const MetricInfo& info, bool insertion, bool lerf) {
  const MethodInfo owner = parameter_owner(info);
  const int64_t steps = in.options.integer(owner, "steps", 1, 100000);
  const std::string removal = in.options.text(owner, "removal");
  MetricResult out;
  out.curve_x = curve_fractions(steps);
  for (int64_t n = 0; n < in.input.dim(0); ++n) {
    const auto groups = singleton_groups(pixel_order(pixel_map(in, n), lerf));
    const Tensor x = example(in.input, n), removed = removal_image(in, n, removal, info.name);
    const std::vector<double> y = insertion ? perturbation_curve(in, n, removed, x, groups, steps, out.forward_passes)
                                            : perturbation_curve(in, n, x, removed, groups, steps, out.forward_passes);
    out.values.push_back(trapezoid_auc(y));
    out.curves.push_back(y);
  }
  return out;
}
}  // namespace gradlens
