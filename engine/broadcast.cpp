#include "engine/broadcast.h"

#include <cstring>

#include "engine/error.h"

namespace gradlens {

BroadcastPlan::BroadcastPlan(const Shape& a, const Shape& b, const Shape& out) {
  const int R = out.rank();
  GL_CHECK(a.rank() <= R && b.rank() <= R, "broadcast of ", a.str(), " and ", b.str(), " to ",
           out.str());
  // Padded extents and element strides (0 where broadcast).
  std::vector<int64_t> dims(R), sa(R), sb(R);
  int64_t stride_a = 1, stride_b = 1;
  for (int i = R - 1; i >= 0; --i) {
    int ia = a.rank() - R + i, ib = b.rank() - R + i;
    int64_t da = ia >= 0 ? a[ia] : 1, db = ib >= 0 ? b[ib] : 1;
    GL_CHECK((da == out[i] || da == 1) && (db == out[i] || db == 1), "shapes ", a.str(), " and ",
             b.str(), " do not broadcast to ", out.str());
    dims[i] = out[i];
    sa[i] = (da == 1 && out[i] != 1) ? 0 : stride_a;
    sb[i] = (db == 1 && out[i] != 1) ? 0 : stride_b;
    stride_a *= da;
    stride_b *= db;
  }
  // Drop unit axes.
  std::vector<int64_t> md, ma, mb;
  for (int i = 0; i < R; ++i) {
    if (dims[i] == 1) continue;
    md.push_back(dims[i]);
    ma.push_back(sa[i]);
    mb.push_back(sb[i]);
  }
  // Collapse from the inside: axis k-1 folds into axis k when stride(k-1) == stride(k)·dim(k)
  // for both operands.
  std::vector<int64_t> cd, ca, cb;  // built inner-first
  for (int i = int(md.size()) - 1; i >= 0; --i) {
    if (!cd.empty() && ma[i] == ca.back() * cd.back() && mb[i] == cb.back() * cd.back()) {
      cd.back() *= md[i];
      continue;
    }
    cd.push_back(md[i]);
    ca.push_back(ma[i]);
    cb.push_back(mb[i]);
  }
  if (cd.empty()) {
    inner_ = 1;
    inner_stride_a_ = inner_stride_b_ = 0;
    runs_ = out.numel() == 0 ? 0 : 1;
    return;
  }
  inner_ = cd[0];
  inner_stride_a_ = ca[0];
  inner_stride_b_ = cb[0];
  for (size_t k = cd.size(); k-- > 1;) {  // outermost first
    outer_dims_.push_back(cd[k]);
    outer_stride_a_.push_back(ca[k]);
    outer_stride_b_.push_back(cb[k]);
  }
  runs_ = 1;
  for (int64_t d : outer_dims_) runs_ *= d;
  if (out.numel() == 0) runs_ = 0;
}

void BroadcastPlan::offsets(int64_t r, int64_t& ia, int64_t& ib) const {
  ia = 0;
  ib = 0;
  for (size_t k = outer_dims_.size(); k-- > 0;) {
    int64_t idx = r % outer_dims_[k];
    r /= outer_dims_[k];
    ia += idx * outer_stride_a_[k];
    ib += idx * outer_stride_b_[k];
  }
}

void reduce_to_shape_into(const Tensor& g, const Shape& target, float* out) {
  std::memset(out, 0, sizeof(float) * size_t(target.numel()));
  if (target.numel() == g.numel()) {
    std::memcpy(out, g.data(), sizeof(float) * size_t(g.numel()));
    return;
  }
  BroadcastPlan plan(g.shape(), target, g.shape());
  const float* gp = g.data();
  plan.for_each_sequential([&](int64_t o, int64_t, int64_t it, int64_t n, int64_t, int64_t st) {
    if (st == 0) {
      double s = 0;
      for (int64_t j = 0; j < n; ++j) s += gp[o + j];
      out[it] += float(s);
    } else {
      for (int64_t j = 0; j < n; ++j) out[it + j * st] += gp[o + j];
    }
  });
}

Tensor reduce_to_shape(const Tensor& g, const Shape& target) {
  Tensor out(target);
  reduce_to_shape_into(g, target, out.data());
  return out;
}

}  // namespace gradlens
