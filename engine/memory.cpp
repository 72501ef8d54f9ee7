#include "engine/memory.h"

#include <atomic>

#include "engine/error.h"

namespace gradlens {

namespace {
std::atomic<int64_t> g_limit{kDefaultMemoryLimit};
std::atomic<int64_t> g_in_use{0};
thread_local std::string t_label;

std::string human(int64_t bytes) {
  const double b = double(bytes);
  if (b >= double(int64_t(1) << 30)) return str(b / double(int64_t(1) << 30), " GiB");
  if (b >= double(1 << 20)) return str(b / double(1 << 20), " MiB");
  return str(bytes, " bytes");
}

[[noreturn]] void over_limit(int64_t bytes, const char* what) {
  fail(t_label.empty() ? "" : t_label + ": ", what, " needs ",
       bytes < 0 ? std::string("more than 2^63 bytes") : human(bytes), ", over the memory limit of ",
       human(g_limit.load()), " (", human(g_in_use.load()), " in use; raise it with --max-memory)");
}
}  // namespace

void set_memory_limit(int64_t bytes) {
  GL_CHECK(bytes > 0, "memory limit must be positive, given ", bytes);
  g_limit.store(bytes);
}
int64_t memory_limit() { return g_limit.load(); }
int64_t memory_in_use() { return g_in_use.load(); }

void check_memory(int64_t bytes, const char* what) {
  if (bytes < 0 || bytes > g_limit.load() - g_in_use.load()) over_limit(bytes, what);
}

void reserve_memory(int64_t bytes, const char* what) {
  if (bytes < 0) over_limit(bytes, what);
  const int64_t before = g_in_use.fetch_add(bytes);
  if (before + bytes > g_limit.load()) {
    g_in_use.fetch_sub(bytes);
    over_limit(bytes, what);
  }
}

void release_memory(int64_t bytes) { g_in_use.fetch_sub(bytes); }

bool checked_mul(int64_t a, int64_t b, int64_t& out) {
  return a >= 0 && b >= 0 && !__builtin_mul_overflow(a, b, &out);
}
bool checked_add(int64_t a, int64_t b, int64_t& out) { return !__builtin_add_overflow(a, b, &out); }

MemoryScope::MemoryScope(std::string label) : previous_(std::move(t_label)) {
  t_label = std::move(label);
}
MemoryScope::~MemoryScope() { t_label = std::move(previous_); }

}  // namespace gradlens
