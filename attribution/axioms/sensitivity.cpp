// Sensitivity (a) (Sundararajan et al. 2017 §2.1): for every input x and baseline x′ that differ
// in one feature only and have different outputs, the differing feature gets a non-zero
// attribution. Checked on a seeded sample of the first example's features i with xᵢ ≠ 0: the
// input is the zero baseline with feature i set to xᵢ (methods with a --baseline run with zero).
// "Changes": |f(xᵢ) − f(0)| > 10⁻⁶·max(|f(0)|, 1); "non-zero": |aᵢ| > 10⁻⁶·|f(xᵢ) − f(0)|.
// Violation: the share of tested features (those whose change moves f) that got zero.
#include <algorithm>
#include <cmath>
#include <cstring>

#include "attribution/axioms/axiom_support.h"
#include "attribution/axioms/axioms.h"
#include "engine/random.h"

namespace gradlens {

using namespace axioms_detail;

namespace {
// Up to k distinct indices of `candidates` (a seeded partial Fisher–Yates shuffle), sorted.
std::vector<int64_t> sample(std::vector<int64_t> candidates, int64_t k, uint64_t seed) {
  Rng rng(seed);
  const int64_t m = std::min<int64_t>(k, int64_t(candidates.size()));
  for (int64_t i = 0; i < m; ++i)
    std::swap(candidates[size_t(i)], candidates[size_t(i + rng.below(int64_t(candidates.size()) - i))]);
  candidates.resize(size_t(m));
  std::sort(candidates.begin(), candidates.end());
  return candidates;
}
}  // namespace

AxiomResult check_sensitivity(const Method& m, const Options& o, const AxiomSubject& s, const AxiomSettings& c) {
  const Tensor& x = s.input;
  const int64_t per = x.numel() / x.dim(0);
  std::vector<int64_t> nonzero;
  for (int64_t i = 0; i < per; ++i)
    if (x[i] != 0) nonzero.push_back(i);
  AxiomResult result;
  const std::vector<int64_t> features = sample(nonzero, c.sensitivity_features, c.seed);
  if (features.empty()) {
    result.detail = "the first example has no non-zero feature";
    return result;
  }
  std::vector<int64_t> shape = x.shape().vec();
  shape[0] = 1;
  const Tensor zero(Shape(shape), 0.f);
  const int64_t t = s.targets[0];
  const double f0 = target_scores(*s.function, zero, {t}, s.batch)[0];

  // One row per sampled feature: zero except that feature.
  shape[0] = int64_t(features.size());
  Tensor single(Shape(shape), 0.f);
  for (size_t k = 0; k < features.size(); ++k) single[int64_t(k) * per + features[k]] = x[features[k]];
  const std::vector<int64_t> targets(features.size(), t);
  const std::vector<double> fk = target_scores(*s.function, single, targets, s.batch);

  std::vector<int64_t> moved;  // rows whose one feature changes f
  for (size_t k = 0; k < features.size(); ++k)
    if (std::fabs(fk[k] - f0) > 1e-6 * std::max(std::fabs(f0), 1.0)) moved.push_back(int64_t(k));
  if (moved.empty()) {
    result.detail = "none of the " + std::to_string(features.size()) + " sampled features changes f on its own";
    return result;
  }
  shape[0] = int64_t(moved.size());
  Tensor rows{Shape(shape)};
  for (size_t r = 0; r < moved.size(); ++r)
    std::memcpy(rows.data() + int64_t(r) * per, single.data() + moved[r] * per, sizeof(float) * size_t(per));
  const Explanation e = run_method(m, with_parameter(m, o, "baseline", "zero"), *s.function, rows,
                                   std::vector<int64_t>(moved.size(), t), s.batch);
  std::vector<double> tested, change, attribution;
  int64_t zeros = 0;
  for (size_t r = 0; r < moved.size(); ++r) {
    const int64_t i = features[size_t(moved[r])];
    const double df = fk[size_t(moved[r])] - f0, a = e.attribution[int64_t(r) * per + i];
    tested.push_back(double(i));
    change.push_back(df);
    attribution.push_back(a);
    if (std::fabs(a) <= 1e-6 * std::fabs(df)) ++zeros;
  }
  result.numbers["feature"] = tested;
  result.numbers["output_change"] = change;
  result.numbers["attribution"] = attribution;
  result.violation = double(zeros) / double(moved.size());
  result.verdict = zeros == 0 ? Verdict::pass : Verdict::fail;
  result.detail = std::to_string(zeros) + " of " + std::to_string(moved.size()) +
                  " features that change f on their own got zero attribution";
  return result;
}

}  // namespace gradlens
