// What the path attribution methods (integrated gradients and its relatives) share:
//   A(x) = ∫₀¹ ∇f(γ(t)) ⊙ γ'(t) dt  ≈  Σ_k w_k ∇f(γ(t_k)) ⊙ γ'(t_k)
// - quadrature rules (quadrature.h), baselines (baselines.h), the Gaussian blur (blur.h);
// - the straight line γ(t) = x′ + t (x − x′) and the IDGI segment rule;
// - path streaming: the N·K path points run as rows of the chunked pass (chunked_pass.h) and each
//   row's gradient is handed to the method in row order, so memory is bounded by one chunk
//   whatever the number of steps, and the sum over steps runs in the same order for every chunk
//   size.
#pragma once
#include <functional>
#include <string>
#include <vector>

#include "attribution/baselines.h"
#include "attribution/blur.h"
#include "attribution/chunked_pass.h"
#include "attribution/method.h"
#include "attribution/quadrature.h"

namespace gradlens {

// Throws naming `method` unless the request has a function, an input [N, ...] with N > 0, one
// target per example, none or one contrast class per example and a batch of at least 1.
void check_path_request(const Request& request, const std::string& method);

// What the path methods share among their parameters.
std::vector<Parameter> quadrature_parameters(const std::string& default_rule, const std::string& default_steps);
// --steps (1 … 2²⁰) and --rule of a method declaring quadrature_parameters.
Quadrature parse_quadrature(const MethodInfo& m, const Options& options);

// Point t of example n on the straight line: row = b_n + t (x_n − b_n), x and b [N, ...].
void straight_line(const Tensor& x, const Tensor& b, int64_t n, double t, float* row);

// IDGI (Yang et al. 2023): segment change d split over the features by the squared gradient g
// there: acc += d g² / ‖g‖² (nothing when g = 0).
void add_idgi_segment(double* acc, const float* g, int64_t features, double change);
// Segment boundaries b_0 = 0, b_{k+1} = b_k + w_k, b_n = 1: the cell of each quadrature node.
std::vector<double> idgi_boundaries(const Quadrature& q);

// Runs `points` path points for each example of the request: fill(n, k, slot, row) writes point k
// of example n into `row` (slot = its row in the current chunk, < request.batch), and
// consume(n, k, slot, gradient, score) receives ∂score/∂point and the score, called in the order
// n = 0.., k = 0.. whatever the chunking. Chunk sizes come from the budget (ChunkBudget).
using PathFill = std::function<void(int64_t n, int64_t k, int64_t slot, float* row)>;
using PathConsume = std::function<void(int64_t n, int64_t k, int64_t slot, const float* gradient, double score)>;
ChunkStats run_path(const Request& request, int64_t points, ChunkBudget& budget, const PathFill& fill,
                    const PathConsume& consume);
// The same with a budget of its own (methods that make one path pass).
ChunkStats run_path(const Request& request, int64_t points, const PathFill& fill,
                    const PathConsume& consume);

// Σ_k w_k ∇f(x′ + t_k (x − x′)) per example, [N·per] in double: the integral of the straight path
// that integrated gradients multiplies by x − x′.
std::vector<double> straight_path_integral(const Request& request, const Tensor& baseline, const Quadrature& q,
                                           ChunkBudget& budget, ChunkStats& stats);

// Forward only: the score (y_target − y_contrast) of points generated the same way, in chunks
// of request.batch rows; returns [N][points].
std::vector<std::vector<double>> path_scores(const Request& request, int64_t points, const PathFill& fill);

// Score of each example of x (rows of the request's examples), forward only, one row at a time.
std::vector<double> example_scores(const Request& request, const Tensor& x);

// The run's statistics as notes: chunk_rows, chunks, tape_bytes.
void report_chunks(Explanation& e, const ChunkStats& stats);

// Fills the explanation's per-example numbers: f(x), f(x′) (baseline_score), Σ attribution and
// completeness_gap = Σ a − (f(x) − f(x′)), and the run's statistics as notes.
void report_completeness(Explanation& e, const std::vector<double>& input_scores,
                         const std::vector<double>& baseline_scores, const ChunkStats& stats);

}  // namespace gradlens
