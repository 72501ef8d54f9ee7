// The CLI's view of the chunked passes (attribution/chunked_pass.h): while a method runs, a
// ChunkMonitor observes this thread's passes and keeps the largest chunk and tape for the run's
// notes and JSON, warns once on stderr when a single row's tape already exceeds --max-memory,
// moves the command's progress bar row by row, and, on a terminal and unless quiet, announces a
// method that will run long (over ten seconds) once, with the passes it expects: as soon as a
// chunk has been timed (not a pass's first chunk, which may be the one-row probe that also grows
// the tape's arena), the method's expected forward and backward rows (attribution/cost.h) at that
// chunk's rate, a backward counted as two forwards; a method without an expectation announces its
// longest pass instead (its rows at the rate of the pass's second chunk).
#pragma once
#include <cstdint>
#include <string>

#include <optional>

#include "attribution/chunked_pass.h"
#include "attribution/cost.h"
#include "attribution/method.h"
#include "tools/cli/args.h"
#include "tools/cli/images.h"

namespace gradlens::cli {

// "1.50 GiB", "512 MiB", "300 bytes"
std::string byte_text(int64_t bytes);
// BYTES with an optional binary suffix K, M, G or T (2G = 2·2³⁰); false unless a positive number.
bool parse_bytes(const std::string& text, int64_t& bytes);
// --max-memory in a command's --help (tools/gradlens.cpp takes the flag out for every command).
Flag max_memory_flag();

class ChunkMonitor : public ChunkObserver {
 public:
  explicit ChunkMonitor(std::string command, Progress* progress = nullptr, bool quiet = true)
      : command_(std::move(command)), progress_(progress), quiet_(quiet) {}
  void pass_begins(int64_t rows, int64_t backwards) override;
  void chunk_ran(int64_t rows, int64_t tape_bytes) override;
  void over_budget(int64_t row_bytes, int64_t max_bytes) override;

  // Forgets the previous method's largest chunk; `expected`: what the method will run (the
  // announcement's numbers), `formula` its per-example cost text.
  void start_method(const std::string& name = "", std::optional<ExpectedPasses> expected = std::nullopt,
                    std::string formula = "");
  int64_t chunk_rows() const { return chunk_rows_; }
  int64_t tape_bytes() const { return tape_bytes_; }
  int64_t rows_forwarded() const { return rows_forwarded_; }  // rows of every chunk observed, all methods
  // notes "max_memory", "chunk_rows", "tape_bytes" (bytes and rows, as numbers)
  void add_notes(Explanation& e) const;

 private:
  std::string command_, method_;
  Progress* progress_;
  bool quiet_;
  int64_t chunk_rows_ = 0, tape_bytes_ = 0, rows_forwarded_ = 0;
  int64_t pass_rows_ = 0, pass_done_ = 0, pass_chunks_ = 0, pass_backwards_ = 0;
  std::optional<ExpectedPasses> expected_;
  std::string formula_;
  double method_units_ = 0;  // forward-equivalents run by the method so far (a backward = 2)
  double last_chunk_end_ = 0;
  bool warned_ = false, announced_ = false;
};

}  // namespace gradlens::cli
