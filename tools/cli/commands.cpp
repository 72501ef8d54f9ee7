#include "tools/cli/commands.h"

namespace gradlens::cli {

const std::vector<Command>& commands() {
  static const std::vector<Command> all = {
      {"methods", "list the attribution methods with family, paper, parameters and cost", run_methods},
      {"rules", "show the four ReLU backward rules side by side on a small example", run_rules},
  };
  return all;
}

}  // namespace gradlens::cli
