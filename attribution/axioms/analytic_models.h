// Analytic models: small functions written with the engine's differentiable ops, whose
// attributions are known in closed form — the catalogue `gradlens explain --analytic NAME` and
// `gradlens axioms --analytic NAME` run by name, and the models the axiom checkers are tested on.
// Each has one row of `features` inputs ([N, features]), a default input and baseline, and for
// some methods a closed form of the attribution (gradient, input-x-gradient, integrated
// gradients with any baseline), printed by `explain --analytic` beside the computed value.
#pragma once
#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "attribution/function.h"

namespace gradlens {

// A closed form of one method's attribution on one example: value(x, x′, target) -> a [features].
struct ClosedForm {
  std::string formula;
  std::function<std::vector<double>(const std::vector<double>& x, const std::vector<double>& baseline,
                                    int64_t target)>
      value;
};

struct AnalyticModel {
  std::string name;         // kebab-case, as on the command line
  std::string formula;      // f(x) in one line
  std::string description;  // what it demonstrates, and its source
  int64_t features = 0;     // input row length
  int64_t classes = 1;      // scores per example
  std::vector<float> input;     // default input x (one example)
  std::vector<float> baseline;  // default baseline x′
  LambdaFunction function;
  std::map<std::string, ClosedForm> closed_forms;  // by method name
  std::vector<int64_t> symmetric;  // {i, j}: f unchanged when features i and j swap; else empty
  int64_t dummy = -1;              // a feature f does not depend on, or -1
  // The same function written differently (implementation invariance), with how it differs.
  std::vector<std::pair<std::string, LambdaFunction>> twins;
};

// The catalogue, in listing order.
const std::vector<AnalyticModel>& analytic_models();
// By name; an Error listing the names when unknown.
const AnalyticModel& analytic_model(const std::string& name);

}  // namespace gradlens
