// Machinery shared by the search-based path methods (agi, big), which move each example (or
// each example × class trajectory) step by step under the model's gradients:
// - seeded_pass: rows of X in chunks set by a ChunkBudget (path.h); each chunk is ONE forward and one
//   backward per seed writer, the seed of row m chosen from its scores (a one-hot class, a class
//   difference, the cross-entropy's softmax(s) − e_y, ...). Several gradients of the same point
//   therefore cost one forward.
// - the optional box constraint --bounds LO,HI applied to every searched point (the authors of both
//   methods clip to their image range [0, 1] or the normalised data range).
#pragma once
#include <functional>
#include <string>
#include <vector>

#include "attribution/method.h"
#include "attribution/path.h"

namespace gradlens {

struct SeededPassResult {
  Tensor scores;                  // [M, C]
  std::vector<Tensor> gradients;  // one [M, ...] per seed writer
  int64_t chunks = 0;
  int64_t tape_bytes = 0;         // the largest chunk's tape (ChunkStats::tape_bytes)
};

// Chunks follow `budget` (chunked_pass.h: --max-memory's one-row probe, kept across the
// search's iterations).
SeededPassResult seeded_pass(const Function& f, const Tensor& X, ChunkBudget& budget, const std::vector<SeedWriter>& seeds);

// The function's number of classes C (one forward of one row), checked: C ≥ 2 and every target
// (and contrast) class in [0, C).
int64_t checked_classes(const MethodInfo& m, const Request& r);

// Index of the largest score of a row (the first on ties, as torch.argmax on CPU).
int64_t argmax_row(const float* scores, int64_t C);

// --bounds: "none", or "LO,HI" with LO < HI.
struct BoxConstraint {
  bool active = false;
  float lo = 0, hi = 0;
  float apply(float v) const { return active ? (v < lo ? lo : (v > hi ? hi : v)) : v; }
};
Parameter bounds_parameter();
BoxConstraint parse_bounds(const MethodInfo& m, const Options& options);

// A comma-separated list of numbers ("0.1,0.2"), each in [min, max]; names the flag on error.
std::vector<double> parse_number_list(const MethodInfo& m, const std::string& name, const std::string& text,
                                      double min, double max);

}  // namespace gradlens
