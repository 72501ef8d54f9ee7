#include "attribution/axioms/axiom_support.h"

#include <algorithm>
#include <cmath>
#include <cstdio>

#include "attribution/axioms/axioms.h"
#include "attribution/gradients.h"
#include "engine/error.h"

namespace gradlens {

const char* verdict_name(Verdict v) {
  switch (v) {
    case Verdict::pass: return "pass";
    case Verdict::fail: return "fail";
    case Verdict::not_claimed: return "not-claimed";
    case Verdict::not_applicable: return "n/a";
  }
  return "?";
}

void check_axiom_method(const Method& m) {
  const MethodInfo& info = m.info();
  GL_CHECK(!info.layer_map, "method '", info.name,
           "' gives a layer map, not input attributions; the axioms compare attributions feature by feature");
  GL_CHECK(info.output.empty(), "method '", info.name, "' gives an ", info.output,
           ", not input attributions; the axioms compare attributions feature by feature");
}

const std::vector<Axiom>& axioms() {
  static const std::vector<Axiom> all = {
      {"completeness", "Σ a = f(x) − f(x′) for methods that claim it (relative violation)", check_completeness},
      {"sensitivity-a", "one feature differs from x′ = 0 and f changes ⇒ its attribution ≠ 0 (share violating)",
       check_sensitivity},
      {"dummy", "a feature f does not depend on gets exactly 0 (sensitivity (b))", check_dummy},
      {"linearity", "A(αf₁ + βf₂) = αA(f₁) + βA(f₂) (relative L2)", check_linearity},
      {"symmetry", "f symmetric in i, j, xᵢ = xⱼ, x′ᵢ = x′ⱼ ⇒ aᵢ = aⱼ (relative)", check_symmetry},
      {"invariance", "twins computing the same function get the same attributions (relative L2)",
       check_implementation_invariance},
  };
  return all;
}

namespace axioms_detail {

Explanation run_method(const Method& m, const Options& o, const Function& f, const Tensor& x,
                       const std::vector<int64_t>& targets, int64_t batch) {
  Request r;
  r.function = &f;
  r.input = x;
  r.targets = targets;
  r.batch = batch;
  r.options = o;
  Explanation e = m.explain(r);
  GL_CHECK(e.attribution.shape() == x.shape(), "method '", m.info().name, "' gave attributions ",
           e.attribution.shape().str(), " for input ", x.shape().str());
  return e;
}

std::vector<double> target_scores(const Function& f, const Tensor& x, const std::vector<int64_t>& targets,
                                  int64_t batch) {
  const Tensor s = evaluate_scores(f, x, batch);
  const int64_t N = x.dim(0), C = s.dim(1);
  std::vector<double> out(size_t(N), 0.0);
  for (int64_t n = 0; n < N; ++n) {
    GL_CHECK(targets[size_t(n)] >= 0 && targets[size_t(n)] < C, "target ", targets[size_t(n)], " out of range [0, ", C,
             ")");
    out[size_t(n)] = s[n * C + targets[size_t(n)]];
  }
  return out;
}

bool declares(const Method& m, const std::string& parameter) {
  for (const Parameter& p : m.info().parameters)
    if (p.name == parameter) return true;
  return false;
}

Options with_parameter(const Method& m, Options o, const std::string& name, const std::string& value) {
  if (declares(m, name)) o.set(name, value);
  return o;
}

double relative(double a, double b, double floor) {
  const double scale = std::max({std::fabs(a), std::fabs(b), floor});
  return a == b ? 0.0 : std::fabs(a - b) / scale;
}

double relative_l2(const double* a, const double* b, int64_t n) {
  double diff = 0, na = 0, nb = 0;
  for (int64_t i = 0; i < n; ++i) diff += (a[i] - b[i]) * (a[i] - b[i]), na += a[i] * a[i], nb += b[i] * b[i];
  if (diff == 0) return 0.0;
  return std::sqrt(diff) / std::max({std::sqrt(na), std::sqrt(nb), 1e-30});
}

std::string number_text(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.3g", v);
  return buf;
}

}  // namespace axioms_detail
}  // namespace gradlens
