// One loaded model explained from many threads at once (the C++ API; the C API's counterpart is
// tests/capi/test_capi.c): every call records its own tape and arena, so each thread's result is
// bitwise equal to one thread's, for methods of every family (rules, bias maps, CAM taps,
// perturbations, seeded noise and random draws, paths with adversarial searches).
// tools/tsan.sh runs this file under ThreadSanitizer.
#include <doctest/doctest.h>

#include <cstring>
#include <thread>

#include "attribution/method.h"
#include "io/npy.h"
#include "io/onnx.h"
#include "method_testing.h"

namespace gradlens {
namespace {

bool bitwise_equal(const Tensor& a, const Tensor& b) {
  return a.shape() == b.shape() && std::memcmp(a.data(), b.data(), sizeof(float) * size_t(a.numel())) == 0;
}

}  // namespace

TEST_CASE("one model, many threads: every result bitwise equal to one thread's") {
  const auto dir = test::fixture("small_cnn");
  const Model model(load_onnx((dir / "model.onnx").string()));
  const ModelFunction f(model);  // shared too: a Function is const
  const Tensor x = read_npy((dir / "input.npy").string());
  const std::vector<int64_t> targets = test::fixture_targets(dir);

  const std::vector<std::pair<std::string, std::map<std::string, std::string>>> cases = {
      {"gradient", {}},
      {"guided-backprop", {}},
      {"rectgrad", {}},
      {"fullgrad", {}},
      {"grad-cam", {{"upsample", "bilinear"}}},
      {"score-cam", {}},
      {"smoothgrad", {{"samples", "4"}, {"seed", "11"}}},
      {"integrated-gradients", {{"steps", "8"}}},
      {"expected-gradients", {{"samples", "4"}, {"seed", "3"}, {"baselines", (dir / "path_eg_baselines.npy").string()}}},
      {"big", {{"radii", "0.01,0.1"}, {"attack-steps", "3"}, {"steps", "4"}}},
  };
  const int threads = 8, repeats = 3;
  for (const auto& method_case : cases) {
    const auto& name = method_case.first;  // not a structured binding: CAPTURE captures it (clang)
    const auto& options = method_case.second;
    CAPTURE(name);
    const Tensor expected = test::explain(name, test::request(f, x, targets, 3), options).attribution;
    std::vector<int> mismatches(threads, 0), errors(threads, 0);
    std::vector<std::thread> pool;
    for (int t = 0; t < threads; ++t)
      pool.emplace_back([&, t, name = name, options = options] {
        for (int r = 0; r < repeats; ++r) {
          try {
            const Explanation e = test::explain(name, test::request(f, x, targets, 3), options);
            mismatches[size_t(t)] += !bitwise_equal(e.attribution, expected);
          } catch (...) {
            ++errors[size_t(t)];
          }
        }
      });
    for (std::thread& th : pool) th.join();
    for (int t = 0; t < threads; ++t) {
      CHECK(errors[size_t(t)] == 0);
      CHECK(mismatches[size_t(t)] == 0);
    }
  }
}

TEST_CASE("one model, many threads: forward passes bitwise equal to one thread's") {
  const auto dir = test::fixture("resnet_tiny");
  const Model model(load_onnx((dir / "model.onnx").string()));
  const Tensor x = read_npy((dir / "input.npy").string());
  Tape tape;
  const Tensor expected = model.forward(tape, x, false).value().clone();
  std::vector<int> mismatches(8, 0);
  std::vector<std::thread> pool;
  for (size_t t = 0; t < mismatches.size(); ++t)
    pool.emplace_back([&, t] {
      for (int r = 0; r < 5; ++r) {
        Tape own;
        mismatches[t] += !bitwise_equal(model.forward(own, x, false).value(), expected);
      }
    });
  for (std::thread& th : pool) th.join();
  for (int m : mismatches) CHECK(m == 0);
}

}  // namespace gradlens
