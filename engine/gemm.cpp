#include "engine/gemm.h"

#include <Eigen/Core>

#include "engine/error.h"
#include "engine/parallel.h"

namespace gradlens {

namespace {
using Mat = Eigen::Matrix<float, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;
using CMap = Eigen::Map<const Mat, Eigen::Unaligned, Eigen::OuterStride<>>;
using MMap = Eigen::Map<Mat, Eigen::Unaligned, Eigen::OuterStride<>>;
// Rows or columns of C per task: 256, halved (down to 32) until there are 8 tasks, so that a
// 256×196 product (resnet18's layer3 at batch 1) is not one task on one core. From the shape
// alone, so the split, and with it every sum's order, is the same for any thread count.
constexpr int64_t kBlock = 256, kMinBlock = 32, kMinTasks = 8;
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
  const bool split_rows = M >= N;
  const int64_t extent = split_rows ? M : N;
  int64_t block = kBlock;
  while (block > kMinBlock && (extent + block - 1) / block < kMinTasks) block /= 2;
  const int64_t blocks = (extent + block - 1) / block;
  const int64_t min_parallel = M * N * K < kMinParallelMacs ? blocks + 1 : 2;
  auto run = [&](const auto& opA, const auto& opB) {
    parallel_for(blocks, [&](int64_t blk) {
      const int64_t s = blk * block, n = std::min(block, extent - s);
      if (split_rows)
        product(C.middleRows(s, n), opA.middleRows(s, n), opB, accumulate);
      else
        product(C.middleCols(s, n), opA, opB.middleCols(s, n), accumulate);
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
