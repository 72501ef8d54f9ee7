#include "engine/memory.h"

#include <algorithm>
#include <atomic>
#include <cstdlib>
#include <mutex>
#include <new>
#include <vector>

#include "engine/error.h"

namespace gradlens {

namespace {
std::atomic<int64_t> g_limit{kDefaultMemoryLimit};
std::atomic<int64_t> g_in_use{0};
thread_local std::string t_label;

struct KeptBlock {
  void* p;
  int64_t bytes;
};
constexpr size_t kMaxKeptBlocks = 8;
std::mutex g_kept_mutex;
std::vector<KeptBlock> g_kept;  // guarded by g_kept_mutex
std::atomic<int64_t> g_kept_bytes{0};

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
  if (g_kept_bytes.load() > 0 && g_in_use.load() + bytes + g_kept_bytes.load() > g_limit.load())
    free_kept_blocks();
  const int64_t before = g_in_use.fetch_add(bytes);
  if (before + bytes > g_limit.load()) {
    g_in_use.fetch_sub(bytes);
    over_limit(bytes, what);
  }
}

void release_memory(int64_t bytes) { g_in_use.fetch_sub(bytes); }

void free_kept_blocks() {
  std::vector<KeptBlock> kept;
  {
    std::lock_guard<std::mutex> lock(g_kept_mutex);
    kept.swap(g_kept);
    g_kept_bytes.store(0);
  }
  for (const KeptBlock& b : kept) std::free(b.p);
}

int64_t kept_block_bytes() { return g_kept_bytes.load(); }

void* acquire_block(int64_t& bytes, const char* what) {
  KeptBlock taken{nullptr, 0};
  {
    std::lock_guard<std::mutex> lock(g_kept_mutex);
    // the smallest kept block of [bytes, 2·bytes]
    auto best = g_kept.end();
    for (auto it = g_kept.begin(); it != g_kept.end(); ++it)
      if (it->bytes >= bytes && it->bytes / 2 <= bytes && (best == g_kept.end() || it->bytes < best->bytes))
        best = it;
    if (best != g_kept.end()) {
      taken = *best;
      g_kept.erase(best);
      g_kept_bytes.fetch_sub(taken.bytes);
    }
  }
  if (taken.p) {
    try {
      reserve_memory(taken.bytes, what);
    } catch (...) {
      std::free(taken.p);
      throw;
    }
    bytes = taken.bytes;
    return taken.p;
  }
  free_kept_blocks();  // none fits: they would only add to the peak
  reserve_memory(bytes, what);
  const size_t rounded = (size_t(bytes) + 63) / 64 * 64;
  void* p = std::aligned_alloc(64, rounded);
  if (!p) {
    release_memory(bytes);
    throw std::bad_alloc();
  }
  return p;
}

void release_block(void* p, int64_t bytes) {
  release_memory(bytes);
  std::lock_guard<std::mutex> lock(g_kept_mutex);
  if (g_kept.size() == kMaxKeptBlocks || g_in_use.load() + g_kept_bytes.load() + bytes > g_limit.load()) {
    std::free(p);
    return;
  }
  g_kept.push_back({p, bytes});
  g_kept_bytes.fetch_add(bytes);
}

bool checked_mul(int64_t a, int64_t b, int64_t& out) {
  return a >= 0 && b >= 0 && !__builtin_mul_overflow(a, b, &out);
}
bool checked_add(int64_t a, int64_t b, int64_t& out) { return !__builtin_add_overflow(a, b, &out); }

MemoryScope::MemoryScope(std::string label) : previous_(std::move(t_label)) {
  t_label = std::move(label);
}
MemoryScope::~MemoryScope() { t_label = std::move(previous_); }

}  // namespace gradlens
