// The CLI's view of the chunked passes (attribution/chunked_pass.h): while a method runs, a
// ChunkMonitor observes this thread's passes and keeps the largest chunk and tape for the run's
// notes and JSON, and warns once on stderr when a single row's tape already exceeds --max-memory.
#pragma once
#include <cstdint>
#include <string>

#include "attribution/chunked_pass.h"
#include "attribution/method.h"
#include "tools/cli/args.h"

namespace gradlens::cli {

// "1.50 GiB", "512 MiB", "300 bytes"
std::string byte_text(int64_t bytes);
// BYTES with an optional binary suffix K, M, G or T (2G = 2·2³⁰); false unless a positive number.
bool parse_bytes(const std::string& text, int64_t& bytes);
// --max-memory in a command's --help (tools/gradlens.cpp takes the flag out for every command).
Flag max_memory_flag();

class ChunkMonitor : public ChunkObserver {
 public:
  explicit ChunkMonitor(std::string command) : command_(std::move(command)) {}
  void chunk_ran(int64_t rows, int64_t tape_bytes) override;
  void over_budget(int64_t row_bytes, int64_t max_bytes) override;

  void start_method();  // forgets the previous method's largest chunk
  int64_t chunk_rows() const { return chunk_rows_; }
  int64_t tape_bytes() const { return tape_bytes_; }
  // notes "max_memory", "chunk_rows", "tape_bytes" (bytes and rows, as numbers)
  void add_notes(Explanation& e) const;

 private:
  std::string command_;
  int64_t chunk_rows_ = 0, tape_bytes_ = 0;
  bool warned_ = false;
};

}  // namespace gradlens::cli
