// Noise wrappers around any method (Smilkov et al. 2017; Adebayo et al. 2018):
//   smoothgrad     (1/S) Σ_s A(x + ε_s)
//   smoothgrad-sq  (1/S) Σ_s A(x + ε_s)²
//   vargrad        (1/S) Σ_s A(x + ε_s)² − ((1/S) Σ_s A(x + ε_s))²   (population variance)
// with ε_s ~ N(0, σ²) per element and σ = level · (max(x) − min(x)) of each example (as Smilkov
// et al. and PAIR saliency), or an absolute σ (`std`, as Captum's NoiseTunnel stdevs). Given noise
// draws [N, S, ...] are added as they are. The S samples of an example run as one batch of rows
// through the wrapped method (chunked by the request's batch size).
#pragma once
#include <string>

#include "attribution/method.h"
#include "engine/random.h"

namespace gradlens {

enum class NoiseKind { none, smoothgrad, smoothgrad_sq, vargrad };
NoiseKind parse_noise_kind(const std::string& name);  // "none", "smoothgrad", "smoothgrad-sq", "vargrad"
const char* noise_kind_name(NoiseKind kind);
std::string noise_kind_names();  // "none|smoothgrad|smoothgrad-sq|vargrad"

struct NoiseOptions {
  NoiseKind kind = NoiseKind::smoothgrad;
  int64_t samples = 50;
  double level = 0.15;
  double std = -1;  // ≥ 0: σ itself for every example, instead of level · (max − min)
  uint64_t seed = 0;
  Tensor noise;  // optional exact draws [N, S, ...]; overrides samples, level and seed
};

// σ = level · (max(x_n) − min(x_n)) of example n of x.
double relative_sigma(const Tensor& x, int64_t n, double level);

// S noisy copies of example n of x into `out` [S·per floats]: x_n + ε, ε ~ N(0, σ²) drawn from
// rng in row order.
void noisy_copies(const Tensor& x, int64_t n, int64_t S, double sigma, Rng& rng, float* out);

Explanation explain_with_noise(const Method& method, const Request& request, const NoiseOptions& noise);

}  // namespace gradlens
