// The perturbation curves of the faithfulness metrics (deletion, insertion, AOPC, ABPC):
// pixels (all channels of a pixel together) are ranked by the channel-summed attribution
// m = Σ_c a_c, most relevant first (MoRF) or least relevant first (LeRF), ties broken by pixel
// index; curve point k = 0..S moves the first ⌊k·P/S⌋ ranked pixels of `start` to their values in
// `end`, and the S + 1 images of one curve run through the model as batches
// (evaluate_scores). The value read is column `target` of the Function's scores.
#pragma once
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "attribution/metrics/maps.h"

namespace gradlens {

// Example n as a [1, ...] tensor (an owning copy).
Tensor example(const Tensor& batch, int64_t n);

// What a removed pixel becomes (Petsiuk et al. 2018's "zero" and "blur"; "mean": each channel's
// mean over the example; "uniform": U(min x, max x) per value, seeded by (seed, n) as Samek et al.
// 2017; any other text is a .npy file shaped like one example or like the whole batch).
Tensor removal_image(const MetricInput& in, int64_t n, const std::string& removal, const std::string& metric);
// Each channel convolved with a normalised 11×11 Gaussian of σ = 5 and zero padding (Petsiuk et
// al.'s code: gkern(11, 5) applied with padding 5).
Tensor gaussian_blur(const Tensor& image, int64_t size = 11, double sigma = 5.0);

// Pixel indices ranked by m, most relevant first (or least relevant first when `lerf`).
std::vector<int64_t> pixel_order(const std::vector<double>& m, bool lerf);

// Scores of the S + 1 images between `start` and `end` along `order` (units of `unit` pixels per
// ranked entry: 1 for pixels; patch ranks expand to their pixels through `groups`).
std::vector<double> perturbation_curve(const MetricInput& in, int64_t n, const Tensor& start, const Tensor& end,
                                       const std::vector<std::vector<int64_t>>& groups, int64_t steps,
                                       int64_t& forward_passes);
// Each ranked pixel as its own group.
std::vector<std::vector<int64_t>> singleton_groups(const std::vector<int64_t>& order);

// Column target[n] of the Function's scores for each row of `images` (run as batches).
std::vector<double> target_scores(const MetricInput& in, int64_t n, const Tensor& images, int64_t& forward_passes);

// The explanation map as a mask in [0, 1] (Chattopadhyay et al. 2018: the normalised map):
// w = max(m, 0) / max m per pixel (all 0 when m has no positive value).
std::vector<double> saliency_weights(const MetricInput& in, int64_t n);
// [2, ...]: x and w ⊙ x (the important regions kept), or (1 − w) ⊙ x when `removed`; w is
// broadcast over channels.
Tensor weighted_images(const MetricInput& in, int64_t n, const std::vector<double>& w, bool removed);

// Per example, (f_c(x), f_c(w ⊙ x)) — or (f_c(x), f_c((1 − w) ⊙ x)) when `removed` — with w the
// normalised map (saliency_weights): what average drop, increase in confidence and ADD read.
std::vector<std::pair<double, double>> masked_scores(const MetricInput& in, bool removed, int64_t& forward_passes);

// ∫₀¹ y dx by the trapezoid rule over S + 1 equally spaced points (Petsiuk et al.'s auc).
double trapezoid_auc(const std::vector<double>& y);
std::vector<double> curve_fractions(int64_t steps);  // k / S

}  // namespace gradlens

namespace gradlens {
// One pixel curve per example (parameters "steps" and "removal" of `info`): from x towards the
// removal image (deletion) or from the removal image back to x (insertion), pixels in MoRF order
// (LeRF when `lerf`); values = trapezoid AUCs, curves kept.
MetricResult pixel_curves(const MetricInput& in, const MetricInfo& info, bool insertion, bool lerf);
}  // namespace gradlens
