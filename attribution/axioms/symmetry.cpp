// Symmetry preservation (Sundararajan et al. 2017 §3.1): when swapping features i and j leaves f
// unchanged, an input with xᵢ = xⱼ and a baseline with x′ᵢ = x′ⱼ get aᵢ = aⱼ. The check makes
// each example symmetric (xⱼ := xᵢ) and runs the method there; the baseline the method's options
// build must be symmetric too, or the check does not apply.
// Violation: maxₙ |aᵢ − aⱼ| / max(|aᵢ|, |aⱼ|).
#include <algorithm>
#include <cmath>

#include "attribution/axioms/axiom_support.h"
#include "attribution/axioms/axioms.h"
#include "attribution/baselines.h"
#include "engine/error.h"
#include "engine/random.h"

namespace gradlens {

using namespace axioms_detail;

AxiomResult check_symmetry(const Method& m, const Options& o, const AxiomSubject& s, const AxiomSettings& c) {
  AxiomResult result;
  if (s.symmetric.size() != 2) {
    result.detail = "no pair of symmetric features (analytic models declare one; --symmetric i,j asserts one)";
    return result;
  }
  const int64_t i = s.symmetric[0], j = s.symmetric[1];
  const int64_t N = s.input.dim(0), per = s.input.numel() / N;
  GL_CHECK(i >= 0 && j >= 0 && i < per && j < per && i != j, "symmetric features ", i, ",", j,
           " must be two different indices below ", per);
  Tensor x = s.input.clone();
  for (int64_t n = 0; n < N; ++n) x[n * per + j] = x[n * per + i];
  if (declares(m, "baseline")) {
    Request r;
    r.input = x;
    r.options = o;
    const Tensor b = parse_baseline(m.info(), r);
    for (int64_t n = 0; n < N; ++n)
      if (b[n * per + i] != b[n * per + j]) {
        result.detail = "the baseline (" + o.text(m.info(), "baseline") + ") differs in features " +
                        std::to_string(i) + " and " + std::to_string(j);
        return result;
      }
  }
  const Explanation e = run_method(m, o, *s.function, x, s.targets, s.batch);
  std::vector<double> ai(static_cast<size_t>(N)), aj(static_cast<size_t>(N));
  double worst = 0;
  for (int64_t n = 0; n < N; ++n) {
    ai[size_t(n)] = e.attribution[n * per + i];
    aj[size_t(n)] = e.attribution[n * per + j];
    worst = std::max(worst, relative(ai[size_t(n)], aj[size_t(n)]));
  }
  result.numbers["a_i"] = ai;
  result.numbers["a_j"] = aj;
  result.violation = worst;
  result.verdict = worst <= c.tolerance ? Verdict::pass : Verdict::fail;
  result.detail = "a" + std::to_string(i) + " against a" + std::to_string(j) + " with x" + std::to_string(j) +
                  " := x" + std::to_string(i) + ": max relative difference " + number_text(worst) + " (tolerance " +
                  number_text(c.tolerance) + ")";
  return result;
}

double symmetry_defect(const Function& f, const Tensor& x, const std::vector<int64_t>& targets, int64_t i,
                       int64_t j, int64_t batch, int random_points, uint64_t seed) {
  const int64_t N = x.dim(0), per = x.numel() / N;
  GL_CHECK(i >= 0 && j >= 0 && i < per && j < per && i != j, "symmetric features ", i, ",", j,
           " must be two different indices below ", per);
  float lo = x[0], hi = x[0];
  for (int64_t k = 0; k < x.numel(); ++k) lo = std::min(lo, x[k]), hi = std::max(hi, x[k]);
  if (lo == hi) lo -= 1, hi += 1;
  // The examples, then random points in their range (targets of the first example).
  std::vector<int64_t> shape = x.shape().vec();
  shape[0] = N + random_points;
  Tensor points{Shape(shape)};
  std::copy(x.data(), x.data() + x.numel(), points.data());
  Rng rng(seed);
  for (int64_t k = x.numel(); k < points.numel(); ++k) points[k] = float(rng.uniform(lo, hi));
  std::vector<int64_t> t = targets;
  t.resize(size_t(N + random_points), targets[0]);
  Tensor swapped = points.clone();
  for (int64_t n = 0; n < N + random_points; ++n) std::swap(swapped[n * per + i], swapped[n * per + j]);
  const std::vector<double> a = target_scores(f, points, t, batch), b = target_scores(f, swapped, t, batch);
  double worst = 0;
  for (size_t n = 0; n < a.size(); ++n) worst = std::max(worst, std::fabs(a[n] - b[n]) / std::max(std::fabs(a[n]), 1.0));
  return worst;
}

}  // namespace gradlens
