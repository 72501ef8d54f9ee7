#include "attribution/chunked_pass.h"

#include <algorithm>
#include <atomic>
#include <cstring>
#include <limits>

#include "engine/error.h"
#include "engine/ops.h"

namespace gradlens {

namespace {
std::atomic<int64_t> g_max_memory{kDefaultMaxMemory};
thread_local ChunkObserver* t_observer = nullptr;
}  // namespace

void set_max_memory(int64_t bytes) {
  GL_CHECK(bytes >= 1, "--max-memory must be at least 1 byte, got ", bytes);
  g_max_memory.store(bytes);
}
int64_t max_memory() { return g_max_memory.load(); }

ChunkObserver* chunk_observer() { return t_observer; }
ScopedChunkObserver::ScopedChunkObserver(ChunkObserver* observer) : previous_(t_observer) { t_observer = observer; }
ScopedChunkObserver::~ScopedChunkObserver() { t_observer = previous_; }

ChunkBudget::ChunkBudget(int64_t batch, int64_t max_bytes) : batch_(batch), max_bytes_(max_bytes) {
  GL_CHECK(batch >= 1, "batch size must be at least 1");
  GL_CHECK(max_bytes >= 1, "--max-memory must be at least 1 byte, got ", max_bytes);
}

void ChunkBudget::ran(int64_t rows, int64_t tape_bytes) {
  if (rows_ > 0) return;
  if (rows > 2) {  // the probe was given up (run_chunks: the model cannot run one row): no budget
    rows_ = batch_;
    return;
  }
  const int64_t tape = std::max<int64_t>(tape_bytes, 1);
  if (one_row_ == 0) {
    if (rows != 1) return;
    // The one-row probe. Over the budget: one row per chunk. When two rows might not fit, or at
    // most two are allowed, no second probe: ⌊budget / one row's tape⌋ (fixed part included).
    if (tape > max_bytes_ && t_observer) t_observer->over_budget(tape, max_bytes_);
    if (tape > max_bytes_ / 2 || batch_ <= 2) {
      rows_ = std::clamp<int64_t>(max_bytes_ / tape, 1, batch_);
      return;
    }
    one_row_ = tape;
    return;
  }
  if (rows != 2) return;  // a pass's last row came before the two-row probe: the next pass runs it
  // row = tape(2) − tape(1); fixed = tape(1) − row. A two-row tape no larger than one row's (no
  // growth seen) counts the whole one-row tape per row, as if nothing were fixed.
  const int64_t row = tape > one_row_ ? tape - one_row_ : one_row_;
  const int64_t fixed = std::max<int64_t>(one_row_ - row, 0);
  rows_ = std::clamp<int64_t>((max_bytes_ - fixed) / row, 1, batch_);
}

Tensor rows(const Tensor& X, int64_t begin, int64_t end) {
  GL_CHECK(X.rank() >= 1 && begin >= 0 && end <= X.dim(0) && begin <= end, "rows [", begin, ", ",
           end, ") of a tensor of shape ", X.shape().str());
  Shape s = X.shape();
  const int64_t per = s[0] ? X.numel() / s[0] : 0;
  s[0] = end - begin;
  return Tensor::view(s, const_cast<float*>(X.data()) + begin * per);
}

void place_rows(Tensor& all, const Tensor& chunk, int64_t M, int64_t offset, int64_t rows) {
  const bool batch_first = chunk.rank() >= 1 && chunk.dim(0) == rows;
  GL_CHECK(batch_first || rows == 1, "captured tensor of shape ", chunk.shape().str(),
           " has no leading batch axis of ", rows, " rows (run with --batch 1 to capture it per example)");
  const int64_t per = rows ? chunk.numel() / rows : 0;
  if (all.empty()) {
    Shape s = chunk.shape();
    if (batch_first) s[0] = M;
    else s = Shape{M, per};
    all = Tensor(s);
  }
  GL_CHECK(per * M == all.numel() && offset + rows <= M, "captured tensor changed shape between chunks: ",
           chunk.shape().str(), " vs ", all.shape().str());
  std::memcpy(all.data() + offset * per, chunk.data(), sizeof(float) * size_t(chunk.numel()));
}

void ChunkStats::add(const ChunkStats& other) {
  rows += other.rows;
  chunk_rows = std::max(chunk_rows, other.chunk_rows);
  chunks += other.chunks;
  tape_bytes = std::max(tape_bytes, other.tape_bytes);
}

Tensor Chunk::input_gradient() const {
  const Tensor& g = tape->grad_view(input);
  return g.empty() ? Tensor(input.shape()) : g;
}

Tensor Chunk::own_rows(const Tensor& tapped) const {
  GL_CHECK(fixed_batch <= 1 || (tapped.rank() >= 1 && tapped.dim(0) == run_rows), "captured tensor of shape ",
           tapped.shape().str(), " has no leading batch axis: the model is fixed to a batch of ", fixed_batch,
           " rows, whose examples cannot be told apart in it (export it with dynamic_axes)");
  return run_rows == rows ? tapped : gradlens::rows(tapped, 0, rows);
}

namespace {
int64_t checked_class(const std::vector<int64_t>& classes, int64_t n, int64_t C, const char* what) {
  GL_CHECK(n >= 0 && n < int64_t(classes.size()), "row of example ", n, " for ", classes.size(), " ", what, " classes");
  const int64_t c = classes[size_t(n)];
  GL_CHECK(c >= 0 && c < C, what, " class ", c, " is out of range for ", C, " classes");
  return c;
}
}  // namespace

SeedWriter class_seed(const std::vector<int64_t>& targets, const std::vector<int64_t>& contrast,
                      int64_t rows_per_example) {
  return [&targets, &contrast, rows_per_example](int64_t m, const float*, int64_t C, float* seed) {
    const int64_t n = m / rows_per_example;
    seed[checked_class(targets, n, C, "target")] += 1.f;
    if (!contrast.empty()) seed[checked_class(contrast, n, C, "contrast")] -= 1.f;
  };
}

double class_score(const float* scores, int64_t C, const std::vector<int64_t>& targets,
                   const std::vector<int64_t>& contrast, int64_t n) {
  double v = scores[checked_class(targets, n, C, "target")];
  if (!contrast.empty()) v -= scores[checked_class(contrast, n, C, "contrast")];
  return v;
}

namespace {
// The scores of the k rows of `input` (X) run as a batch of `batch` rows: X's last row repeated
// after them. Rows do not interact in the model, so the padding changes none of the k scores;
// its rows are sliced off, so no seed and no gradient reaches them.
Var padded_scores(const Function& f, Tape& tape, Var input, const Tensor& X, int64_t batch,
                  const std::vector<std::string>& layers) {
  const int64_t k = X.dim(0), per = X.numel() / k;
  Shape s = X.shape();
  s[0] = batch - k;
  Tensor padding(s);
  for (int64_t r = 0; r < batch - k; ++r) std::memcpy(padding.data() + r * per, X.data() + (k - 1) * per, sizeof(float) * size_t(per));
  Var padded = concat({input, tape.input(padding, false, "input.batch_padding")}, 0, {"input.padded", "Concat"});
  Var scores = f.scores_and(tape, padded, layers).front();
  GL_CHECK(scores.shape().rank() == 2 && scores.shape()[0] == batch,
           "the function's scores must be [rows, classes], got ", scores.shape().str());
  return slice(scores, 0, 0, k, 1, {"scores.unpadded", "Slice"});
}
}  // namespace

ChunkStats run_chunks(const Function& f, int64_t M, ChunkBudget& budget, const ChunkRows& source,
                      const std::vector<SeedWriter>& seeds, const ChunkTaps& taps, const ChunkVisit& visit) {
  const bool backward = !seeds.empty();
  Tape tape;
  LayerTap layer_tap(taps.layers, backward && taps.layer_gradients);
  BiasTap bias_tap;
  if (!taps.layers.empty()) tape.observe(&layer_tap);
  if (taps.bias_maps && backward) tape.observe(&bias_tap);
  for (Observer* o : taps.observers) tape.observe(o);
  ChunkStats stats;
  ChunkObserver* observer = t_observer;
  if (observer) observer->pass_begins(M, int64_t(seeds.size()));
  Chunk c;
  c.fixed_batch = f.model() ? f.model()->fixed_batch() : 0;
  c.tape = &tape;
  c.layers = &layer_tap;
  c.biases = &bias_tap;
  // A model fixed to a batch of B runs chunks of exactly B rows: at most B of the pass's (and at
  // most --batch; the memory budget cannot split B), padded to B. No probe: its one row would be
  // padded to B anyway.
  const int64_t fixed = c.fixed_batch;
  if (fixed > 0) budget.ran(std::numeric_limits<int64_t>::max(), 0);  // next_rows() = --batch
  for (int64_t begin = 0; begin < M;) {
    const int64_t k = std::min({budget.next_rows(), fixed > 0 ? fixed : M, M - begin});
    tape.reset();
    layer_tap.clear();
    bias_tap.clear();
    const Tensor X = source(begin, k);
    GL_CHECK(X.rank() >= 1 && X.dim(0) == k, "chunk of ", k, " rows given as a tensor of shape ", X.shape().str());
    c.begin = begin;
    c.rows = k;
    c.run_rows = std::max(k, fixed);
    c.input = tape.input(X, backward && taps.input_gradient, "input");
    if (c.run_rows > k) {
      c.scores = padded_scores(f, tape, c.input, X, c.run_rows, taps.layers);
    } else if (fixed == 0 && begin == 0 && k == 1 && M > 1) {
      // The probe. A function that cannot run one row (one wrapping a model whose batch is baked
      // in, which fixed_batch() cannot see through) runs unprobed chunks of --batch rows instead.
      try {
        c.scores = f.scores_and(tape, c.input, taps.layers).front();
      } catch (const Error&) {
        budget.ran(std::numeric_limits<int64_t>::max(), 0);  // gives up the probe: next_rows() = batch
        if (budget.next_rows() == 1) throw;
        continue;
      }
    } else {
      c.scores = f.scores_and(tape, c.input, taps.layers).front();
    }
    GL_CHECK(c.scores.shape().rank() == 2 && c.scores.shape()[0] == k,
             "the function's scores must be [rows, classes], got ", c.scores.shape().str());
    const int64_t C = c.classes();
    if (!backward) visit(c, -1);
    for (size_t s = 0; s < seeds.size(); ++s) {
      Tensor seed(c.scores.shape());
      for (int64_t r = 0; r < k; ++r) seeds[s](begin + r, c.score_row(r), C, seed.data() + r * C);
      bias_tap.clear();
      tape.backward(c.scores, seed, taps.rules);
      visit(c, int(s));
    }
    // The arena's peak is a running maximum over the pass: the largest chunk's tape.
    stats.tape_bytes = int64_t(tape.arena().peak_floats() * sizeof(float));
    budget.ran(k, stats.tape_bytes);
    stats.chunk_rows = std::max(stats.chunk_rows, c.run_rows);
    ++stats.chunks;
    begin += k;
    if (observer) observer->chunk_ran(k, stats.tape_bytes);
  }
  stats.rows = M;
  return stats;
}

}  // namespace gradlens
