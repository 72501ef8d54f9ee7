// Similarity of two attribution maps, as the model-randomisation test (Adebayo et al. 2018,
// "Sanity checks for saliency maps", §3 and Fig. 2) measures it. All take maps as flat row-major
// vectors of equal length.
//   pearson(a, b)   Σ(a−ā)(b−b̄) / √(Σ(a−ā)² Σ(b−b̄)²); when a variance is 0: 1 if both are 0
//                   (two constant vectors, nothing tells them apart), else 0.
//   spearman(a, b)  pearson of the ranks, ties given their average rank (scipy's spearmanr).
//   top_k_intersection(a, b, k)  |top-k(a) ∩ top-k(b)| / k, top-k by value, ties to the lower index.
//   hog(m, H, W, cell)  histogram of oriented gradients (Dalal & Triggs 2005, scikit-image's hog
//       with one channel): gradients by [−1, 0, 1] (0 on the border rows/columns), unsigned
//       orientation θ = atan2(g_y, g_x) mod 180° in 9 bins of 20°; each cell × cell block of pixels
//       (whole cells only, from the top-left) holds the magnitude sum per bin divided by cell²;
//       blocks of 2 × 2 cells at a stride of one cell, each normalised by L2-Hys
//       (v/√(‖v‖²+ε²), clipped at 0.2, renormalised; ε = 1e-5). Empty when the map holds fewer
//       than 2 × 2 cells.
//   hog_similarity  pearson of the two HOG vectors (Adebayo et al.'s "HOG similarity").
#pragma once
#include <cstdint>
#include <vector>

namespace gradlens {

double pearson(const std::vector<double>& a, const std::vector<double>& b);
std::vector<double> average_ranks(const std::vector<double>& v);  // 1-based, ties averaged
double spearman(const std::vector<double>& a, const std::vector<double>& b);
double top_k_intersection(const std::vector<double>& a, const std::vector<double>& b, int64_t k);

constexpr int kHogBins = 9;
std::vector<double> hog(const std::vector<double>& map, int64_t height, int64_t width, int64_t cell);
double hog_similarity(const std::vector<double>& a, const std::vector<double>& b, int64_t height, int64_t width,
                      int64_t cell);

}  // namespace gradlens
