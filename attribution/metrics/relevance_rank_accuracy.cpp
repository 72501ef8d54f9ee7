// Relevance rank accuracy (Arras et al. 2022, "CLEVR-XAI", §4.1): with K = |GT| pixels in the
// mask, the share of the K highest-ranked pixels of the pooled relevance R that lie in the mask,
// |top_K(R) ∩ GT| / K. Ties are ranked by pixel index (row-major), so the result is deterministic.
#include <algorithm>
#include <numeric>

#include "attribution/metrics/maps.h"

namespace gradlens {
namespace {

class RelevanceRankAccuracy : public PooledRegionMetric {
 public:
  const MetricInfo& info() const override {
    static const MetricInfo i = {
        "relevance-rank-accuracy", "localisation", "Arras et al. 2022", "|top_K(R) ∩ GT| / K, K = |GT|", "0",
        true, true, false, {pooling_parameter()}, {}};
    return i;
  }

 protected:
  double score(const std::vector<double>& R, const std::vector<uint8_t>& gt) const override {
    const size_t K = size_t(std::count(gt.begin(), gt.end(), uint8_t(1)));
    std::vector<size_t> order(R.size());
    std::iota(order.begin(), order.end(), size_t(0));
    std::stable_sort(order.begin(), order.end(), [&](size_t a, size_t b) { return R[a] > R[b]; });
    size_t hits = 0;
    for (size_t k = 0; k < K; ++k) hits += gt[order[k]];
    return double(hits) / double(K);
  }
};

}  // namespace
}  // namespace gradlens

GRADLENS_REGISTER_METRIC(relevance_rank_accuracy, gradlens::RelevanceRankAccuracy)
