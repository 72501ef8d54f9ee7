// Every attribution method's parameters as command-line flags ("--layer", "--percentile", ...),
// shared by `explain` and `compare`.
#pragma once
#include <set>
#include <string>
#include <vector>

#include "attribution/method.h"
#include "tools/cli/args.h"

namespace gradlens::cli {

// Appends one flag per method parameter name not already in `flags`; its help lists every
// declaring method's default, methods with equal defaults grouped ("[integrated-gradients,
// split-ig: 50; big: 10]"). "relu" is left out: CAM methods take --no-relu instead. A method
// parameter named like one of `command_flags` (the command's own flags, which it consumes itself)
// would never reach the method, so that is an Error naming both (caught by every CLI test that
// runs the command).
void append_method_parameter_flags(std::vector<Flag>& flags, const std::set<std::string>& command_flags);

// The one flag → method-options mapping of every command: each given flag of `flags` that is not
// one of the command's own goes to every method declaring a parameter of that name, --no-relu
// sets relu=false on every method declaring "relu". The command decides what an unused flag means.
struct MethodFlags {
  std::vector<Options> options;     // one per method, in order
  std::vector<std::string> unused;  // given flags no method declares, in flag order
  bool no_relu_unused = false;      // --no-relu given but no method declares relu
};
MethodFlags method_options(const Args& args, const std::vector<Flag>& flags, const std::set<std::string>& own,
                           const std::vector<const MethodInfo*>& methods);

}  // namespace gradlens::cli
