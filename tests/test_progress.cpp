// Progress of long work: the chunked passes' observer (attribution/chunked_pass.h) reports every
// pass's rows and each chunk as it runs, in order and adding up, without changing a result; the
// CLI's progress-bar text (tools/cli/progress_text.h) as pure functions. Never timing.
#include <doctest/doctest.h>

#include <string>
#include <vector>

#include "attribution/chunked_pass.h"
#include "attribution/cost.h"
#include "attribution/gradients.h"
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
    int64_t rows = 0, backwards = 0;
    std::vector<int64_t> chunks;
    std::vector<int64_t> tape;
  };
  std::vector<Pass> passes;
  void pass_begins(int64_t rows, int64_t backwards) override { passes.push_back({rows, backwards, {}, {}}); }
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
      // The path pass: the probes of one row and of two, then chunks of --batch 7.
      path_pass = true;
      CHECK(p.chunks == std::vector<int64_t>{1, 2, 7, 7, 1});
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

// #18: choosing the predicted class must not cost a forward of its own where the method's first
// pass is a forward of the input: the passes are counted through the observer, not timed.
TEST_CASE("targets auto: gradient and CAM methods take the predicted class from their own forward (no extra pass)") {
  const std::filesystem::path dir = fixture("small_cnn");
  Model model(load_onnx((dir / "model.onnx").string()));
  ModelFunction f(model);
  const Tensor x = read_npy((dir / "input.npy").string());
  const int64_t N = x.dim(0);
  const Tensor scores = evaluate_scores(f, x, 7);
  const std::vector<int64_t> predicted = predicted_classes(scores);
  for (const char* name : {"grad-cam", "saliency", "score-cam"}) {
    CAPTURE(name);
    Recorder rec;
    Explanation e;
    {
      ScopedChunkObserver observing(&rec);
      e = explain(name, request(f, x, {}, 7), {});
    }
    REQUIRE(!rec.passes.empty());
    // The first pass is the method's own over the N inputs (with its backward, for gradients): no
    // forward-only pass of the inputs runs before it.
    CHECK(rec.passes[0].rows == N);
    CHECK(rec.passes[0].backwards == (std::string(name) == "score-cam" ? 0 : 1));
    int64_t passes_over_input = 0;
    for (const Recorder::Pass& p : rec.passes) passes_over_input += p.rows == N;
    CHECK(passes_over_input == 1);
    CHECK(e.targets == predicted);
    REQUIRE(e.logits.shape() == scores.shape());
    CHECK(rel_l2(e.logits, scores) < 1e-6);
    // The same map as with the predicted classes given.
    const Explanation given = explain(name, request(f, x, predicted, 7), {});
    CHECK(bitwise_equal(e.attribution, given.attribution));
    CHECK(given.targets == predicted);
  }
  // Integrated gradients' passes never run the input itself: one forward-only pass chooses the
  // classes first, and its scores are the explanation's logits.
  Recorder rec;
  Explanation ig;
  {
    ScopedChunkObserver observing(&rec);
    ig = explain("integrated-gradients", request(f, x, {}, 7), {{"steps", "4"}});
  }
  REQUIRE(rec.passes.size() >= 2);
  CHECK(rec.passes[0].rows == N);
  CHECK(rec.passes[0].backwards == 0);
  CHECK(ig.targets == predicted);
  CHECK(bitwise_equal(ig.logits, scores));
}

