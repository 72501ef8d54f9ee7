#include "engine/arena.h"

#include <cstdlib>
#include <cstring>
#include <new>

#include "engine/error.h"
#include "engine/memory.h"
#include "engine/tensor.h"

namespace gradlens {

namespace {
constexpr size_t kAlignFloats = 16;  // 64 bytes
size_t round_up(size_t n) { return (n + kAlignFloats - 1) / kAlignFloats * kAlignFloats; }
}  // namespace

Arena::Arena(size_t initial_floats) { add_block(initial_floats); }

// Blocks carry their byte count in a 64-byte header so the plain-function deleter can give the
// block back (engine/memory.h keeps it for the next arena).
static void free_block(void* p) {
  char* base = static_cast<char*>(p) - 64;
  int64_t bytes;
  std::memcpy(&bytes, base, sizeof bytes);
  release_block(base, bytes);
}

void Arena::add_block(size_t min_floats) {
  min_floats = round_up(std::max<size_t>(min_floats, kAlignFloats));
  size_t size = blocks_.empty() ? min_floats : std::max(min_floats, 2 * blocks_.back().size);
  // Doubling is a speed heuristic: when it would pass the memory limit, ask for what is needed.
  if (size > min_floats && int64_t(size * sizeof(float)) + 64 > memory_limit() - memory_in_use())
    size = min_floats;
  int64_t bytes = int64_t(size * sizeof(float)) + 64;
  void* p = acquire_block(bytes, "activation arena block");  // may be a kept, larger block
  size = size_t(bytes - 64) / sizeof(float);
  std::memcpy(p, &bytes, sizeof bytes);
  Block b;
  b.data = std::unique_ptr<float, void (*)(void*)>(
      reinterpret_cast<float*>(static_cast<char*>(p) + 64), free_block);
  b.size = size;
  blocks_.push_back(std::move(b));
  ++heap_allocations_;
}

float* Arena::allocate(int64_t n) {
  GL_CHECK(n >= 0 && n <= kMaxTensorElements, "arena request of ", n, " floats is out of range");
  size_t need = round_up(size_t(n));
  while (used_ + need > blocks_[current_].size) {
    if (current_ + 1 == blocks_.size()) add_block(need);
    ++current_;
    used_ = 0;
  }
  float* p = blocks_[current_].data.get() + used_;
  used_ += need;
  handed_out_ += need;
  peak_total_ = std::max(peak_total_, handed_out_);
  return p;
}

float* Arena::allocate_zeroed(int64_t n) {
  float* p = allocate(n);
  std::memset(p, 0, sizeof(float) * size_t(n));
  return p;
}

void Arena::rewind(const Mark& m) {
  current_ = m.block;
  used_ = m.used;
  handed_out_ = m.handed_out;
}

void Arena::reset() {
  if (blocks_.size() > 1) {
    size_t total = 0;
    for (auto& b : blocks_) total += b.size;
    blocks_.clear();
    add_block(std::max(total, peak_total_));
  }
  current_ = 0;
  used_ = 0;
  handed_out_ = 0;
}

size_t Arena::capacity_floats() const {
  size_t total = 0;
  for (auto& b : blocks_) total += b.size;
  return total;
}

}  // namespace gradlens
