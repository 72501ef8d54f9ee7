// The one chunked pass every method is built on. M rows run through the function in chunks whose
// sizes a ChunkBudget sets; a chunk is ONE forward and then one backward per seed writer (none: a
// forward-only pass), and after the forward (or after each backward) a visitor reads the chunk:
// its scores, ∂(seed · scores)/∂input, the tapped layers, the bias maps, or the tape itself
// (Integrated Hessians runs its Hessian-vector products there). Rows are visited in order, so any
// sum a method takes over them runs in the same order whatever the chunk size.
#pragma once
#include <functional>
#include <string>
#include <vector>

#include "attribution/function.h"
#include "engine/taps.h"

namespace gradlens {

// The run's memory budget (--max-memory BYTES, default 2 GiB): the bytes of tape (activations and
// gradients) one chunk may hold. Process-wide, like the memory limit of engine/memory.h, so every
// chunked pass of every method, metric and axiom follows it without being handed it.
constexpr int64_t kDefaultMaxMemory = int64_t(2) << 30;
void set_max_memory(int64_t bytes);  // ≥ 1
int64_t max_memory();

// The rows of each chunk of a method's passes. The first two chunks are the probes, of one row and
// of two; a chunk's tape (the most bytes the arena handed out at once) is fixed + rows · row:
// the fixed part does not grow with the rows (every convolution's im2col scratch, allocated once
// per chunk and reused for each row), so
//   row = tape(2 rows) − tape(1 row),   fixed = tape(1 row) − row,
// and every later chunk of every later pass run with this budget has ⌊(max_bytes − fixed) / row⌋
// rows, at least 1, at most `batch`. A single row whose tape exceeds the budget, or whose double
// would (then the two-row probe is skipped: ⌊max_bytes / tape(1 row)⌋ rows), keeps chunks small;
// over the budget every chunk is one row, and the thread's ChunkObserver is told once.
class ChunkBudget {
 public:
  explicit ChunkBudget(int64_t batch, int64_t max_bytes = max_memory());
  int64_t next_rows() const { return rows_ > 0 ? rows_ : one_row_ > 0 ? 2 : 1; }  // rows for the next chunk
  void ran(int64_t rows, int64_t tape_bytes);                   // after each chunk
  int64_t chunk_rows() const { return next_rows(); }
  int64_t max_bytes() const { return max_bytes_; }

 private:
  int64_t batch_, max_bytes_;
  int64_t rows_ = 0;     // 0 until the probes have run
  int64_t one_row_ = 0;  // the one-row probe's tape, while the two-row probe is due
};

struct ChunkStats {
  int64_t rows = 0;        // rows run
  int64_t chunk_rows = 0;  // the largest chunk
  int64_t chunks = 0;
  int64_t tape_bytes = 0;  // the most tape bytes in use at once (the largest chunk's)
  void add(const ChunkStats& other);  // another pass of the same method
};

// What the chunked passes running on this thread report, as they run (the CLI's notes, its
// over-budget warning and its progress bar). Calls are cheap no-ops while no observer is set.
class ChunkObserver {
 public:
  virtual ~ChunkObserver() = default;
  // A pass of that many rows starts, each row one forward and `backwards` backwards (0: forward only).
  virtual void pass_begins(int64_t /*rows*/, int64_t /*backwards*/) {}
  // A chunk of `rows` ran; `tape_bytes` is the pass's tape at its peak so far.
  virtual void chunk_ran(int64_t /*rows*/, int64_t /*tape_bytes*/) {}
  // The probe's one row needs `row_bytes` > `max_bytes`: every chunk of the budget is one row.
  virtual void over_budget(int64_t /*row_bytes*/, int64_t /*max_bytes*/) {}
};
ChunkObserver* chunk_observer();  // this thread's, or nullptr
// Sets this thread's observer while alive (not owned; nested scopes restore the outer one).
class ScopedChunkObserver {
 public:
  explicit ScopedChunkObserver(ChunkObserver* observer);
  ~ScopedChunkObserver();
  ScopedChunkObserver(const ScopedChunkObserver&) = delete;
  ScopedChunkObserver& operator=(const ScopedChunkObserver&) = delete;

