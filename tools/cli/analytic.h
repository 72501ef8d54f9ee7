// The analytic models on the command line (`--analytic NAME` of explain and axioms): the
// catalogue listing and the input of a run.
#pragma once
#include <string>
#include <vector>

#include "attribution/axioms/analytic_models.h"
#include "attribution/method.h"
#include "tools/cli/args.h"

namespace gradlens::cli {

// `--analytic list`: name, features, classes, default input and baseline, formula, description.
void print_analytic_catalogue();
// INPUT.npy ([d] or [N, d]) when given, else the model's default input, as [N, d].
Tensor analytic_input(const AnalyticModel& m, const std::vector<std::string>& positional);
// One example's row as doubles.
std::vector<double> example_row(const Tensor& x, int64_t n);
std::string format_values(const std::vector<float>& v);
// explain --analytic NAME [INPUT.npy] --method M: per feature x, x′, the attribution and, where
// the method has one on this model, its closed form and the difference (text, or --json);
// --out-npy writes the attribution.
int run_explain_analytic(const Args& args, const Method& m, const Options& options);

}  // namespace gradlens::cli
