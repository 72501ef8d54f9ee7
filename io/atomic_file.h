// Atomic file output: the bytes go to `path.tmp.<pid>` in the same directory, which is flushed,
// closed and then renamed over `path` (rename(2) replaces the target atomically on POSIX file
// systems). Readers see either the old file or the complete new one, never a partial write; on any
// failure the temporary file is removed and an Error names `path`.
#pragma once
#include <cstddef>
#include <string>
#include <vector>

namespace gradlens {

struct ByteChunk {
  const void* data;
  size_t size;
};

// Writes the chunks, in order, as the new contents of `path`.
void write_file_atomically(const std::string& path, const std::vector<ByteChunk>& chunks);
inline void write_file_atomically(const std::string& path, const std::string& bytes) {
  write_file_atomically(path, {{bytes.data(), bytes.size()}});
}

}  // namespace gradlens
