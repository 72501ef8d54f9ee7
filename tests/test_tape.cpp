// The tape: propagation only where needed, accumulation, replay, arena reuse, taps.
#include <omp.h>

#include "engine/error.h"
#include "engine/gemm.h"
#include "engine/memory.h"
#include "engine/ops.h"
#include "engine/taps.h"
#include "support.h"

using namespace gradlens;
using gradlens::test::check_equal;
using gradlens::test::random_tensor;

TEST_CASE("gradients accumulate over fan-out") {
  Tape tape;
  Var x = tape.input(Tensor(Shape{3}, {1, 2, 3}));
  Var y = x * x + x * 3.f + exp(x) * 0.f;  // dy/dx = 2x + 3
  tape.backward(y, Tensor(Shape{3}, 1.f));
  check_equal(tape.grad(x), Tensor(Shape{3}, {5, 7, 9}));
}

TEST_CASE("backward follows only paths from inputs that require gradients") {
  Tape tape;
  Var x = tape.input(Tensor(Shape{2}, {1, 2}), true);
  Var w = tape.input(Tensor(Shape{2}, {3, 4}), false);  // a weight: a constant for attribution
  int calls = 0;
  // A custom node whose backward counts its calls: it depends on w only.
  Tensor out = tape.alloc(Shape{2});
  out.copy_from(w.value());
  Var only_w = tape.record({"only_w", "Custom"}, {w}, out, [&calls](BackwardContext& ctx) {
    ++calls;
    ctx.accumulate(0, ctx.grad_output());
  });
  Var y = x * w + only_w;
  CHECK(tape.requires_grad(y));
  CHECK_FALSE(tape.requires_grad(only_w));
  tape.backward(y, Tensor(Shape{2}, 1.f));
  CHECK(calls == 0);
  check_equal(tape.grad(x), Tensor(Shape{2}, {3, 4}));
  CHECK(tape.grad_view(w).empty());
  check_equal(tape.grad(w), Tensor(Shape{2}, {0, 0}));
}

TEST_CASE("a rule returning a wrongly shaped gradient is caught") {
  Tape tape;
  Var x = tape.input(Tensor(Shape{2, 2}));
  Tensor out = tape.alloc(Shape{2, 2});
  out.fill(0.f);
  Var y = tape.record({"bad", "Custom"}, {x}, out, [](BackwardContext& ctx) {
    ctx.accumulate(0, ctx.alloc(Shape{4}));
  });
  CHECK_THROWS_WITH_AS(tape.backward(y, Tensor(Shape{2, 2})),
                       doctest::Contains("node 'bad' (Custom): gradient for input 0 has shape [4]"), Error);
}

TEST_CASE("the arena is reused: steady-state runs allocate nothing from the heap") {
  Tape tape;
  const Tensor x = random_tensor(Shape{4, 64}, 1);
  const Tensor w = random_tensor(Shape{64, 32}, 2);
  size_t blocks_after_warmup = 0;
  for (int run = 0; run < 5; ++run) {
    tape.reset();
    Var vx = tape.input(x);
    Var vw = tape.constant(w);
    Var y = softmax(relu(matmul(vx, vw)), -1);
    for (int k = 0; k < 2; ++k) tape.backward(y, Tensor(y.shape(), 1.f));
    if (run == 1) blocks_after_warmup = tape.arena().heap_allocations();
  }
  CHECK(tape.arena().heap_allocations() == blocks_after_warmup);
}

TEST_CASE("a freed tape's blocks are kept for the next tape, uncounted, and dropped at the limit") {
  free_kept_blocks();
  const int64_t before = memory_in_use();
  const int64_t saved_limit = memory_limit();
  { Tape tape; tape.alloc({1 << 22}); }  // 16 MiB: its blocks are kept, not counted as in use
  CHECK(memory_in_use() == before);
  const int64_t kept = kept_block_bytes();
  CHECK(kept > (int64_t(16) << 20));
  {
    Tape tape;  // takes a kept block of the same size instead of asking the system
    CHECK(kept_block_bytes() < kept);
    CHECK(memory_in_use() > before);
  }
  CHECK(kept_block_bytes() == kept);
  // A reservation that would pass the limit together with the kept blocks frees them first.
  set_memory_limit(before + (int64_t(40) << 20));
  { Tensor t(Shape{int64_t(1) << 23}); }  // 32 MiB
  CHECK(kept_block_bytes() == 0);
  set_memory_limit(saved_limit);
  { Tape tape; }
  CHECK(kept_block_bytes() > 0);
  free_kept_blocks();
  CHECK(kept_block_bytes() == 0);
  CHECK(memory_in_use() == before);
}

TEST_CASE("arena growth keeps earlier values valid and is merged on reset") {
  Arena arena(16);
  float* a = arena.allocate(16);
  for (int i = 0; i < 16; ++i) a[i] = float(i);
  float* b = arena.allocate(1000);  // spills into a new block
  b[999] = 1.f;
  for (int i = 0; i < 16; ++i) CHECK(a[i] == float(i));
  arena.reset();
  const size_t blocks = arena.heap_allocations();
  arena.allocate(16);
  arena.allocate(1000);  // fits the merged block: no new allocation
  CHECK(arena.heap_allocations() == blocks);
}

