#include "attribution/noise.h"

#include <algorithm>
#include <cmath>
#include <cstring>

#include "attribution/gradients.h"
#include "engine/error.h"
#include "engine/enum_table.h"
#include "engine/random.h"

namespace gradlens {

namespace {
const EnumName<NoiseKind> kNoiseKinds[] = {{"none", NoiseKind::none},
                                           {"smoothgrad", NoiseKind::smoothgrad},
                                           {"smoothgrad-sq", NoiseKind::smoothgrad_sq},
                                           {"vargrad", NoiseKind::vargrad}};
}  // namespace

NoiseKind parse_noise_kind(const std::string& name) { return enum_value(kNoiseKinds, name, "noise wrapper"); }
const char* noise_kind_name(NoiseKind kind) { return enum_name(kNoiseKinds, kind); }
std::string noise_kind_names() { return enum_choices(kNoiseKinds, "|", "|"); }

double relative_sigma(const Tensor& x, int64_t n, double level) {
  const int64_t per = x.numel() / x.dim(0);
  const float* xn = x.data() + n * per;
  const auto [lo, hi] = std::minmax_element(xn, xn + per);
  return level * double(*hi - *lo);
}

void noisy_copies(const Tensor& x, int64_t n, int64_t S, double sigma, Rng& rng, float* out) {
  const int64_t per = x.numel() / x.dim(0);
  const float* xn = x.data() + n * per;
  for (int64_t j = 0; j < S * per; ++j) out[j] = float(xn[j % per] + sigma * rng.normal());
}

Explanation explain_with_noise(const Method& method, const Request& given_request, const NoiseOptions& noise) {
  if (noise.kind == NoiseKind::none) return method.explain(given_request);
  const Tensor& x = given_request.input;
  GL_CHECK(x.rank() >= 1 && x.dim(0) > 0, "noise wrapper: input must have a batch axis");
  const int64_t N = x.dim(0), per = x.numel() / N;
  // The classes come from the clean input, never from a noisy sample: one for all is spread, none
  // means each example's predicted class (one forward of the clean batch).
  Request request = given_request;
  Tensor clean_scores;
  auto spread = [&](std::vector<int64_t>& classes, const char* what) {
    GL_CHECK(classes.size() <= 1 || int64_t(classes.size()) == N, "noise wrapper: ", classes.size(), " ", what,
             " for ", N, " examples");
    if (classes.size() == 1) classes.assign(size_t(N), classes[0]);
  };
  spread(request.targets, "targets");
  spread(request.contrast, "contrast classes");
  if (request.targets.empty()) {
    clean_scores = evaluate_scores(*request.function, x, std::max<int64_t>(request.batch, 1));
    request.targets = predicted_classes(clean_scores);
  }
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
  GL_CHECK(noise.std < 0 || std::isfinite(noise.std), "noise σ must be finite, got ", noise.std);

  Rng rng(noise.seed);
  Explanation out;
  Shape sample_shape = x.shape();
  sample_shape[0] = S;
  Tensor samples(sample_shape);
  for (int64_t n = 0; n < N; ++n) {
    const float* xn = x.data() + n * per;
    if (!given)
      noisy_copies(x, n, S, noise.std >= 0 ? noise.std : relative_sigma(x, n, noise.level), rng, samples.data());
    for (int64_t s = 0; given && s < S; ++s) {
      const float* eps = noise.noise.data() + (n * S + s) * per;
      for (int64_t i = 0; i < per; ++i) samples[s * per + i] = xn[i] + eps[i];
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
  out.targets = request.targets;
  out.logits = clean_scores;
  out.notes["noise"] = noise_kind_name(noise.kind);
  out.notes["samples"] = std::to_string(S);
  if (!given && noise.std >= 0) out.notes["noise_std"] = std::to_string(noise.std);
  else if (!given) out.notes["noise_level"] = std::to_string(noise.level);
  return out;
}

}  // namespace gradlens