TEST_CASE("Score-CAM's masked inputs run in budgeted chunks: one row at a time under a tiny budget, the same map") {
  const std::filesystem::path dir = fixture("small_cnn");
  Model model(load_onnx((dir / "model.onnx").string()));
  ModelFunction f(model);
  const Tensor x = read_npy((dir / "input.npy").string());
  const std::vector<int64_t> targets = fixture_targets(dir);
  const int64_t N = x.dim(0);
  auto run = [&](int64_t budget, int64_t batch, Recorder& rec) {
    const MaxMemory limit(budget);
    ScopedChunkObserver observing(&rec);
    return explain("score-cam", request(f, x, targets, batch), {});
  };
  Recorder whole, tiny;
  const Explanation unchunked = run(int64_t(1) << 40, 1 << 20, whole);  // every example's K masks in one chunk
  const Explanation chunked = run(1, 1 << 20, tiny);                     // a budget under one row: chunks of 1
  // Passes: the layer pass over the N inputs, then one pass of K masked rows per example.
  REQUIRE(whole.passes.size() == size_t(1 + N));
  REQUIRE(tiny.passes.size() == size_t(1 + N));
  const int64_t K = whole.passes[1].rows;
  CHECK(K > 3);
  for (int64_t n = 1; n <= N; ++n) {
    CHECK(whole.passes[size_t(n)].rows == K);
    CHECK(whole.passes[size_t(n)].backwards == 0);
    // The first mask pass probes one row and two; later passes of the same budget run it whole.
    CHECK(whole.passes[size_t(n)].chunks == (n == 1 ? std::vector<int64_t>{1, 2, K - 3} : std::vector<int64_t>{K}));
    CHECK(tiny.passes[size_t(n)].chunks == std::vector<int64_t>(size_t(K), 1));
  }
  CHECK(chunked.forward_passes == unchunked.forward_passes);
  CHECK(chunked.forward_passes == N * (1 + K));
  CHECK(rel_l2(chunked.attribution, unchunked.attribution) < 1e-6);
}

TEST_CASE("expected passes: the cost formula with the request's values gives the passes the method reports") {
  const std::filesystem::path dir = fixture("small_cnn");
  Model model(load_onnx((dir / "model.onnx").string()));
  ModelFunction f(model);
  const Tensor x = read_npy((dir / "input.npy").string());
  const std::vector<int64_t> targets = fixture_targets(dir);
  const int64_t N = x.dim(0);
  const std::map<std::string, std::map<std::string, std::string>> options = {
      {"integrated-gradients", {{"steps", "5"}}}, {"smoothgrad", {{"samples", "3"}}},
      {"smooth-grad-cam-pp", {{"samples", "3"}}},
      {"blur-ig", {{"steps", "5"}}}, {"guided-ig", {{"steps", "5"}}}};
  int checked = 0;
  for (const auto& [name, given] : options) {
    CAPTURE(name);
    const Method* m = find_method(name);
    REQUIRE(m);
    Request r = request(f, x, targets, 7);
    for (const auto& [k, v] : given) r.options.set(k, v);
    const std::optional<ExpectedPasses> expected = expected_passes(m->info(), r);
    REQUIRE(expected);
    const Explanation e = m->explain(r);
    CHECK(expected->forward_rows == e.forward_passes);
    CHECK(expected->backward_rows == e.backward_passes);
    ++checked;
  }
  for (const char* name : {"grad-cam", "score-cam", "gradient", "fullgrad"}) {
    CAPTURE(name);
    const Request r = request(f, x, targets, 7);
    const std::optional<ExpectedPasses> expected = expected_passes(method(name).info(), r);
    REQUIRE(expected);
    const Explanation e = method(name).explain(r);
    CHECK(expected->forward_rows == e.forward_passes);
    CHECK(expected->backward_rows == e.backward_passes);
  }
  // Score-CAM: (1 + K) F per example with K the layer's channels, named in the values.
  const std::optional<ExpectedPasses> score = expected_passes(method("score-cam").info(), request(f, x, targets, 7));
  REQUIRE(score);
  CHECK(contains(score->values, "K = "));
  CHECK(score->backward_rows == 0);
  CHECK(score->forward_rows > N);
  // Prose is no formula: split-ig's "(× 2 with --right)" has no expectation.
  CHECK(!expected_passes(method("split-ig").info(), request(f, x, targets, 7)));
  CHECK(checked == int(options.size()));
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
