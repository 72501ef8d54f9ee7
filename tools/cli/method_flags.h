// Every attribution method's parameters as command-line flags ("--layer", "--percentile", ...),
// shared by `explain` and `compare`.
#pragma once
#include <vector>

#include "tools/cli/args.h"

namespace gradlens::cli {

// Appends one flag per method parameter name not already in `flags` (the help lists each method's
// default). "relu" is left out: CAM methods take --no-relu instead.
void append_method_parameter_flags(std::vector<Flag>& flags);

}  // namespace gradlens::cli
