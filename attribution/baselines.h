// Baselines x′ of the path methods, one per example, shaped like x.
#pragma once
#include <string>
#include <vector>

#include "attribution/method.h"

namespace gradlens {

//   zero     0
//   black    every element = the example's minimum over all its elements
//   white    every element = the example's maximum over all its elements
//   uniform  i.i.d. U(min, max) of the example, from `seed`
//   blur     gaussian_blur(x, blur_sigma)
//   mean     per example and channel (axis 1), the channel's mean over the other axes
//            (rank 2 [N, D]: the example's mean)
//   FILE.npy broadcast (numpy rules) to x's shape: [...] per example or [N, ...]
Tensor make_baseline(const Tensor& x, const std::string& kind, double blur_sigma, uint64_t seed);

// --baseline, --blur-sigma, --seed, and the baseline of the request's input they select.
std::vector<Parameter> baseline_parameters();
Tensor parse_baseline(const MethodInfo& m, const Request& r);

}  // namespace gradlens
