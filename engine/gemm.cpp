#include "engine/gemm.h"

#include <Eigen/Core>

#include "engine/error.h"
#include "engine/parallel.h"

namespace gradlens {

namespace {
using Mat = Eigen::Matrix<float, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;
using CMap = Eigen::Map<const Mat, Eigen::Unaligned, Eigen::OuterStride<>>;
using MMap = Eigen::Map<Mat, Eigen::Unaligned, Eigen::OuterStride<>>;
constexpr int64_t kBlock = 256;  // rows or columns of C per task

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
  const int64_t blocks = (extent + kBlock - 1) / kBlock;
  auto run = [&](const auto& opA, const auto& opB) {
    parallel_for(blocks, [&](int64_t blk) {
      const int64_t s = blk * kBlock, n = std::min(kBlock, extent - s);
      if (split_rows)
        product(C.middleRows(s, n), opA.middleRows(s, n), opB, accumulate);
      else
        product(C.middleCols(s, n), opA, opB.middleCols(s, n), accumulate);
    });
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
