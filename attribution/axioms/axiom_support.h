// What the axiom checks share: running a method through an ordinary Request, the target scores
// of a batch, and relative differences.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "attribution/method.h"

namespace gradlens::axioms_detail {

// The method on (f, x, targets) with options o; the attribution is checked to be shaped like x.
Explanation run_method(const Method& m, const Options& o, const Function& f, const Tensor& x,
                       const std::vector<int64_t>& targets, int64_t batch);
// f(x)[n, targets[n]] per example (forward only).
std::vector<double> target_scores(const Function& f, const Tensor& x, const std::vector<int64_t>& targets,
                                  int64_t batch);
// o with `name` = value when the method declares that parameter.
Options with_parameter(const Method& m, Options o, const std::string& name, const std::string& value);
bool declares(const Method& m, const std::string& parameter);
// |a − b| / max(|a|, |b|, floor) elementwise-max over a range, or of norms (relative_l2).
double relative(double a, double b, double floor = 1e-30);
double relative_l2(const double* a, const double* b, int64_t n);
// "%.3g" text.
std::string number_text(double v);

}  // namespace gradlens::axioms_detail
