// "Did you mean …?": the known names closest to a misspelt one, for error messages that name the
// fix (unknown method, flag, metric, layer, enum value).
//
// Closeness: both names are compared in a normal form (lower case, without '-', '_', '.', '/', ':'
// and spaces), so "gradcam" is "grad-cam" and "GradCAM"; then by edit distance (insertions, deletions,
// substitutions and swaps of adjacent characters), at most
// max(1, ⌊len/3⌋) edits for a name of len characters; and a name of at least 3 characters that
// occurs whole inside a candidate (a PyTorch module name "relu2" inside the ONNX tensor
// "/features/relu2/Relu_output_0") is close too.
#pragma once
#include <string>
#include <vector>

namespace gradlens {

// Up to `most` candidates close to `given`, closest first (ties in candidate order).
std::vector<std::string> closest_names(const std::string& given, const std::vector<std::string>& candidates,
                                       size_t most = 3);

// " (did you mean 'a'?)", " (did you mean 'a' or 'b'?)", …, or "" when nothing is close;
// `prefix` is put before each name ("--" for flags).
std::string did_you_mean(const std::string& given, const std::vector<std::string>& candidates,
                         const std::string& prefix = "");

}  // namespace gradlens
