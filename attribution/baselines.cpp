// Path baselines x′ (see baselines.h).
#include "attribution/baselines.h"

#include <algorithm>

#include "attribution/blur.h"
#include "engine/broadcast.h"
#include "engine/enum_table.h"
#include "engine/error.h"
#include "engine/random.h"
#include "io/npy.h"

namespace gradlens {

namespace {
enum class BaselineKind { zero, black, white, uniform, blur, mean };
const EnumName<BaselineKind> kBaselines[] = {{"zero", BaselineKind::zero},   {"black", BaselineKind::black},
                                             {"white", BaselineKind::white}, {"uniform", BaselineKind::uniform},
                                             {"blur", BaselineKind::blur},   {"mean", BaselineKind::mean}};

// A FILE.npy baseline broadcast to x's shape.
Tensor file_baseline(const Tensor& x, const std::string& path) {
  GL_CHECK(path.size() > 4 && path.compare(path.size() - 4, 4, ".npy") == 0, "unknown baseline '", path,
           "' (expected ", enum_choices(kBaselines, ", ", ", "), " or a FILE.npy)");
  const Tensor file = read_npy(path);
  Shape joint;
  try {
    joint = broadcast_shapes(x.shape(), file.shape());
  } catch (const Error&) {
    joint = Shape();
  }
  GL_CHECK(joint == x.shape(), path, ": baseline of shape ", file.shape().str(),
           " does not broadcast to the input's shape ", x.shape().str());
  Tensor b(x.shape());
  BroadcastPlan plan(x.shape(), file.shape(), x.shape());
  plan.for_each_sequential([&](int64_t out, int64_t, int64_t ib, int64_t length, int64_t, int64_t sb) {
    for (int64_t i = 0; i < length; ++i) b[out + i] = file[ib + i * sb];
  });
  return b;
}
}  // namespace

Tensor make_baseline(const Tensor& x, const std::string& kind, double blur_sigma, uint64_t seed) {
  GL_CHECK(x.rank() >= 2 && x.dim(0) > 0, "baseline: input must be [N, ...] with N > 0, got ", x.shape().str());
  const BaselineKind* named = enum_find(kBaselines, kind);
  if (!named) return file_baseline(x, kind);
  const int64_t N = x.dim(0), per = x.numel() / N;
  Tensor b(x.shape());
  switch (*named) {
    case BaselineKind::zero:
      break;
    case BaselineKind::black:
    case BaselineKind::white:
    case BaselineKind::uniform: {
      Rng rng(seed);
      for (int64_t n = 0; n < N; ++n) {
        const float* xn = x.data() + n * per;
        const auto [lo, hi] = std::minmax_element(xn, xn + per);
        float* bn = b.data() + n * per;
        for (int64_t i = 0; i < per; ++i)
          bn[i] = *named == BaselineKind::black   ? *lo
                  : *named == BaselineKind::white ? *hi
                                                  : float(rng.uniform(*lo, *hi));
      }
      break;
    }
    case BaselineKind::blur:
      return gaussian_blur(x, blur_sigma);
    case BaselineKind::mean: {
      const int64_t C = x.rank() >= 3 ? x.dim(1) : 1, inner = per / C;
      for (int64_t p = 0; p < N * C; ++p) {
        double sum = 0;
        for (int64_t i = 0; i < inner; ++i) sum += x[p * inner + i];
        const float mean = float(sum / double(inner));
        for (int64_t i = 0; i < inner; ++i) b[p * inner + i] = mean;
      }
      break;
    }
  }
  return b;
}

std::vector<Parameter> baseline_parameters() {
  return {{"baseline", "zero", enum_choices(kBaselines, "|", "|") + "|FILE.npy (broadcast to the input)"},
          {"blur-sigma", "10", "σ of the blur baseline, in samples"},
          {"seed", "0", "random seed (uniform baseline)"}};
}

Tensor parse_baseline(const MethodInfo& m, const Request& r) {
  return make_baseline(r.input, r.options.text(m, "baseline"), r.options.number(m, "blur-sigma", 0, 1e6),
                       uint64_t(r.options.integer(m, "seed", 0, INT64_MAX)));
}

}  // namespace gradlens
