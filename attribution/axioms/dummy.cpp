// Sensitivity (b), dummy features (Sundararajan et al. 2017 §2.1): when f does not depend on a
// feature, its attribution is zero — exactly, since a feature entering with weight 0 gets
// gradient 0·g = 0 on every path. Checked on a function given with such a feature (an analytic
// model's dummy, a zero-weight feature added to an analytic model, or a zero-weight input channel
// added to an ONNX graph, onnx_dummy.h).
// Violation: max |a_dummy| / max |a| over all features and examples.
#include <algorithm>
#include <cmath>

#include "attribution/axioms/axiom_support.h"
#include "attribution/axioms/axioms.h"
#include "engine/error.h"
#include "engine/ops.h"

namespace gradlens {

using namespace axioms_detail;

AxiomResult check_dummy(const Method& m, const Options& o, const AxiomSubject& s, const AxiomSettings&) {
  AxiomResult result;
  if (!s.dummy_function) {
    result.detail = s.dummy_note.empty() ? "no function with a dummy feature" : s.dummy_note;
    return result;
  }
  const Tensor& x = s.dummy_input;
  const Explanation e = run_method(m, o, *s.dummy_function, x, s.targets, s.batch);
  const int64_t N = x.dim(0), per = x.numel() / N;
  double largest = 0, dummy = 0;
  int64_t nonzero = 0;
  for (int64_t i = 0; i < x.numel(); ++i) largest = std::max(largest, std::fabs(double(e.attribution[i])));
  std::vector<double> worst(size_t(N), 0.0);
  for (int64_t n = 0; n < N; ++n)
    for (int64_t i : s.dummy_features) {
      const double a = std::fabs(double(e.attribution[n * per + i]));
      if (a != 0) ++nonzero;
      worst[size_t(n)] = std::max(worst[size_t(n)], a);
      dummy = std::max(dummy, a);
    }
  result.numbers["dummy_max_abs"] = worst;
  result.violation = dummy == 0 ? 0.0 : dummy / std::max(largest, 1e-30);
  result.verdict = nonzero == 0 ? Verdict::pass : Verdict::fail;
  result.detail = std::to_string(nonzero) + " of " + std::to_string(N * int64_t(s.dummy_features.size())) +
                  " dummy attributions non-zero; largest |a_dummy| = " + number_text(dummy) +
                  (s.dummy_note.empty() ? "" : " (" + s.dummy_note + ")");
  return result;
}

namespace {
// f(x[:, :d]) + 0·x[:, d].
class ZeroWeightFeature : public Function {
 public:
  explicit ZeroWeightFeature(const Function& f) : f_(f) {}
  std::vector<Var> scores_and(Tape& tape, Var x, const std::vector<std::string>& names) const override {
    GL_CHECK(x.shape().rank() == 2, "a zero-weight feature is added to [N, d] inputs, got ", x.shape().str());
    const int64_t d = x.shape()[1] - 1;
    Var y = f_.scores(tape, slice(x, 1, 0, d));
    std::vector<Var> out = {y + 0.f * slice(x, 1, d, d + 1)};  // [N, C] + [N, 1]
    GL_CHECK(names.empty(), "an analytic function has no named layers");
    return out;
  }

 private:
  const Function& f_;
};
}  // namespace

std::unique_ptr<Function> with_zero_weight_feature(const Function& f) { return std::make_unique<ZeroWeightFeature>(f); }

}  // namespace gradlens
