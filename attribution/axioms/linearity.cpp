// Linearity (Sundararajan et al. 2017 §3; seed 003 §2.2): for f = α f₁ + β f₂,
// A(f) = α A(f₁) + β A(f₂). With several classes f₁ and f₂ are the scores of the first example's
// target class t and of class (t + 1) mod C of the same function (one model, two heads); a
// one-class function is paired with a second function of the same input (AxiomSubject::partner).
// α = 0.7, β = −1.3 by default: a negative weight catches methods that take absolute values.
// Violation: maxₙ ‖A(f) − (αA(f₁) + βA(f₂))‖₂ / max(‖A(f)‖₂, ‖αA(f₁) + βA(f₂)‖₂).
#include <algorithm>
#include <cmath>

#include "attribution/axioms/axiom_support.h"
#include "attribution/axioms/axioms.h"
#include "attribution/gradients.h"
#include "engine/ops.h"

namespace gradlens {

using namespace axioms_detail;

namespace {
// α·f₁[:, c₁] + β·f₂[:, c₂], one class.
class LinearCombination : public Function {
 public:
  LinearCombination(const Function& f1, int64_t c1, const Function& f2, int64_t c2, double alpha, double beta)
      : f1_(f1), f2_(f2), c1_(c1), c2_(c2), alpha_(float(alpha)), beta_(float(beta)) {}
  std::vector<Var> scores_and(Tape& tape, Var x, const std::vector<std::string>&) const override {
    Var y1 = column(f1_.scores(tape, x), c1_);
    Var y2 = column(f2_.scores(tape, x), c2_);
    return {alpha_ * y1 + beta_ * y2};
  }

 private:
  const Function& f1_;
  const Function& f2_;
  int64_t c1_, c2_;
  float alpha_, beta_;
};

class SineSum : public Function {
 public:
  std::vector<Var> scores_and(Tape&, Var x, const std::vector<std::string>&) const override {
    const int64_t N = x.shape()[0], per = x.shape().numel() / N;
    return {sum(sin(reshape(x, Shape{N, per})), {1}, true)};
  }
};
}  // namespace

const Function& sine_sum_function() {
  static const SineSum f;
  return f;
}

AxiomResult check_linearity(const Method& m, const Options& o, const AxiomSubject& s, const AxiomSettings& c) {
  AxiomResult result;
  const int64_t N = s.input.dim(0), per = s.input.numel() / N;
  const int64_t classes = evaluate_scores(*s.function, s.input, s.batch).dim(1);
  const Function* f2 = s.function;
  int64_t c1 = s.targets[0], c2 = 0;
  std::string pair;
  if (classes >= 2) {
    c2 = (c1 + 1) % classes;
    pair = "f₁ = class " + std::to_string(c1) + ", f₂ = class " + std::to_string(c2);
  } else if (s.partner) {
    f2 = s.partner;
    c1 = 0;
    pair = "f₁ = f, f₂ = the partner function";
  } else {
    result.detail = "one class and no second function to combine with";
    return result;
  }
  const LinearCombination combined(*s.function, c1, *f2, c2, c.alpha, c.beta);
  const Explanation a = run_method(m, o, combined, s.input, std::vector<int64_t>(size_t(N), 0), s.batch);
  const Explanation a1 = run_method(m, o, *s.function, s.input, std::vector<int64_t>(size_t(N), c1), s.batch);
  const Explanation a2 = run_method(m, o, *f2, s.input, std::vector<int64_t>(size_t(N), c2), s.batch);
  std::vector<double> rel(static_cast<size_t>(N));
  double worst = 0;
  for (int64_t n = 0; n < N; ++n) {
    std::vector<double> lhs(static_cast<size_t>(per)), rhs(static_cast<size_t>(per));
    for (int64_t i = 0; i < per; ++i) {
      lhs[size_t(i)] = a.attribution[n * per + i];
      rhs[size_t(i)] = c.alpha * a1.attribution[n * per + i] + c.beta * a2.attribution[n * per + i];
    }
    worst = std::max(worst, rel[size_t(n)] = relative_l2(lhs.data(), rhs.data(), per));
  }
  result.numbers["relative_l2"] = rel;
  result.violation = worst;
  result.verdict = worst <= c.tolerance ? Verdict::pass : Verdict::fail;
  result.detail = "A(" + number_text(c.alpha) + "·f₁ + " + number_text(c.beta) + "·f₂) against the same " +
                  "combination of A(f₁), A(f₂), " + pair + ": max relative L2 " + number_text(worst) +
                  " (tolerance " + number_text(c.tolerance) + ")";
  return result;
}

}  // namespace gradlens
