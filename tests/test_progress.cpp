// Progress of long work: the chunked passes' observer (attribution/chunked_pass.h) reports every
// pass's rows and each chunk as it runs, in order and adding up, without changing a result; the
// CLI's progress-bar text (tools/cli/progress_text.h) as pure functions. Never timing.
#include <doctest/doctest.h>

#include <string>
#include <vector>

#include "attribution/chunked_pass.h"
#include "io/npy.h"
#include "io/onnx.h"
#include "layers/model.h"
#include "method_testing.h"
#include "support.h"
#include "tools/cli/progress_text.h"

namespace gradlens {
namespace {
using namespace test;

struct Recorder : ChunkObserver {
  struct Pass {
    int64_t rows = 0;
    std::vector<int64_t> chunks;
    std::vector<int64_t> tape;
  };
  std::vector<Pass> passes;
  void pass_begins(int64_t rows) override { passes.push_back({rows, {}, {}}); }
  void chunk_ran(int64_t rows, int64_t tape_bytes) override {
    REQUIRE(!passes.empty());
    passes.back().chunks.push_back(rows);
    passes.back().tape.push_back(tape_bytes);
  }
};

TEST_CASE("chunk observer: every pass's rows, its chunks in order adding up to them; results unchanged") {
  const std::filesystem::path dir = fixture("small_cnn");
  Model model(load_onnx((dir / "model.onnx").string()));
  ModelFunction f(model);
  const Tensor x = read_npy((dir / "input.npy").string());
  const std::vector<int64_t> targets = fixture_targets(dir);
  const int64_t N = x.dim(0);
  const Explanation plain = explain("integrated-gradients", request(f, x, targets, 7), {{"steps", "9"}});
  Recorder rec;
  Explanation seen;
  {
    ScopedChunkObserver observing(&rec);
    CHECK(chunk_observer() == &rec);
    seen = explain("integrated-gradients", request(f, x, targets, 7), {{"steps", "9"}});
  }
  CHECK(chunk_observer() == nullptr);
  CHECK(bitwise_equal(seen.attribution, plain.attribution));
  REQUIRE(!rec.passes.empty());
  bool path_pass = false;
  for (const Recorder::Pass& p : rec.passes) {
    int64_t done = 0;
    for (size_t c = 0; c < p.chunks.size(); ++c) {
      CHECK(p.chunks[c] >= 1);
      CHECK(p.chunks[c] <= 7);
      done += p.chunks[c];
      CHECK(done <= p.rows);
      if (c > 0) CHECK(p.tape[c] >= p.tape[c - 1]);  // the pass's peak so far
    }
    CHECK(done == p.rows);
    if (p.rows == N * 9) {
      // The path pass: the one-row probe, then chunks of --batch 7.
      path_pass = true;
      CHECK(p.chunks == std::vector<int64_t>{1, 7, 7, 3});
    }
  }
  CHECK(path_pass);
  // Nested observers: the inner one sees the passes while alive, then the outer one again.
  Recorder outer, inner;
  {
    ScopedChunkObserver a(&outer);
    {
      ScopedChunkObserver b(&inner);
      explain("gradient", request(f, x, targets, 7), {});
    }
    CHECK(chunk_observer() == &outer);
    explain("gradient", request(f, x, targets, 7), {});
  }
  CHECK(inner.passes.size() == 1);
  CHECK(outer.passes.size() == 1);
  CHECK(outer.passes[0].rows == N);
}

TEST_CASE("progress bar text: bar, steps, rows and ETA; durations") {
  using cli::duration_text;
  using cli::progress_line;
  CHECK(duration_text(0) == "0s");
  CHECK(duration_text(42.4) == "42s");
  CHECK(duration_text(185) == "3m05s");
  CHECK(duration_text(3720) == "1h02m");
  CHECK(duration_text(-1) == "?");
  CHECK(cli::rows_eta(0, 100, 5) < 0);
  CHECK(cli::rows_eta(25, 100, 10) == doctest::Approx(30));
  // Step 1 of 2 done, the second step's pass a quarter through: 5/8 of the bar.
  CHECK(progress_line("compare", 1, 2, "saliency", 25, 100, 10, 8) ==
        "compare [#####...] 1/2 saliency 25/100 rows, ETA 30s");
  CHECK(progress_line("explain", 0, 1, "", 0, 0, 0, 4) == "explain [....] 0/1");
  CHECK(progress_line("explain", 1, 1, "ig", 0, 0, 0, 4) == "explain [####] 1/1 ig");
  CHECK(progress_line("explain", 0, 1, "score-cam", 0, 2048, 0, 4) == "explain [....] 0/1 score-cam 0/2048 rows");
}

}  // namespace
}  // namespace gradlens
