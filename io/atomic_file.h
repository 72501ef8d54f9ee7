// Atomic file output.
//  - write_file_atomically: the bytes go to `path.tmp.<pid>` in the same directory, which is
//    flushed, closed and then renamed over `path` (rename(2) replaces the target atomically on
//    POSIX file systems). Readers see either the old file or the complete new one, never a partial
//    write; on any failure the temporary file is removed and an Error names `path`.
//  - AtomicFileSet: several files that appear together or not at all (explain's --out-npy and
//    --out-png): each is written to a staged name beside its target; commit() renames them all
//    once every write has succeeded; destruction without commit removes the staged files.
//  - AtomicDirectory: an output folder (compare --out DIR) filled in a hidden staging folder
//    beside it; commit() renames the folder into place when DIR did not exist, else moves each
//    file in (every file complete before the first rename); without commit it is removed.
// Temporaries of writes in progress are also removed when the process is killed by SIGINT,
// SIGTERM or SIGHUP (a handler installed on first use; it then re-raises the signal).
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

class AtomicFileSet {
 public:
  AtomicFileSet() = default;
  ~AtomicFileSet();
  AtomicFileSet(const AtomicFileSet&) = delete;
  AtomicFileSet& operator=(const AtomicFileSet&) = delete;
  // The name to write `path`'s contents to until commit().
  std::string stage(const std::string& path);
  void commit();

 private:
  std::vector<std::pair<std::string, std::string>> staged_;  // (temporary, final)
  std::vector<int> slots_;
};

class AtomicDirectory {
 public:
  explicit AtomicDirectory(std::string dir);
  ~AtomicDirectory();
  AtomicDirectory(const AtomicDirectory&) = delete;
  AtomicDirectory& operator=(const AtomicDirectory&) = delete;
  // Where to write the file `name` of the folder until commit().
  std::string path(const std::string& name) const { return staging_ + "/" + name; }
  void commit();

 private:
  std::string dir_, staging_;
  int slot_ = -1;
  bool committed_ = false;
};

}  // namespace gradlens
