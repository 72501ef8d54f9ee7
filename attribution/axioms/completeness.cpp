// Completeness (Sundararajan et al. 2017 §3, "summation to delta" in DeepLIFT): Σᵢ aᵢ = f(x) − f(x′).
// A method claims it when it reports a completeness gap (the path methods, FullGrad). The
// reference Δf is computed here, independently of the method:
//   methods with a --baseline   f(x) − f(x′), x′ built from the method's own baseline options
//                               (split-ig: f(γ(α*)) − f(x′), what its left part explains);
//   fullgrad                    f(x), with the sum including its bias terms (Srinivas & Fleuret 2019;
//                               constants an analytic function adds untagged are not bias terms);
//   others that claim it        the change the method reports (e.g. the mean over expected
//                               gradients' sampled baselines), Σa − gap.
// Methods that do not claim completeness are measured against f(x) − f(0) and reported, not failed.
// Violation: maxₙ |Σa − Δf| / |Δf|.
#include <algorithm>
#include <cmath>

#include "attribution/axioms/axiom_support.h"
#include "attribution/axioms/axioms.h"
#include "attribution/baselines.h"

namespace gradlens {

using namespace axioms_detail;

AxiomResult check_completeness(const Method& m, const Options& o, const AxiomSubject& s, const AxiomSettings& c) {
  const Explanation e = run_method(m, o, *s.function, s.input, s.targets, s.batch);
  const int64_t N = s.input.dim(0), per = s.input.numel() / N;
  const bool claims = e.per_example.count("completeness_gap") > 0;
  const bool fullgrad = claims && e.per_example.count("bias_term") > 0;
  const std::vector<double> fx = target_scores(*s.function, s.input, s.targets, s.batch);

  std::vector<double> total(size_t(N), 0.0), reference(size_t(N), 0.0);
  for (int64_t n = 0; n < N; ++n)
    for (int64_t i = 0; i < per; ++i) total[size_t(n)] += e.attribution[n * per + i];
  std::string against;
  if (!claims || declares(m, "baseline")) {
    Request r;
    r.input = s.input;
    r.options = o;
    const Tensor b = claims ? parse_baseline(m.info(), r) : make_baseline(s.input, "zero", 0, 0);
    const std::vector<double> fb = target_scores(*s.function, b, s.targets, s.batch);
    for (size_t n = 0; n < size_t(N); ++n) reference[n] = fx[n] - fb[n];
    against = claims ? "f(x) − f(x′), x′ = " + o.text(m.info(), "baseline") : "f(x) − f(0)";
    if (e.per_example.count("split_score")) {  // Split IG's left part explains f(γ(α*)) − f(x′)
      const std::vector<double>& split = e.per_example.at("split_score");
      for (size_t n = 0; n < size_t(N); ++n) reference[n] = split[n] - fb[n];
      against = "f(γ(α*)) − f(x′) (split-ig's left part), x′ = " + o.text(m.info(), "baseline");
    }
  } else if (fullgrad) {
    const std::vector<double>& bias = e.per_example.at("bias_term");
    for (size_t n = 0; n < size_t(N); ++n) total[n] += bias[n], reference[n] = fx[n];
    against = "f(x), with the bias terms of " + (e.notes.count("bias_layers") ? e.notes.at("bias_layers") : "?") +
              " layers in the sum";
  } else {
    const std::vector<double>& gap = e.per_example.at("completeness_gap");
    for (size_t n = 0; n < size_t(N); ++n) reference[n] = total[n] - gap[n];
    against = "the change the method reports";
  }

  AxiomResult result;
  double worst = 0;
  std::vector<double> rel(static_cast<size_t>(N));
  for (size_t n = 0; n < size_t(N); ++n) {
    const double gap = std::fabs(total[n] - reference[n]);
    rel[n] = gap == 0 ? 0.0 : gap / std::max(std::fabs(reference[n]), 1e-30);
    worst = std::max(worst, rel[n]);
  }
  result.violation = worst;
  result.numbers["attribution_sum"] = total;
  result.numbers["reference"] = reference;
  result.numbers["relative_gap"] = rel;
  result.verdict = !claims ? Verdict::not_claimed : worst <= c.completeness_tolerance ? Verdict::pass : Verdict::fail;
  result.detail = "Σa against " + against + ": max relative gap " + number_text(worst) +
                  (claims ? " (tolerance " + number_text(c.completeness_tolerance) + ")" : " (not claimed)");
  return result;
}

}  // namespace gradlens
