#include "tools/cli/evaluate_report.h"

#include <algorithm>
#include <cstdio>

#include "tools/cli/report.h"

namespace gradlens::cli {

namespace {
std::string number(double v) {
  char buffer[64];
  std::snprintf(buffer, sizeof buffer, "%.4f", v);
  return buffer;
}

std::string ci_text(const Summary& s) { return number(s.mean) + " [" + number(s.ci_low) + ", " + number(s.ci_high) + "]"; }

// a is significantly better than b: a's CI lies entirely on the better side of b's.
bool significantly_better(const Summary& a, const Summary& b, bool higher_is_better) {
  return higher_is_better ? a.ci_low > b.ci_high : a.ci_high < b.ci_low;
}

std::string rank_text(const RankedMethod& r) { return std::to_string(r.rank) + (r.tied ? "=" : ""); }
}  // namespace

std::vector<RankedMethod> rank_methods(const std::vector<std::pair<std::string, Summary>>& results,
                                       bool higher_is_better) {
  std::vector<RankedMethod> ranked;
  for (const auto& [name, s] : results) {
    RankedMethod r{name, s, 1, false};
    for (const auto& other : results) r.rank += significantly_better(other.second, s, higher_is_better) ? 1 : 0;
    ranked.push_back(r);
  }
  for (RankedMethod& r : ranked)
    for (const RankedMethod& o : ranked) r.tied = r.tied || (&o != &r && o.rank == r.rank);
  std::stable_sort(ranked.begin(), ranked.end(), [&](const RankedMethod& a, const RankedMethod& b) {
    if (a.rank != b.rank) return a.rank < b.rank;
    if (a.summary.mean != b.summary.mean)
      return higher_is_better ? a.summary.mean > b.summary.mean : a.summary.mean < b.summary.mean;
    return a.method < b.method;
  });
  return ranked;
}

std::string render_evaluation_html(const EvaluationReport& r) {
  std::map<std::string, const EvaluationMetricInfo*> info;
  for (const EvaluationMetricInfo& m : r.metrics) info[m.name] = &m;
  // Rankings per column, and each (method, column)'s rank for the big table.
  std::map<std::string, std::vector<RankedMethod>> rankings;
  std::map<std::pair<std::string, std::string>, const RankedMethod*> rank_of;
  for (const auto& [column, metric_name] : r.columns) {
    std::vector<std::pair<std::string, Summary>> results;
    for (const std::string& m : r.methods)
      if (r.results.count({m, column})) results.push_back({m, r.results.at({m, column})});
    rankings[column] = rank_methods(results, info.at(metric_name)->higher_is_better);
  }
  for (const auto& [column, ranked] : rankings)
    for (const RankedMethod& rm : ranked) rank_of[{rm.method, column}] = &rm;
  auto arrow = [&](const std::string& metric_name) {
    return std::string(info.at(metric_name)->higher_is_better ? "↑ higher is better" : "↓ lower is better");
  };

  std::string h;
  h += "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n<title>gradlens evaluate: " +
       html_escape(r.model) + "</title>\n<style>\n"
       "body{font-family:sans-serif;margin:1.5em;color:#222;background:#fff;max-width:1400px}\n"
       "table{border-collapse:collapse;margin:0.5em 0}\n"
       "td,th{border:1px solid #ccc;padding:3px 8px;vertical-align:top;text-align:left}\n"
       "td.num{text-align:right;font-variant-numeric:tabular-nums;white-space:nowrap}\n"
       ".best{background:#e3f3e3;font-weight:bold}\n.tie{color:#555}\n"
       ".rankings{display:flex;flex-wrap:wrap;gap:1.5em;align-items:flex-start}\n"
       "figure{display:inline-block;margin:6px}\nfigcaption{font-size:0.9em;text-align:center}\n"
       "code{background:#f4f4f4;padding:0 3px}\n"
       "</style>\n</head>\n<body>\n";
  h += "<h1>gradlens evaluate</h1>\n<p>model <code>" + html_escape(r.model) + "</code>, input <code>" +
       html_escape(r.input) + "</code>, " + std::to_string(r.examples) + " examples, " +
       std::to_string(r.methods.size()) + " methods, " + std::to_string(r.metrics.size()) + " metrics.</p>\n";
  h += "<p>Every value is the mean over the examples with its 95% confidence interval, mean ± 1.96·s/√n. "
       "Rank = 1 + the number of methods whose interval lies entirely on the better side of this method's; "
       "methods sharing a rank have overlapping intervals and are shown as tied (<b>=</b>). "
       "Rank-1 cells are shaded.</p>\n";

  h += "<h2>Rankings per metric</h2>\n<div class=\"rankings\">\n";
  for (const auto& [column, metric_name] : r.columns) {
    h += "<table>\n<caption><b>" + html_escape(column) + "</b> (" + arrow(metric_name) +
         ")</caption>\n<tr><th>rank</th><th>method</th><th>mean [95% CI]</th></tr>\n";
    for (const RankedMethod& rm : rankings[column])
      h += std::string("<tr") + (rm.rank == 1 ? " class=\"best\"" : "") + "><td class=\"num" +
           (rm.tied ? " tie" : "") + "\">" + rank_text(rm) + "</td><td>" + html_escape(rm.method) +
           "</td><td class=\"num\">" + ci_text(rm.summary) + "</td></tr>\n";
    h += "</table>\n";
  }
  h += "</div>\n";

  h += "<h2>Methods × metrics</h2>\n<table>\n<tr><th>method</th>";
  for (const auto& [column, metric_name] : r.columns)
    h += "<th>" + html_escape(column) + " " + (info.at(metric_name)->higher_is_better ? "↑" : "↓") + "</th>";
  h += "</tr>\n";
  for (const std::string& m : r.methods) {
    h += "<tr><td>" + html_escape(m) + "</td>";
    for (const auto& [column, metric_name] : r.columns) {
      const auto it = rank_of.find({m, column});
      if (it == rank_of.end()) {
        h += "<td class=\"num\">—</td>";
        continue;
      }
      h += std::string("<td class=\"num") + (it->second->rank == 1 ? " best" : "") + "\">" +
           ci_text(it->second->summary) + " <span class=\"tie\">(#" + rank_text(*it->second) + ")</span></td>";
    }
    h += "</tr>\n";
  }
  h += "</table>\n";

  if (!r.charts.empty()) {
    h += "<h2>Curves</h2>\n<div>\n";
    for (const auto& [caption, png] : r.charts)
      h += "<figure>" + png_img_tag(png, caption) + "<figcaption>" + html_escape(caption) + "</figcaption></figure>\n";
    h += "</div>\n";
  }

  h += "<h2>Metrics</h2>\n<table>\n<tr><th>metric</th><th>group</th><th>paper</th><th>definition (per example)"
       "</th><th>direction</th><th>passes per example</th><th>parameters used</th></tr>\n";
  for (const EvaluationMetricInfo& m : r.metrics) {
    std::string params;
    for (const auto& [k, v] : m.parameters) params += (params.empty() ? "" : "<br>") + html_escape("--" + k + " " + v);
    h += "<tr><td>" + html_escape(m.name) + "</td><td>" + html_escape(m.group) + "</td><td>" + html_escape(m.paper) +
         "</td><td>" + html_escape(m.formula) + "</td><td>" + arrow(m.name) + "</td><td>" + html_escape(m.cost) +
         "</td><td>" + (params.empty() ? "—" : params) + "</td></tr>\n";
  }
  h += "</table>\n<h2>Parameters of the run</h2>\n<table>\n<tr><th>flag</th><th>value</th></tr>\n";
  for (const auto& [k, v] : r.parameters)
    h += "<tr><td><code>" + html_escape(k) + "</code></td><td><code>" + html_escape(v) + "</code></td></tr>\n";
  h += "</table>\n</body>\n</html>\n";
  return h;
}

}  // namespace gradlens::cli
