// Seeded multi-backward passes, argmax, --bounds and number lists for the search-based path methods
// (see adversarial.h).
#include "attribution/adversarial.h"

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstdlib>
#include <sstream>

#include "attribution/gradients.h"
#include "engine/error.h"
#include "engine/number_text.h"

namespace gradlens {

SeededPassResult seeded_pass(const Function& f, const Tensor& X, ChunkBudget& budget, const std::vector<SeedWriter>& seeds) {
  GL_CHECK(X.rank() >= 1 && X.dim(0) >= 1, "seeded pass: input must be [M, ...] with M > 0, got ", X.shape().str());
  const int64_t M = X.dim(0);
  SeededPassResult result;
  result.gradients.resize(seeds.size());
  const ChunkStats stats = run_chunks(
      f, M, budget, [&](int64_t begin, int64_t k) { return rows(X, begin, begin + k); }, seeds, ChunkTaps(),
      [&](const Chunk& c, int s) {
        if (s <= 0) place_rows(result.scores, c.scores.value(), M, c.begin, c.rows);
        if (s >= 0) place_rows(result.gradients[size_t(s)], c.input_gradient(), M, c.begin, c.rows);
      });
  result.chunks = stats.chunks;
  result.tape_bytes = stats.tape_bytes;
  return result;
}

int64_t checked_classes(const MethodInfo& m, const Request& r) {
  const int64_t C = evaluate_scores(*r.function, rows(r.input, 0, 1), 1).dim(1);
  GL_CHECK(C >= 2, m.name, ": needs at least 2 classes, the function has ", C);
  for (int64_t n = 0; n < r.input.dim(0); ++n) {
    GL_CHECK(r.targets[size_t(n)] >= 0 && r.targets[size_t(n)] < C, "target class ", r.targets[size_t(n)],
             " is out of range for ", C, " classes");
    if (!r.contrast.empty())
      GL_CHECK(r.contrast[size_t(n)] >= 0 && r.contrast[size_t(n)] < C, "contrast class ", r.contrast[size_t(n)],
               " is out of range for ", C, " classes");
  }
  return C;
}

int64_t argmax_row(const float* scores, int64_t C) {
  int64_t best = 0;
  for (int64_t c = 1; c < C; ++c)
    if (scores[c] > scores[best]) best = c;
  return best;
}

Parameter bounds_parameter() {
  return {"bounds", "none", "none|LO,HI: clamp every searched point to [LO, HI] (the authors clip to the data range)"};
}

std::vector<double> parse_number_list(const MethodInfo& m, const std::string& name, const std::string& text,
                                      double min, double max) {
  std::vector<double> out;
  const bool parsed = for_each_item(text, [&](const std::string& item) {
    double d = 0;
    if (!parse_real(item, d)) return false;
    GL_CHECK(d >= min && d <= max, m.name, ": --", name, " values must be in [", min, ", ", max, "], got ", d);
    out.push_back(d);
    return true;
  });
  GL_CHECK(parsed, m.name, ": --", name, " expects comma-separated numbers, got '", text, "'");
  return out;
}

BoxConstraint parse_bounds(const MethodInfo& m, const Options& options) {
  const std::string text = options.text(m, "bounds");
  BoxConstraint box;
  if (text == "none") return box;
  const std::vector<double> v = parse_number_list(m, "bounds", text, -1e30, 1e30);
  GL_CHECK(v.size() == 2 && v[0] < v[1], m.name, ": --bounds expects none or LO,HI with LO < HI, got '", text, "'");
  box.active = true;
  box.lo = float(v[0]);
  box.hi = float(v[1]);
  return box;
}

}  // namespace gradlens
