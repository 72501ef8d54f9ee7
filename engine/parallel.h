// Deterministic parallel loops: iteration i always does the same work and writes only its own
// outputs, so results do not depend on the number of threads (ggml's ith/nth, without atomics).
#pragma once
#include <cstdint>

namespace gradlens {

template <class F>
void parallel_for(int64_t n, F&& body, int64_t min_parallel = 2) {
  if (n < min_parallel) {
    for (int64_t i = 0; i < n; ++i) body(i);
    return;
  }
#pragma omp parallel for schedule(static)
  for (int64_t i = 0; i < n; ++i) body(i);
}

}  // namespace gradlens
