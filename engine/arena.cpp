#include "engine/arena.h"

#include <cstdlib>
#include <cstring>
#include <new>

#include "engine/error.h"
#include "engine/tensor.h"

namespace gradlens {

namespace {
constexpr size_t kAlignFloats = 16;  // 64 bytes
size_t round_up(size_t n) { return (n + kAlignFloats - 1) / kAlignFloats * kAlignFloats; }
}  // namespace

Arena::Arena(size_t initial_floats) { add_block(initial_floats); }

void Arena::add_block(size_t min_floats) {
  size_t size = blocks_.empty() ? min_floats : std::max(min_floats, 2 * blocks_.back().size);
  size = round_up(std::max<size_t>(size, kAlignFloats));
  void* p = std::aligned_alloc(64, size * sizeof(float));
  if (!p) throw std::bad_alloc();
  Block b;
  b.data = std::unique_ptr<float, void (*)(void*)>(static_cast<float*>(p), std::free);
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
  size_t total = used_;
  for (size_t i = 0; i < current_; ++i) total += blocks_[i].size;
  peak_total_ = std::max(peak_total_, total);
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
}

size_t Arena::capacity_floats() const {
  size_t total = 0;
  for (auto& b : blocks_) total += b.size;
  return total;
}

}  // namespace gradlens
