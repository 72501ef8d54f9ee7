// Structural similarity (Wang et al. 2004, "Image quality assessment: from error visibility to
// structural similarity", eq. 13) of two H×W maps, as scikit-image's structural_similarity with
// its defaults: 7×7 uniform windows over the valid region (windows wholly inside the map),
// sample (co)variances (÷ 48), C1 = (0.01 L)², C2 = (0.03 L)² with L the larger of the two maps'
// max − min (1 when both are constant), and the mean of the per-window SSIM. Maps smaller than
// 7 in a side use the whole side as the window.
#pragma once
#include <cstdint>
#include <vector>

namespace gradlens {

double ssim(const std::vector<double>& a, const std::vector<double>& b, int64_t height, int64_t width);

}  // namespace gradlens
