// The linear pieces of a piecewise-linear network along the straight path γ(t) = x′ + t (x − x′),
// t in [0, 1], for exact integrated gradients (integrated-gradients --rule exact).
//
// A network of ReLU, LeakyReLU, PReLU, Abs, MaxPool and linear maps (Conv, Gemm, MatMul and Mul
// with one constant operand, BatchNormalization in inference, additions, pooling averages, shape
// ops) is continuous and piecewise linear in t: on each piece every unit stays on one linear branch
// (a ReLU's input keeps its sign, a max-pool window its arg-max), so ∇f(γ(t)) is constant there
// and ∫₀¹ ∇f(γ(t)) dt = Σ_k (b_{k+1} − b_k) ∇f(γ(m_k)) exactly, m_k inside piece k.
//
// The pieces are found by probing: a forward at γ(p) and the forward-mode tangent along γ'
// (engine/tangent.h) give each kink's input z and ż = dz/dt; its branch holds while z + s ż keeps
// its sign, so the piece around p is [p + s⁻, p + s⁺] with s⁻ (s⁺) the nearest crossing behind
// (ahead of) p over all kinks (MaxPool: a tap overtaking the window's arg-max). Starting from the
// gap [0, 1], each probe sits at the middle of a gap not yet covered and either covers a piece (and
// leaves the gaps on both sides of it) or, landing exactly on a kink, halves the gap; gaps shorter
// than kGapTolerance are shared by their neighbours, and adjacent pieces on the same branch pattern
// (a hash of every kink's output tangent) are one. The probes run as the rows of sweeps of a fixed
// 16 (not --batch), so the pieces do not depend on --batch or the thread count.
//
// Refused, with one line naming the node: ops that are not piecewise linear (sigmoid, tanh, GELU,
// softmax, exp, normalisations dividing by a statistic of the input, products of two quantities
// that vary along the path), ops that are piecewise linear but whose breakpoints are not located
// here (Clip, HardSigmoid, Max/Min, GlobalMaxPool, ReduceMax/Min), and non-differentiable ops that
// read the path (comparisons, rounding), whose jumps break continuity.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "attribution/function.h"

namespace gradlens {

// Gaps between pieces narrower than this (in t) are split between their neighbours: about the
// float32 rounding of the path points, which leaves slivers between pieces found from both sides.
constexpr double kGapTolerance = 1e-6;

struct LinearPieces {
  // Piece k covers [boundaries[k], boundaries[k + 1]]: 0 = b_0 < b_1 < … < b_S = 1.
  std::vector<double> boundaries;
  // A point inside each piece, where its gradient is taken: the middle of the piece as found
  // (before neighbouring slivers were shared out).
  std::vector<double> midpoints;
  int64_t probes = 0;  // forward + tangent sweeps run
  int64_t segments() const { return int64_t(midpoints.size()); }
};

// The pieces of t ↦ f(x′ + t (x − x′)) for one example: x and baseline are [1, ...]. The scores
// of every class are watched (the kinks do not depend on the class). More than max_segments pieces
// is an Error telling to raise `limit_flag`; `who` prefixes every error.
LinearPieces straight_path_pieces(const Function& f, const Tensor& x, const Tensor& baseline, int64_t max_segments,
                                  const std::string& who, const std::string& limit_flag);

}  // namespace gradlens
