// Axiom checks (seed 003 §2.2; Sundararajan et al. 2017 §2–3): does a method, run on a function
// and inputs, satisfy
//   completeness   Σᵢ aᵢ = f(x) − f(x′)         (methods that claim it; the others are measured
//                                                  and reported, not failed)
//   sensitivity-a  x differing from x′ = 0 in one feature i, with f(x) ≠ f(x′)  ⇒  aᵢ ≠ 0
//   dummy          a feature f does not depend on gets exactly 0 (sensitivity (b))
//   linearity      A(αf₁ + βf₂) = α A(f₁) + β A(f₂)
//   symmetry       f symmetric in i, j, xᵢ = xⱼ and x′ᵢ = x′ⱼ  ⇒  aᵢ = aⱼ
//   implementation-invariance   functionally equivalent twins g ≡ f  ⇒  A(g) = A(f) (twins.h)
// Each check runs the method through its ordinary Request (the same code path as explain) and
// returns a verdict with the measured relative violation.
#pragma once
#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "attribution/function.h"
#include "attribution/method.h"

namespace gradlens {

enum class Verdict { pass, fail, not_claimed, not_applicable };
const char* verdict_name(Verdict v);  // "pass", "fail", "not-claimed", "n/a"

struct AxiomResult {
  Verdict verdict = Verdict::not_applicable;
  double violation = 0;  // relative (see each check); 0 when not measured
  std::string detail;    // one line: what was compared, or why the check does not apply
  std::map<std::string, std::vector<double>> numbers;  // per example / per feature, for JSON
};

// What the axioms are checked on.
struct AxiomSubject {
  const Function* function = nullptr;
  Tensor input;                  // [N, ...]
  std::vector<int64_t> targets;  // one per example
  int64_t batch = 32;
  // dummy: a function with a feature it does not depend on, its input [N, ...] (targets as
  // above) and that feature's flat indices within one example; none → not applicable (dummy_note
  // says why).
  const Function* dummy_function = nullptr;
  Tensor dummy_input;
  std::vector<int64_t> dummy_features;
  std::string dummy_note;
  // symmetry: flat indices {i, j} within one example of features f is symmetric in; empty → n/a.
  std::vector<int64_t> symmetric;
  // linearity for a one-class function: f₂ (one class, same input). With several classes f₁ and
  // f₂ are the scores of two classes of the function itself.
  const Function* partner = nullptr;
  // implementation invariance: functions computing the same as `function` (twins.h), with a line
  // each saying how they differ; none → not applicable (twins_note says why).
  std::vector<const Function*> twins;
  std::vector<std::string> twin_descriptions;
  std::string twins_note;
};

struct AxiomSettings {
  double tolerance = 1e-4;               // linearity, symmetry (relative)
  // implementation invariance: twins round differently, and a path point within rounding of a
  // ReLU kink or a max-pool tie can switch sides (README, Axioms).
  double invariance_tolerance = 1e-3;
  double completeness_tolerance = 0.05;  // |Σa − Δf| / |Δf| (IG paper §4: "within 5%")
  int64_t sensitivity_features = 8;      // features sampled for sensitivity (a)
  uint64_t seed = 0;                     // their sample
  double alpha = 0.7, beta = -1.3;       // linearity: f = α f₁ + β f₂
};

AxiomResult check_completeness(const Method& m, const Options& o, const AxiomSubject& s, const AxiomSettings& c);
AxiomResult check_sensitivity(const Method& m, const Options& o, const AxiomSubject& s, const AxiomSettings& c);
AxiomResult check_dummy(const Method& m, const Options& o, const AxiomSubject& s, const AxiomSettings& c);
AxiomResult check_linearity(const Method& m, const Options& o, const AxiomSubject& s, const AxiomSettings& c);
AxiomResult check_symmetry(const Method& m, const Options& o, const AxiomSubject& s, const AxiomSettings& c);
AxiomResult check_implementation_invariance(const Method& m, const Options& o, const AxiomSubject& s,
                                            const AxiomSettings& c);

struct Axiom {
  const char* name;  // "completeness", "sensitivity-a", "dummy", "linearity", "symmetry", "invariance"
  const char* summary;
  AxiomResult (*check)(const Method&, const Options&, const AxiomSubject&, const AxiomSettings&);
};
const std::vector<Axiom>& axioms();

// Throws naming the method unless it gives input-shaped attributions (not a layer map or an
// interaction matrix), which every axiom here compares feature by feature.
void check_axiom_method(const Method& m);

// Largest relative change of the target scores when features i and j swap, over the examples of
// x and `random_points` seeded uniform points in x's range: |f(x) − f(swap x)| / max(|f(x)|, 1).
double symmetry_defect(const Function& f, const Tensor& x, const std::vector<int64_t>& targets, int64_t i,
                       int64_t j, int64_t batch, int random_points = 8, uint64_t seed = 0);

// Largest |g(x) − f(x)| over the target scores, relative to max(max |f(x)|, 1): a twin must be ~0.
double twin_output_difference(const Function& f, const Function& g, const Tensor& x, const std::vector<int64_t>& targets,
                              int64_t batch);

// f₂(x) = Σᵢ sin xᵢ over all features of an example: the linearity partner of one-class functions.
const Function& sine_sum_function();

// f(x) plus 0·(one extra feature): input [N, d+1] for a function of [N, d] rows; the analytic
// counterpart of a zero-weight input channel.
std::unique_ptr<Function> with_zero_weight_feature(const Function& f);

}  // namespace gradlens
