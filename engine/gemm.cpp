#include "engine/gemm.h"

#include <Eigen/Core>

#include "engine/error.h"
#include "engine/parallel.h"

namespace gradlens {

namespace {
using Mat = Eigen::Matrix<float, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;
using CMap = Eigen::Map<const Mat, Eigen::Unaligned, Eigen::OuterStride<>>;
using MMap = Eigen::Map<Mat, Eigen::Unaligned, Eigen::OuterStride<>>;
// C is cut into tiles, one task each: columns in blocks of 256 (narrower blocks lose a third of
// Eigen's speed on this CPU: 39 against 69 GFLOP/s for 128 against 256 columns of 64×3136×576),
// rows whole unless that leaves fewer than 8 tasks, then halved (in multiples of 16) down to 64
// rows, which cost little (76 against 76 GFLOP/s for 64 against 256 rows of 256×196×2304). So
// resnet18's layer3 and layer4 at batch 1 (256×196, 512×49) are 4 and 8 tasks, not one or two.
// The tiles follow from the shape alone, so the split, and with it every sum's order, is the
// same for any thread count.
constexpr int64_t kColumnBlock = 256, kMinRowBlock = 64, kMinTasks = 8;
// Below this many multiply-adds the product runs on the calling thread (a fork costs more).
constexpr int64_t kMinParallelMacs = int64_t(1) << 18;

template <class Out, class X, class Y>
void product(Out&& c, const X& x, const Y& y, bool accumulate) {
  if (accumulate)
    c.noalias() += x * y;
  else
    c.noalias() = x * y;
}
}  // namespace

void gemm(const MatrixRef& a, const MatrixRef& b, float* c, int64_t ldc, bool accumulate) {
  const int64_t M = a.transpose ? a.cols : a.rows;
  const int64_t K = a.transpose ? a.rows : a.cols;
  const int64_t Kb = b.transpose ? b.cols : b.rows;
  const int64_t N = b.transpose ? b.rows : b.cols;
  GL_CHECK(K == Kb, "gemm: inner dimensions ", K, " and ", Kb, " differ");
  if (M == 0 || N == 0) return;
  CMap A(a.data, a.rows, a.cols, Eigen::OuterStride<>(a.ld));
  CMap B(b.data, b.rows, b.cols, Eigen::OuterStride<>(b.ld));
  MMap C(c, M, N, Eigen::OuterStride<>(ldc));
  if (K == 0) {
    if (!accumulate) C.setZero();
    return;
  }
  const int64_t col_block = std::min(N, kColumnBlock), col_blocks = (N + col_block - 1) / col_block;
  int64_t row_block = M;
  while (row_block > kMinRowBlock && (M + row_block - 1) / row_block * col_blocks < kMinTasks)
    row_block = std::max(kMinRowBlock, ((row_block + 1) / 2 + 15) / 16 * 16);
  const int64_t row_blocks = (M + row_block - 1) / row_block, tiles = row_blocks * col_blocks;
  const int64_t min_parallel = M * N * K < kMinParallelMacs ? tiles + 1 : 2;
  auto run = [&](const auto& opA, const auto& opB) {
    parallel_for(tiles, [&](int64_t t) {
      const int64_t r0 = t / col_blocks * row_block, c0 = t % col_blocks * col_block;
      const int64_t rows = std::min(row_block, M - r0), cols = std::min(col_block, N - c0);
      product(C.block(r0, c0, rows, cols), opA.middleRows(r0, rows), opB.middleCols(c0, cols),
              accumulate);
    }, min_parallel);
  };
  if (a.transpose) {
    if (b.transpose) run(A.transpose(), B.transpose()); else run(A.transpose(), B);
  } else {
    if (b.transpose) run(A, B.transpose()); else run(A, B);
  }
}

void gemm(int64_t M, int64_t N, int64_t K, const float* a, bool ta, const float* b, bool tb,
          float* c, bool accumulate) {
  MatrixRef A{a, ta ? K : M, ta ? M : K, ta ? M : K, ta};
  MatrixRef B{b, tb ? N : K, tb ? K : N, tb ? K : N, tb};
  gemm(A, B, c, N, accumulate);
}

}  // namespace gradlens
