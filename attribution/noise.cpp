#include "attribution/noise.h"

#include <algorithm>
#include <cstring>

#include "attribution/gradients.h"
#include "engine/error.h"
#include "engine/random.h"

namespace gradlens {

NoiseKind parse_noise_kind(const std::string& name) {
  if (name == "none") return NoiseKind::none;
  if (name == "smoothgrad") return NoiseKind::smoothgrad;
  if (name == "smoothgrad-sq") return NoiseKind::smoothgrad_sq;
  if (name == "vargrad") return NoiseKind::vargrad;
  fail("unknown noise wrapper '", name, "' (expected smoothgrad, smoothgrad-sq or vargrad)");
}

const char* noise_kind_name(NoiseKind kind) {
  switch (kind) {
    case NoiseKind::none: return "none";
    case NoiseKind::smoothgrad: return "smoothgrad";
    case NoiseKind::smoothgrad_sq: return "smoothgrad-sq";
    case NoiseKind::vargrad: return "vargrad";
  }
  return "?";
}

Explanation explain_with_noise(const Method& method, const Request& request, const NoiseOptions& noise) {
  if (noise.kind == NoiseKind::none) return method.explain(request);
  const Tensor& x = request.input;
  GL_CHECK(x.rank() >= 1 && x.dim(0) > 0, "noise wrapper: input must have a batch axis");
  const int64_t N = x.dim(0), per = x.numel() / N;
  const bool given = !noise.noise.empty();
  const int64_t S = given ? (noise.noise.rank() >= 2 ? noise.noise.dim(1) : 0) : noise.samples;
  if (given) {
    bool ok = noise.noise.rank() == x.rank() + 1 && noise.noise.dim(0) == N;
    for (int i = 1; ok && i < x.rank(); ++i) ok = noise.noise.dim(i + 1) == x.dim(i);
    Shape want = x.shape();
    GL_CHECK(ok, "noise file has shape ", noise.noise.shape().str(), "; expected [N, S, ...] = [",
             N, ", S", x.rank() > 1 ? ", ..." : "", "] matching the input ", want.str());
  }
  GL_CHECK(S >= 1, "noise wrapper: at least one sample is needed");
  GL_CHECK(noise.level >= 0, "noise level must be non-negative, got ", noise.level);

  Rng rng(noise.seed);
  Explanation out;
  Shape sample_shape = x.shape();
  sample_shape[0] = S;
  Tensor samples(sample_shape);
  for (int64_t n = 0; n < N; ++n) {
    const float* xn = x.data() + n * per;
    const auto [lo, hi] = std::minmax_element(xn, xn + per);
    const double sigma = noise.level * double(*hi - *lo);
    for (int64_t s = 0; s < S; ++s) {
      float* dst = samples.data() + s * per;
      if (given) {
        const float* eps = noise.noise.data() + (n * S + s) * per;
        for (int64_t i = 0; i < per; ++i) dst[i] = xn[i] + eps[i];
      } else {
        for (int64_t i = 0; i < per; ++i) dst[i] = float(xn[i] + sigma * rng.normal());
      }
    }
    Request sub = request;
    sub.input = samples;
    sub.targets.assign(size_t(S), request.targets[size_t(n)]);
    sub.contrast = request.contrast.empty() ? std::vector<int64_t>{}
                                            : std::vector<int64_t>(size_t(S), request.contrast[size_t(n)]);
    Explanation e = method.explain(sub);
    const Tensor& a = e.attribution;
    const int64_t apr = a.numel() / S;
    if (out.attribution.empty()) {
      Shape s = a.shape();
      s[0] = N;
      out.attribution = Tensor(s);
      out.notes = e.notes;
    }
    float* dst = out.attribution.data() + n * apr;
    for (int64_t i = 0; i < apr; ++i) {
      double sum = 0, sum_sq = 0;
      for (int64_t s = 0; s < S; ++s) {
        const double v = a[s * apr + i];
        sum += v;
        sum_sq += v * v;
      }
      const double mean = sum / double(S), mean_sq = sum_sq / double(S);
      dst[i] = float(noise.kind == NoiseKind::smoothgrad      ? mean
                     : noise.kind == NoiseKind::smoothgrad_sq ? mean_sq
                                                              : mean_sq - mean * mean);
    }
    double score = 0;
    for (double v : e.scores) score += v;
    out.scores.push_back(score / double(S));
    out.forward_passes += e.forward_passes;
    out.backward_passes += e.backward_passes;
  }
  out.notes["noise"] = noise_kind_name(noise.kind);
  out.notes["samples"] = std::to_string(S);
  if (!given) out.notes["noise_level"] = std::to_string(noise.level);
  return out;
}

}  // namespace gradlens
