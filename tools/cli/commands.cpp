#include "tools/cli/commands.h"

namespace gradlens::cli {

const std::vector<Command>& commands() {
  static const std::vector<Command> all = {
      {"explain", "explain a model's prediction for an input with an attribution method", run_explain},
      {"axioms", "check methods against the attribution axioms on a model or an analytic function", run_axioms},
      {"evaluate", "score attribution maps with localisation, complexity and faithfulness metrics", run_evaluate},
      {"compare", "run several methods on images: heatmap grid, .npy files and an HTML report", run_compare},
      {"run", "run a model on inputs and write its outputs", run_run},
      {"info", "describe a model: inputs, outputs, ops, parameters, MACs, CAM layers", run_info},
      {"methods", "list the attribution methods with family, paper, parameters and cost", run_methods},
      {"bench", "time forward, backward and methods on a model", run_bench},
      {"verify", "re-run an explain receipt (--json output) and check the result is bitwise identical", run_verify},
      {"rules", "show the four ReLU backward rules side by side on a small example", run_rules},
  };
  return all;
}

}  // namespace gradlens::cli
