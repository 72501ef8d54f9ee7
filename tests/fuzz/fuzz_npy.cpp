// libFuzzer target: the .npy reader (the input is handed over as an in-memory file, memfd).
#include <sys/mman.h>
#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <string>

#include "engine/error.h"
#include "engine/memory.h"
#include "io/npy.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static const bool limited = (gradlens::set_memory_limit(int64_t(1) << 30), true);
  (void)limited;
  const int fd = memfd_create("fuzz.npy", 0);
  if (fd < 0) return 0;
  if (write(fd, data, size) == ssize_t(size)) {
    try {
      (void)gradlens::read_npy("/proc/self/fd/" + std::to_string(fd));
    } catch (const gradlens::Error&) {
    }
  }
  close(fd);
  return 0;
}
