// Bump-pointer arena for the tape's activations and gradients (as Stan Math's stack allocator).
// Blocks double in size; rewind() to a mark is O(1); reset() frees nothing but, when a run spilled
// into several blocks, replaces them by one block of the total size so the next run of the same
// model allocates nothing from the heap. Only plain floats live here: nothing with a destructor.
#pragma once
#include <cstddef>
#include <cstdint>
#include <memory>
#include <vector>

namespace gradlens {

class Arena {
 public:
  struct Mark {
    size_t block = 0;
    size_t used = 0;
    size_t handed_out = 0;  // floats handed out since reset() when the mark was taken
  };

  explicit Arena(size_t initial_floats = size_t(1) << 20);
  // 64-byte aligned, uninitialised floats.
  float* allocate(int64_t n);
  float* allocate_zeroed(int64_t n);
  Mark mark() const { return {current_, used_, handed_out_}; }
  void rewind(const Mark& m);
  void reset();
  size_t capacity_floats() const;
  // The most floats ever handed out at once (each request rounded up to 64 bytes): what a run
  // really uses, not the blocks' capacity (a request that does not fit a block's rest starts the
  // next block, and that unused rest is not counted).
  size_t peak_floats() const { return peak_total_; }
  size_t heap_allocations() const { return heap_allocations_; }  // blocks ever obtained

 private:
  struct Block {
    std::unique_ptr<float, void (*)(void*)> data{nullptr, nullptr};
    size_t size = 0;
  };
  void add_block(size_t min_floats);

  std::vector<Block> blocks_;
  size_t current_ = 0;
  size_t used_ = 0;
  size_t handed_out_ = 0;
  size_t peak_total_ = 0;
  size_t heap_allocations_ = 0;
};

}  // namespace gradlens
