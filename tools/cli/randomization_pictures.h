// The model-randomization pictures of `gradlens evaluate` (Adebayo et al. 2018, Fig. 2 and 4):
//  - model-randomization_<mode>.png per mode (cascading, independent): one panel per similarity
//    measure, each method's mean over the examples against the re-drawn layer (x ticks: "original",
//    then the layers output side first; the original map's similarity to itself is 1);
//  - model-randomization_cascading.png's companion model-randomization_maps.png: one row per
//    method, one column per cascading step (the original first), each the first example's
//    Σ_c |a_c| divided by its own maximum in the inferno colormap, with a colour bar.
#pragma once
#include <map>
#include <string>
#include <vector>

#include "engine/tensor.h"

namespace gradlens::cli {

struct RandomizationColumn {
  std::string method;
  const std::map<std::string, std::vector<double>>* per_example = nullptr;  // the metric's keys
  Tensor cascading;  // [steps + 1, H, W] of the first example, or empty
};

// Writes the PNGs named above into `dir` (those whose data exist).
void write_randomization_pictures(const std::string& dir, const std::vector<RandomizationColumn>& columns,
                                  int64_t examples);

}  // namespace gradlens::cli
