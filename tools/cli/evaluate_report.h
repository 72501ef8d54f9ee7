// The self-contained HTML report of `gradlens evaluate` (report.html in --out DIR): the methods
// ranked per metric, the methods × metrics table with 95% CIs, the curve charts inlined as base64
// PNG data URIs, every parameter, and each metric's definition and paper. No external resources.
//
// Ranking (per summarised quantity, direction-aware: higher_is_better or not): a method's rank is
// 1 + the number of methods significantly better than it — whose 95% CI lies entirely on the
// better side of its own (the rule of LMSYS's Chatbot Arena leaderboard). A method significantly
// better than another always ranks strictly higher, so methods sharing a rank have overlapping CIs:
// they are shown as tied ("=").
#pragma once
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "attribution/metrics/summary.h"

namespace gradlens::cli {

struct RankedMethod {
  std::string method;
  Summary summary;
  int rank = 1;
  bool tied = false;  // another method has the same rank (their CIs overlap)
};
// The methods in rank order (then by mean, better first, then by name).
std::vector<RankedMethod> rank_methods(const std::vector<std::pair<std::string, Summary>>& results,
                                       bool higher_is_better);

struct EvaluationMetricInfo {
  std::string name, group, paper, formula, cost;
  bool higher_is_better = true;
  std::vector<std::pair<std::string, std::string>> parameters;  // name → value used
};

struct EvaluationReport {
  std::string model, input;
  int64_t examples = 0;
  std::vector<std::string> methods;
  std::vector<EvaluationMetricInfo> metrics;
  // Summarised quantities in column order: (column name, metric name), e.g. ("wsl-iou.localised", "wsl-iou").
  std::vector<std::pair<std::string, std::string>> columns;
  std::map<std::pair<std::string, std::string>, Summary> results;  // (method, column) → summary
  std::vector<std::pair<std::string, std::string>> parameters;     // the run's flags and values
  std::vector<std::pair<std::string, std::string>> charts;         // (caption, PNG bytes)
};

std::string render_evaluation_html(const EvaluationReport& report);

}  // namespace gradlens::cli
