// Deterministic parallel loops: iteration i always does the same work and writes only its own
// outputs, so results do not depend on the number of threads (ggml's ith/nth, without atomics).
#pragma once
#include <omp.h>

#include <cstdint>

namespace gradlens {

template <class F>
void parallel_for(int64_t n, F&& body, int64_t min_parallel = 2) {
  if (n < min_parallel || omp_in_parallel()) {  // nested: the enclosing loop is the parallel one
    for (int64_t i = 0; i < n; ++i) body(i);
    return;
  }
#pragma omp parallel for schedule(static)
  for (int64_t i = 0; i < n; ++i) body(i);
}

// Items (e.g. the examples of a batch) that each need `scratch` floats of private workspace:
// workers() is how many scratch slots to allocate, and run(items, scratch, body) calls
// body(item, slot) for every item, in parallel over items when there are at least as many items
// as threads (each item then runs on one thread and its inner parallel loops run serially),
// otherwise one item at a time with the inner loops parallel. Which of the two happens depends on
// the thread count, but each item's work is the same in both, so the results do not.
class ItemWorkers {
 public:
  explicit ItemWorkers(int64_t items)
      : items_(items), threads_(omp_in_parallel() ? 1 : omp_get_max_threads()),
        outer_(items_ > 1 && threads_ > 1 && items_ >= threads_) {}
  int64_t workers() const { return outer_ ? threads_ : 1; }
  template <class F>
  void run(F&& body) const {
    if (!outer_) {
      for (int64_t i = 0; i < items_; ++i) body(i, int64_t(0));
      return;
    }
#pragma omp parallel for schedule(static) num_threads(int(threads_))
    for (int64_t i = 0; i < items_; ++i) body(i, int64_t(omp_get_thread_num()));
  }

 private:
  int64_t items_, threads_;
  bool outer_;
};

}  // namespace gradlens
