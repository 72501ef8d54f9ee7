// Implementation invariance (Sundararajan et al. 2017 §2.2): attributions depend on the function,
// not on how a network computes it. Each twin (twins.h) is first checked to compute the same
// scores (to 10⁻⁴ relative: float rounding differs with the order of sums); a twin that does not
// is reported and left out. The method then runs on the original and on every twin.
// Violation: max over twins and examples of ‖A(twin) − A(f)‖₂ / max(‖A(twin)‖₂, ‖A(f)‖₂).
#include <algorithm>
#include <cmath>

#include "attribution/axioms/axiom_support.h"
#include "attribution/axioms/axioms.h"

namespace gradlens {

using namespace axioms_detail;

double twin_output_difference(const Function& f, const Function& g, const Tensor& x, const std::vector<int64_t>& targets,
                              int64_t batch) {
  const std::vector<double> a = target_scores(f, x, targets, batch), b = target_scores(g, x, targets, batch);
  double scale = 1, worst = 0;
  for (double v : a) scale = std::max(scale, std::fabs(v));
  for (size_t n = 0; n < a.size(); ++n) worst = std::max(worst, std::fabs(a[n] - b[n]));
  return worst / scale;
}

AxiomResult check_implementation_invariance(const Method& m, const Options& o, const AxiomSubject& s,
                                            const AxiomSettings& c) {
  AxiomResult result;
  if (s.twins.empty()) {
    result.detail = s.twins_note.empty() ? "no functionally equivalent twins" : s.twins_note;
    return result;
  }
  const int64_t N = s.input.dim(0), per = s.input.numel() / N;
  const Explanation original = run_method(m, o, *s.function, s.input, s.targets, s.batch);
  std::vector<double> per_twin;
  std::string worst_twin, left_out;
  double worst = 0;
  for (size_t k = 0; k < s.twins.size(); ++k) {
    if (twin_output_difference(*s.function, *s.twins[k], s.input, s.targets, s.batch) > 1e-4) {
      left_out += "; left out (outputs differ): " + s.twin_descriptions[k];
      continue;
    }
    const Explanation twin = run_method(m, o, *s.twins[k], s.input, s.targets, s.batch);
    double here = 0;
    for (int64_t n = 0; n < N; ++n) {
      std::vector<double> a(original.attribution.data() + n * per, original.attribution.data() + (n + 1) * per);
      std::vector<double> b(twin.attribution.data() + n * per, twin.attribution.data() + (n + 1) * per);
      here = std::max(here, relative_l2(a.data(), b.data(), per));
    }
    per_twin.push_back(here);
    if (here >= worst) worst = here, worst_twin = s.twin_descriptions[k];
  }
  if (per_twin.empty()) {
    result.detail = "no twin computes the same scores" + left_out;
    return result;
  }
  result.numbers["relative_l2_per_twin"] = per_twin;
  result.violation = worst;
  result.verdict = worst <= c.invariance_tolerance ? Verdict::pass : Verdict::fail;
  result.detail = std::to_string(per_twin.size()) + " twins; largest relative L2 " + number_text(worst) + " on: " +
                  worst_twin + " (tolerance " + number_text(c.invariance_tolerance) + ")" + left_out;
  return result;
}

}  // namespace gradlens
