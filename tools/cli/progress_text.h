// The text of the CLI's progress bar, as pure functions (tested without a terminal or a clock).
#pragma once
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <string>

namespace gradlens::cli {

// "42s", "3m05s", "1h02m"; "?" for a negative or non-finite time.
inline std::string duration_text(double seconds) {
  if (!std::isfinite(seconds) || seconds < 0) return "?";
  const long long s = std::llround(seconds);
  char t[32];
  if (s < 60) std::snprintf(t, sizeof t, "%llds", s);
  else if (s < 3600) std::snprintf(t, sizeof t, "%lldm%02llds", s / 60, s % 60);
  else std::snprintf(t, sizeof t, "%lldh%02lldm", s / 3600, s % 3600 / 60);
  return t;
}

// Seconds left in a pass of `total` rows with `done` rows run in `elapsed` seconds (rows run at
// the same rate); negative while nothing has run.
inline double rows_eta(int64_t done, int64_t total, double elapsed) {
  return done > 0 && total >= done ? elapsed * double(total - done) / double(done) : -1;
}

// "explain [##########....................] 1/3 integrated-gradients 40/100 rows, ETA 12s": the bar
// fills by the steps done plus the fraction of the current pass's rows; the rows and their ETA
// are shown while a pass runs (rows_total > 0).
inline std::string progress_line(const std::string& label, int64_t done, int64_t total, const std::string& what,
                                 int64_t rows_done, int64_t rows_total, double pass_seconds, int width = 30) {
  double fraction = total > 0 ? double(done) / double(total) : 1.0;
  if (rows_total > 0 && total > 0 && done < total) fraction += double(rows_done) / double(rows_total) / double(total);
  const int filled = int(std::floor(std::min(1.0, std::max(0.0, fraction)) * width));
  std::string line = label + " [" + std::string(size_t(filled), '#') + std::string(size_t(width - filled), '.') + "] " +
                     std::to_string(done) + "/" + std::to_string(total);
  if (!what.empty()) line += " " + what;
  if (rows_total > 0) {
    line += " " + std::to_string(rows_done) + "/" + std::to_string(rows_total) + " rows";
    const double eta = rows_eta(rows_done, rows_total, pass_seconds);
    if (eta >= 0) line += ", ETA " + duration_text(eta);
  }
  return line;
}

}  // namespace gradlens::cli
