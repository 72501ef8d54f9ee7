// What a method's run will cost before it runs: MethodInfo::cost ("steps × (1F + 1B)",
// "(1+K)F", ...) evaluated with the request's parameter values. The cost is per example, linear in
// F (a row through a forward) and B (a row through a backward); a name in it is a numeric parameter
// of the method, K the CAM layer's channels, S the "samples" parameter. A cost that is prose rather
// than a formula of those ("(× 2 with --right)", "≤ max-iter", d_sel) has no expectation.
#pragma once
#include <cstdint>
#include <optional>
#include <string>

#include "attribution/method.h"

namespace gradlens {

struct ExpectedPasses {
  int64_t forward_rows = 0, backward_rows = 0;  // all examples together
  std::string values;                           // the names the formula used: "steps = 50", "K = 512"
};
std::optional<ExpectedPasses> expected_passes(const MethodInfo& info, const Request& request);

}  // namespace gradlens
