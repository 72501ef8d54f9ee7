// Numpy broadcasting of two operands to an output, walked as runs along the innermost axis.
// Adjacent axes that broadcast alike are merged first, so a bias add [N,C,H,W] + [C,1,1]
// becomes N·C runs of H·W with the bias stride 0.
#pragma once
#include <cstdint>
#include <vector>

#include "engine/parallel.h"
#include "engine/shape.h"
#include "engine/tensor.h"

namespace gradlens {

class BroadcastPlan {
 public:
  BroadcastPlan(const Shape& a, const Shape& b, const Shape& out);
  int64_t runs() const { return runs_; }
  int64_t run_length() const { return inner_; }
  // Offsets of run r in a and b; the output offset is r * run_length().
  void offsets(int64_t r, int64_t& ia, int64_t& ib) const;
  // f(out_offset, a_offset, b_offset, length, a_stride, b_stride) for every run, in parallel
  // (each run writes its own output slice).
  template <class F>
  void for_each(F&& f) const {
    parallel_for(runs_, [&](int64_t r) {
      int64_t ia, ib;
      offsets(r, ia, ib);
      f(r * inner_, ia, ib, inner_, inner_stride_a_, inner_stride_b_);
    }, 64);
  }
  // Same walk, sequential (for reductions into a broadcast operand).
  template <class F>
  void for_each_sequential(F&& f) const {
    for (int64_t r = 0; r < runs_; ++r) {
      int64_t ia, ib;
      offsets(r, ia, ib);
      f(r * inner_, ia, ib, inner_, inner_stride_a_, inner_stride_b_);
    }
  }

 private:
  std::vector<int64_t> outer_dims_, outer_stride_a_, outer_stride_b_;
  int64_t inner_ = 1, inner_stride_a_ = 1, inner_stride_b_ = 1, runs_ = 1;
};

// Sums g (shaped like a broadcast output) down to `target`, the shape of the operand that was
// broadcast. Sequential and in a fixed order: deterministic.
Tensor reduce_to_shape(const Tensor& g, const Shape& target);
// Same, into caller-provided memory of target.numel() floats (overwritten).
void reduce_to_shape_into(const Tensor& g, const Shape& target, float* out);

}  // namespace gradlens