 private:
  ChunkObserver* previous_;
};

struct ChunkTaps {
  GradRules rules;
  bool input_gradient = true;
  std::vector<std::string> layers;
  bool layer_gradients = true;
  bool bias_maps = false;
  std::vector<Observer*> observers;  // further observers (Ablation-CAM's intervention)
};

// A chunk as its visitor sees it: rows [begin, begin + rows) of the pass.
// On a model fixed to a batch of B (Model::fixed_batch) every chunk runs exactly B rows: a last,
// shorter chunk is padded with copies of its last row, which run but are not the chunk's. `input`
// and `scores` are then its own rows (the padding is concatenated to `input` on the tape and
// sliced off `scores`, so seeds, gradients and Hessian-vector products never see it); tapped
// layers and bias maps hold all `run_rows` rows, and own_rows() takes the chunk's.
struct Chunk {
  int64_t begin = 0, rows = 0;
  int64_t run_rows = 0;     // rows the function ran: `rows`, or the fixed batch B with padding
  int64_t fixed_batch = 0;  // the model's fixed batch B, 0 when it runs any
  Tape* tape = nullptr;
  Var input, scores;  // input [rows, ...], scores [rows, C]
  const LayerTap* layers = nullptr;
  const BiasTap* biases = nullptr;
  int64_t classes() const { return scores.shape()[1]; }
  const float* score_row(int64_t r) const { return scores.value().data() + r * classes(); }
  // ∂(seed · scores)/∂input after the current backward, [rows, ...] (a view; zeros when none).
  Tensor input_gradient() const;
  // The chunk's rows of a tapped tensor whose leading axis holds the run_rows rows (a view); the
  // tensor itself when no padding ran. On a model fixed to B > 1 rows, an Error when its leading
  // axis is not the batch (a transformer's [T·B, d]: its B examples cannot be told apart).
  Tensor own_rows(const Tensor& tapped) const;
};

// Rows [begin, begin + rows) of the pass's inputs as a tensor [rows, ...] (a view is fine).
using ChunkRows = std::function<Tensor(int64_t begin, int64_t rows)>;
// seed(m, scores_row, C, seed_row): the seed of pass row m (seed_row is zeroed beforehand).
using SeedWriter = std::function<void(int64_t m, const float* scores, int64_t C, float* seed)>;
// visit(chunk, s): after the backward of seeds[s], or with s = -1 after the forward of a pass
// without seeds.
using ChunkVisit = std::function<void(const Chunk& chunk, int s)>;

ChunkStats run_chunks(const Function& f, int64_t M, ChunkBudget& budget, const ChunkRows& rows,
                      const std::vector<SeedWriter>& seeds, const ChunkTaps& taps, const ChunkVisit& visit);

// The seed of the explained score y_target (− y_contrast): pass row m belongs to example
// m / rows_per_example. Classes out of range are an Error. Keeps references to both vectors.
SeedWriter class_seed(const std::vector<int64_t>& targets, const std::vector<int64_t>& contrast,
                      int64_t rows_per_example = 1);
// y_target (− y_contrast) of example n from a row of C scores; classes out of range are an Error.
double class_score(const float* scores, int64_t C, const std::vector<int64_t>& targets,
                   const std::vector<int64_t>& contrast, int64_t n);

// Rows [begin, end) of X as a view (no copy).
Tensor rows(const Tensor& X, int64_t begin, int64_t end);

// Rows [offset, offset + rows) of `all` (M rows in total, allocated on first use) from `chunk`, whose
// leading axis is the chunk's batch of `rows`. A captured tensor whose leading axis is not the batch
// (a transformer's [T, N, D] or [T·N, D] after a Reshape) cannot be split per example: with one row
// per chunk it is that example's whole ([1, numel]); with more it is an Error, never a copy past `all`.
void place_rows(Tensor& all, const Tensor& chunk, int64_t M, int64_t offset, int64_t rows);

}  // namespace gradlens
