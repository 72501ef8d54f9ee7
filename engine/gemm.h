// C (+)= op(A) · op(B) for row-major float matrices, op = identity or transpose.
// Work is split into tiles of C chosen from the shapes alone (engine/gemm.cpp) and each tile
// runs single-threaded Eigen, so the result is bitwise identical for any number of
// threads (Eigen's own threaded GEMM picks its blocking from the thread count).
#pragma once
#include <cstdint>

namespace gradlens {

struct MatrixRef {
  const float* data;
  int64_t rows, cols;  // as stored
  int64_t ld;          // distance between rows
  bool transpose = false;
};

// C is M×N with row distance ldc; M, N, K follow from op(A) (M×K) and op(B) (K×N).
void gemm(const MatrixRef& a, const MatrixRef& b, float* c, int64_t ldc, bool accumulate);

// Convenience for contiguous operands: A is M×K (or K×M when ta), B is K×N (or N×K when tb).
void gemm(int64_t M, int64_t N, int64_t K, const float* a, bool ta, const float* b, bool tb,
          float* c, bool accumulate);

}  // namespace gradlens
