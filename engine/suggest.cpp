#include "engine/suggest.h"

#include <algorithm>
#include <cctype>
#include <cstring>

namespace gradlens {
namespace {

std::string normal_form(const std::string& s) {
  std::string out;
  for (char c : s)
    if (!std::strchr("-_./: ", c)) out += char(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

// Edit distance with adjacent transpositions (optimal string alignment): d[i][j] = min(d[i−1][j] + 1,
// d[i][j−1] + 1, d[i−1][j−1] + [a_i ≠ b_j], d[i−2][j−2] + 1 when a_i a_{i−1} = b_{j−1} b_j).
size_t edit_distance(const std::string& a, const std::string& b) {
  const size_t w = b.size() + 1;
  std::vector<size_t> d((a.size() + 1) * w);
  for (size_t i = 0; i <= a.size(); ++i) d[i * w] = i;
  for (size_t j = 0; j <= b.size(); ++j) d[j] = j;
  for (size_t i = 1; i <= a.size(); ++i)
    for (size_t j = 1; j <= b.size(); ++j) {
      size_t v = std::min({d[(i - 1) * w + j] + 1, d[i * w + j - 1] + 1, d[(i - 1) * w + j - 1] + (a[i - 1] != b[j - 1])});
      if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1]) v = std::min(v, d[(i - 2) * w + j - 2] + 1);
      d[i * w + j] = v;
    }
  return d[a.size() * w + b.size()];
}

}  // namespace

std::vector<std::string> closest_names(const std::string& given, const std::vector<std::string>& candidates,
                                       size_t most) {
  const std::string g = normal_form(given);
  if (g.empty()) return {};
  const size_t allowed = std::max<size_t>(1, g.size() / 3);
  std::vector<std::pair<size_t, size_t>> scored;  // (distance, candidate index)
  for (size_t k = 0; k < candidates.size(); ++k) {
    const std::string c = normal_form(candidates[k]);
    if (c.empty() || candidates[k] == given) continue;
    // Length alone bounds the distance from below: skip far-off names without the O(n·m) table.
    const size_t gap = c.size() > g.size() ? c.size() - g.size() : g.size() - c.size();
    size_t d = gap <= allowed ? edit_distance(g, c) : allowed + 1;
    if (d > allowed && g.size() >= 3 && c.find(g) != std::string::npos) d = allowed;  // contained whole
    if (d <= allowed) scored.push_back({d, k});
  }
  std::stable_sort(scored.begin(), scored.end(),
                   [](const auto& a, const auto& b) { return a.first < b.first; });
  std::vector<std::string> out;
  for (const auto& [d, k] : scored) {
    if (out.size() == most) break;
    if (std::find(out.begin(), out.end(), candidates[k]) == out.end()) out.push_back(candidates[k]);
  }
  return out;
}

std::string did_you_mean(const std::string& given, const std::vector<std::string>& candidates,
                         const std::string& prefix) {
  const std::vector<std::string> close = closest_names(given, candidates);
  if (close.empty()) return "";
  std::string s = " (did you mean ";
  for (size_t k = 0; k < close.size(); ++k)
    s += (k == 0 ? "" : k + 1 == close.size() ? " or " : ", ") + ("'" + prefix + close[k] + "'");
  return s + "?)";
}

}  // namespace gradlens
