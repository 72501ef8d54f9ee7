#include "io/atomic_file.h"

#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>

#include "engine/error.h"

namespace gradlens {

void write_file_atomically(const std::string& path, const std::vector<ByteChunk>& chunks) {
  const std::string tmp = path + ".tmp." + std::to_string(getpid());
  FILE* f = std::fopen(tmp.c_str(), "wb");
  GL_CHECK(f, path, ": cannot write (", std::strerror(errno), ")");
  bool ok = true;
  for (const ByteChunk& c : chunks) ok = ok && (c.size == 0 || std::fwrite(c.data, 1, c.size, f) == c.size);
  ok = std::fflush(f) == 0 && ok;
  const int write_errno = errno;
  ok = std::fclose(f) == 0 && ok;
  if (!ok) {
    std::remove(tmp.c_str());
    fail(path, ": write failed (", std::strerror(write_errno), ")");
  }
  if (std::rename(tmp.c_str(), path.c_str()) != 0) {
    const int rename_errno = errno;
    std::remove(tmp.c_str());
    fail(path, ": cannot replace the file (", std::strerror(rename_errno), ")");
  }
}

}  // namespace gradlens
