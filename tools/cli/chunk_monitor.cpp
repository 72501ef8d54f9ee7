#include "tools/cli/chunk_monitor.h"

#include <algorithm>
#include <chrono>
#include <cstdio>

#include "engine/error.h"
#include "engine/number_text.h"
#include "tools/cli/progress_text.h"

namespace gradlens::cli {

std::string byte_text(int64_t bytes) {
  char text[32];
  const double b = double(bytes);
  if (b >= double(int64_t(1) << 30)) std::snprintf(text, sizeof text, "%.2f GiB", b / double(int64_t(1) << 30));
  else if (b >= double(1 << 20)) std::snprintf(text, sizeof text, "%.1f MiB", b / double(1 << 20));
  else std::snprintf(text, sizeof text, "%lld bytes", (long long)bytes);
  return text;
}

bool parse_bytes(const std::string& text, int64_t& bytes) {
  if (text.empty()) return false;
  int shift = 0;
  std::string digits = text;
  switch (text.back()) {
    case 'K': case 'k': shift = 10; break;
    case 'M': case 'm': shift = 20; break;
    case 'G': case 'g': shift = 30; break;
    case 'T': case 't': shift = 40; break;
    default: break;
  }
  if (shift) digits.pop_back();
  int64_t n = 0;
  // At most 2⁵⁰ bytes (1 PiB), so 4× that (the hard limit) cannot overflow.
  if (!parse_integer(digits, n) || n < 1 || n > (int64_t(1) << (50 - shift))) return false;
  bytes = n << shift;
  return true;
}

Flag max_memory_flag() {
  return {"max-memory", "BYTES",
          "memory budget, suffix K/M/G/T: a chunk holds as many rows (at most --batch) as fit, after a one-row probe; "
          "allocations past 4x it fail",
          "2G"};
}

namespace {
double now_seconds() {
  return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
}
}  // namespace

void ChunkMonitor::pass_begins(int64_t rows, int64_t backwards) {
  pass_rows_ = rows;
  pass_backwards_ = backwards;
  pass_done_ = pass_chunks_ = 0;
  last_chunk_end_ = now_seconds();
  if (progress_) progress_->pass_begins(rows);
}

void ChunkMonitor::chunk_ran(int64_t rows, int64_t tape_bytes) {
  chunk_rows_ = std::max(chunk_rows_, rows);
  tape_bytes_ = std::max(tape_bytes_, tape_bytes);
  pass_done_ += rows;
  rows_forwarded_ += rows;
  ++pass_chunks_;
  if (progress_) progress_->rows_ran(rows);
  const double now = now_seconds(), chunk_seconds = now - last_chunk_end_;
  last_chunk_end_ = now;
  // A backward costs about two forwards (it forms two products per layer where the forward forms one).
  const double units = double(rows) * double(1 + 2 * pass_backwards_);
  method_units_ += units;
  const bool terminal = !quiet_ && progress_ && progress_->active();
  if (!terminal || announced_ || pass_chunks_ < 2 || chunk_seconds <= 0) return;
  if (expected_) {
    // Once, at the method's first timed chunk: the expected rows left at that chunk's rate.
    announced_ = true;
    const double total = double(expected_->forward_rows) + 2.0 * double(expected_->backward_rows);
    const double eta = (total - method_units_) * chunk_seconds / units;
    if (eta > 10)
      std::fprintf(stderr, "\ngradlens %s: %s runs %lld forward and %lld backward rows (%s per example%s%s): about %s\n",
                   command_.c_str(), method_.c_str(), (long long)expected_->forward_rows,
                   (long long)expected_->backward_rows, formula_.c_str(), expected_->values.empty() ? "" : ", ",
                   expected_->values.c_str(), duration_text(eta).c_str());
    return;
  }
  // No expectation: at a pass's second chunk, the pass's rows left at its rate.
  const double eta = rows_eta(rows, rows + pass_rows_ - pass_done_, chunk_seconds);
  if (pass_chunks_ == 2 && eta > 10) {
    announced_ = true;
    std::fprintf(stderr, "\ngradlens %s: %s%sa pass of %lld rows (one forward each%s): about %s\n", command_.c_str(),
                 method_.c_str(), method_.empty() ? "" : ": ", (long long)pass_rows_,
                 pass_backwards_ ? " and a backward" : "", duration_text(eta).c_str());
  }
}

void ChunkMonitor::over_budget(int64_t row_bytes, int64_t max_bytes) {
  if (warned_) return;
  warned_ = true;
  std::fprintf(stderr,
               "gradlens %s: warning: one row of this model needs %s of tape, over --max-memory %s: running "
               "one row per chunk (raise --max-memory to batch rows)\n",
               command_.c_str(), byte_text(row_bytes).c_str(), byte_text(max_bytes).c_str());
}

void ChunkMonitor::start_method(const std::string& name, std::optional<ExpectedPasses> expected, std::string formula) {
  chunk_rows_ = tape_bytes_ = 0;
  method_ = name;
  expected_ = std::move(expected);
  formula_ = std::move(formula);
  method_units_ = 0;
  announced_ = false;
  if (progress_) progress_->working_on(name);
}

void ChunkMonitor::add_notes(Explanation& e) const {
  e.notes["max_memory"] = std::to_string(max_memory());
  if (chunk_rows_ == 0) return;  // nothing ran through the chunked pass
  e.notes["chunk_rows"] = std::to_string(chunk_rows_);
  e.notes["tape_bytes"] = std::to_string(tape_bytes_);
}

}  // namespace gradlens::cli