TEST_CASE("the arena's peak counts the floats handed out, not the unused rest of a block left for the next") {
  Arena arena(64);
  arena.allocate(10);             // 16 floats (64-byte rounding) of the 64-float first block
  arena.allocate(100);            // 112 floats: too many for the block's rest, so a new block
  CHECK(arena.peak_floats() == 16 + 112);  // not 64 + 112: the first block's 48 unused floats
  const Arena::Mark m = arena.mark();
  arena.allocate(200);
  CHECK(arena.peak_floats() == 16 + 112 + 208);
  arena.rewind(m);                // in use again: 128
  arena.allocate(16);
  CHECK(arena.peak_floats() == 16 + 112 + 208);  // the peak is a running maximum
  arena.reset();
  arena.allocate(400);
  CHECK(arena.peak_floats() == 400);  // after reset the count starts at 0 again
  arena.allocate(16);
  CHECK(arena.peak_floats() == 416);
}

TEST_CASE("LayerTap captures a named tensor's activation and gradient") {
  Tape tape;
  LayerTap tap({"hidden"});
  tape.observe(&tap);
  // No input requires a gradient: the tap alone asks for the hidden tensor's.
  Var x = tape.input(Tensor(Shape{1, 3}, {1, -2, 3}), false);
  Var h = relu(x, {"hidden", "Relu"});
  Var y = sum(h * h);
  tape.backward(y, Tensor(Shape{}, {1.f}));
  check_equal(tap.activation("hidden"), Tensor(Shape{1, 3}, {1, 0, 3}));
  check_equal(tap.gradient("hidden"), Tensor(Shape{1, 3}, {2, 0, 6}));
  CHECK(tape.grad_view(x).empty());  // nothing propagated below the tapped layer
  CHECK_THROWS_WITH_AS(tap.activation("nope"), doctest::Contains("'nope' was not produced"), Error);
}

TEST_CASE("BiasTap reports grad ⊙ bias for nodes that add one") {
  Tape tape;
  BiasTap tap;
  tape.observe(&tap);
  Tensor bias(Shape{2, 1}, {0.5f, -1.f});
  Var x = tape.input(Tensor(Shape{2, 3}, {1, 2, 3, 4, 5, 6}));
  Var b = tape.constant(bias);
  NodeInfo info{"biased", "Add", &bias};
  Var y = add(x, b, info);
  tape.backward(y, Tensor(Shape{2, 3}, {1, 2, 3, 4, 5, 6}));
  REQUIRE(tap.entries().size() == 1);
  CHECK(tap.entries()[0].name == "biased");
  check_equal(tap.entries()[0].map, Tensor(Shape{2, 3}, {0.5f, 1.f, 1.5f, -4.f, -5.f, -6.f}));
  auto totals = tap.totals_per_sample();
  REQUIRE(totals.size() == 2);
  CHECK(totals[0] == doctest::Approx(3.0));
  CHECK(totals[1] == doctest::Approx(-15.0));
}

TEST_CASE("GEMM matches a plain triple loop for every transpose and odd shapes") {
  for (int64_t M : {1, 7, 13, 300}) {
    for (int64_t N : {1, 5, 13, 290}) {
      for (int64_t K : {1, 7, 33}) {
        for (int t = 0; t < 4; ++t) {
          const bool ta = t & 1, tb = t & 2;
          Tensor a = random_tensor(Shape{M * K}, uint64_t(M + 3 * N + 7 * K + t));
          Tensor b = random_tensor(Shape{K * N}, uint64_t(2 * M + N + K + t));
          Tensor c(Shape{M * N}, 0.25f), want(Shape{M * N});
          for (int64_t i = 0; i < M; ++i)
            for (int64_t j = 0; j < N; ++j) {
              double s = 0.25;  // accumulate onto the existing value
              for (int64_t k = 0; k < K; ++k)
                s += double(ta ? a[k * M + i] : a[i * K + k]) * double(tb ? b[j * K + k] : b[k * N + j]);
              want[i * N + j] = float(s);
            }
          gemm(M, N, K, a.data(), ta, b.data(), tb, c.data(), true);
          INFO("M=" << M << " N=" << N << " K=" << K << " ta=" << ta << " tb=" << tb);
          CHECK(gradlens::test::rel_l2(c, want) < 1e-5);
        }
      }
    }
  }
}

TEST_CASE("GEMM and elementwise ops are bitwise identical for 1 and 2 threads") {
  Tensor a = random_tensor(Shape{600, 70}, 1), b = random_tensor(Shape{70, 530}, 2);
  auto run = [&](int threads) {
    omp_set_num_threads(threads);
    Tape tape;
    Var va = tape.input(a), vb = tape.input(b);
    Var y = softmax(tanh(matmul(va, vb)), 0);
    tape.backward(y, random_tensor(y.shape(), 3));
    std::vector<Tensor> r = {y.value().clone(), tape.grad(va), tape.grad(vb)};
    return r;
  };
  auto one = run(1), two = run(2);
  omp_set_num_threads(omp_get_num_procs());
  for (size_t i = 0; i < one.size(); ++i) CHECK(gradlens::test::bitwise_equal(one[i], two[i]));
}
