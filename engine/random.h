// Portable, seedable random numbers (xoshiro256** seeded by splitmix64; Box–Muller normals),
// identical on every platform and standard library, so noise and path samples are reproducible.
#pragma once
#include <cmath>
#include <cstdint>

#include "engine/tensor.h"

namespace gradlens {

class Rng {
 public:
  explicit Rng(uint64_t seed = 0);
  uint64_t next();
  double uniform();                       // [0, 1)
  double uniform(double lo, double hi);   // [lo, hi)
  double normal();                        // N(0, 1)
  int64_t below(int64_t n);               // [0, n)
  void fill_uniform(Tensor& t, float lo, float hi);
  void fill_normal(Tensor& t, float mean, float stddev);

 private:
  uint64_t s_[4];
  double spare_ = 0;
  bool has_spare_ = false;
};

}  // namespace gradlens
