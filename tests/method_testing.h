// Shared helpers of the attribution-method tests: a Request for a function and its inputs, a
// method run by name with options given as text (as the CLI passes them), the PyTorch fixture
// folders with their targets.
#pragma once
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <filesystem>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "attribution/chunked_pass.h"
#include "attribution/method.h"
#include "io/npy.h"

namespace gradlens::test {

inline Request request(const Function& f, const Tensor& x, std::vector<int64_t> targets, int64_t batch = 5) {
  Request r;
  r.function = &f;
  r.input = x;
  r.targets = std::move(targets);
  r.batch = batch;
  return r;
}

inline Explanation explain(const std::string& name, Request r, const std::map<std::string, std::string>& options) {
  for (const auto& [k, v] : options) r.options.set(k, v);
  return method(name).explain(r);
}

// The run's memory budget (--max-memory) set to `bytes` while alive.
class MaxMemory {
 public:
  explicit MaxMemory(int64_t bytes) { set_max_memory(bytes); }
  ~MaxMemory() { set_max_memory(saved_); }
  MaxMemory(const MaxMemory&) = delete;
  MaxMemory& operator=(const MaxMemory&) = delete;

 private:
  int64_t saved_ = max_memory();
};

inline double max_abs(const std::vector<double>& v) {
  double m = 0;
  for (double d : v) m = std::max(m, std::fabs(d));
  return m;
}

// tests/data/fixtures/NAME (written by tools/make_fixtures.py).
inline std::filesystem::path fixture(const std::string& name) {
  return std::filesystem::path(GRADLENS_TEST_DATA) / "fixtures" / name;
}

// The fixture's target.npy as class indices.
inline std::vector<int64_t> fixture_targets(const std::filesystem::path& dir) {
  const Tensor t = read_npy((dir / "target.npy").string());
  std::vector<int64_t> out;
  for (int64_t i = 0; i < t.numel(); ++i) out.push_back(int64_t(t[i]));
  return out;
}

}  // namespace gradlens::test
