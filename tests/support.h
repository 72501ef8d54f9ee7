// Shared helpers for the tests.
#pragma once
#include <doctest/doctest.h>

#include <cmath>
#include <cstring>
#include <string>

#include "engine/error.h"
#include "engine/random.h"
#include "engine/tensor.h"

namespace gradlens::test {

// The message of the gradlens::Error that f() throws; a failed check and "" when it throws none.
template <class F>
std::string error_of(F&& f) {
  try {
    f();
  } catch (const Error& e) {
    return e.what();
  }
  FAIL_CHECK("expected a gradlens::Error");
  return "";
}

// True when `part` occurs in `text`.
inline bool contains(const std::string& text, const std::string& part) { return text.find(part) != std::string::npos; }

inline Tensor random_tensor(const Shape& s, uint64_t seed, float lo = -1.f, float hi = 1.f) {
  Tensor t(s);
  Rng rng(seed);
  rng.fill_uniform(t, lo, hi);
  return t;
}

// Relative L2 distance ‖a − b‖ / max(‖b‖, 1e-12), in double.
inline double rel_l2(const Tensor& a, const Tensor& b) {
  REQUIRE(a.numel() == b.numel());
  double e = 0, r = 0;
  for (int64_t i = 0; i < a.numel(); ++i) {
    double d = double(a[i]) - double(b[i]);
    e += d * d;
    r += double(b[i]) * double(b[i]);
  }
  return std::sqrt(e) / std::max(std::sqrt(r), 1e-12);
}

inline bool bitwise_equal(const Tensor& a, const Tensor& b) {
  if (a.shape() != b.shape()) return false;
  for (int64_t i = 0; i < a.numel(); ++i)
    if (std::memcmp(a.data() + i, b.data() + i, sizeof(float)) != 0) return false;
  return true;
}

inline void check_equal(const Tensor& got, const Tensor& want, double tol = 0.0) {
  REQUIRE(got.shape() == want.shape());
  for (int64_t i = 0; i < got.numel(); ++i) {
    INFO("element " << i << ": got " << got[i] << ", want " << want[i]);
    CHECK(std::fabs(double(got[i]) - double(want[i])) <= tol * std::max(1.0, std::fabs(double(want[i]))));
  }
}

}  // namespace gradlens::test
