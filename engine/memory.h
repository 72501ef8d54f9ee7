// One memory limit for everything a model makes gradlens allocate: owning tensors (weights,
// folded constants), the tape's arena blocks (activations, gradients) and the index maps that
// data-movement layers build. The limit counts live bytes across every thread; a request that
// would pass it is an Error naming the size (and the node being run, see MemoryScope) before
// anything is allocated. Default 8 GiB; the CLI's --max-memory sets it.
#pragma once
#include <cstddef>
#include <cstdint>
#include <string>

namespace gradlens {

constexpr int64_t kDefaultMemoryLimit = int64_t(8) << 30;

void set_memory_limit(int64_t bytes);  // > 0
int64_t memory_limit();
int64_t memory_in_use();  // live bytes counted against the limit

// Throws Error when `bytes` more (for `what`, e.g. "tensor [2,3]") would pass the limit.
void check_memory(int64_t bytes, const char* what);
// check_memory, then counts the bytes as live until release_memory.
void reserve_memory(int64_t bytes, const char* what);
void release_memory(int64_t bytes);

// Large blocks (the tape arenas'), recycled. Each method call builds a fresh tape, and glibc hands
// blocks this large back to the kernel on free, so every call paid a page fault on first touch of
// each activation page (about a fifth of a resnet18 saliency call). A released block is kept here,
// no longer counted as in use, and given to the next request it fits (up to twice its size). A
// request no kept block fits frees them all first, and so does a reservation that would pass the
// limit with them, so the kept blocks never raise a peak past the limit. At most 8 are kept.
// acquire_block reserves `bytes` (updated to the block's real size) and returns 64-byte aligned
// memory; release_block gives the reservation back and keeps the block.
void* acquire_block(int64_t& bytes, const char* what);
void release_block(void* p, int64_t bytes);
void free_kept_blocks();        // gives every kept block back to the system
int64_t kept_block_bytes();     // bytes held by kept blocks

// checked products: false on int64 overflow or a negative operand
bool checked_mul(int64_t a, int64_t b, int64_t& out);
bool checked_add(int64_t a, int64_t b, int64_t& out);

// While alive, memory errors on this thread are prefixed with `label` (e.g. "node 'conv1'
// (Conv)"), so an over-limit tensor names the node that asked for it.
class MemoryScope {
 public:
  explicit MemoryScope(std::string label);
  ~MemoryScope();
  MemoryScope(const MemoryScope&) = delete;
  MemoryScope& operator=(const MemoryScope&) = delete;

 private:
  std::string previous_;
};

}  // namespace gradlens
