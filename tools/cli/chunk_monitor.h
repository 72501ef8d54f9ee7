// The CLI's view of the chunked passes (attribution/chunked_pass.h): while a method runs, a
// ChunkMonitor observes this thread's passes and keeps the largest chunk and tape for the run's
// notes and JSON, warns once on stderr when a single row's tape already exceeds --max-memory,
// moves the command's progress bar row by row, and, unless quiet, says how many rows a pass has
// before it runs long (over ten seconds at the rate of its second chunk: the first, the one-row
// probe, also grows the tape's arena).
#pragma once
#include <cstdint>
#include <string>

#include "attribution/chunked_pass.h"
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
  void pass_begins(int64_t rows) override;
  void chunk_ran(int64_t rows, int64_t tape_bytes) override;
  void over_budget(int64_t row_bytes, int64_t max_bytes) override;

  void start_method(const std::string& name = "");  // forgets the previous method's largest chunk
  int64_t chunk_rows() const { return chunk_rows_; }
  int64_t tape_bytes() const { return tape_bytes_; }
  // notes "max_memory", "chunk_rows", "tape_bytes" (bytes and rows, as numbers)
  void add_notes(Explanation& e) const;

 private:
  std::string command_, method_;
  Progress* progress_;
  bool quiet_;
  int64_t chunk_rows_ = 0, tape_bytes_ = 0;
  int64_t pass_rows_ = 0, pass_done_ = 0, pass_chunks_ = 0;
  double last_chunk_end_ = 0;
  bool warned_ = false, announced_ = false;
};

}  // namespace gradlens::cli
