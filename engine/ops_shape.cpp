// Shape operations: reshape and identity share memory with their input (values are immutable
// once recorded); slice, concat and transpose copy. Their backward rules route g back unchanged;
// being linear, their tangents are the same map applied to ẋ, with no curvature.
#include <array>
#include <cstring>

#include "engine/error.h"
#include "engine/hessian.h"
#include "engine/ops.h"
#include "engine/parallel.h"

namespace gradlens {

Var reshape(Var x, const Shape& shape, const NodeInfo& info) {
  const Tensor& v = x.value();
  GL_CHECK(shape.numel() == v.numel(), "node '", info.name, "' (", info.op, "): cannot reshape ",
           v.shape().str(), " to ", shape.str());
  return x.tape->record(info, {x}, v.reshaped(shape), [](BackwardContext& ctx) {
    ctx.accumulate(0, ctx.grad_output().reshaped(ctx.input(0).shape()));
  }, [](TangentContext& ctx) {
    ctx.set_tangent(ctx.input_tangent(0).reshaped(ctx.output().shape()));
  });
}

Var identity(Var x, const NodeInfo& info) { return reshape(x, x.shape(), info); }

namespace {
// Views a tensor as [outer, axis, inner] around `axis`.
struct Split3 {
  int64_t outer = 1, mid = 1, inner = 1;
  Split3(const Shape& s, int axis) {
    for (int i = 0; i < axis; ++i) outer *= s[i];
    mid = s[axis];
    for (int i = axis + 1; i < s.rank(); ++i) inner *= s[i];
  }
};

// y = elements start, start + step, ... (count of them) of x along axis ax.
void slice_copy(const Tensor& x, int ax, int64_t start, int64_t step, int64_t count, Tensor& y) {
  Split3 s(x.shape(), ax);
  const float* px = x.data();
  float* py = y.data();
  parallel_for(s.outer, [&](int64_t o) {
    for (int64_t k = 0; k < count; ++k)
      std::memcpy(py + (o * count + k) * s.inner, px + (o * s.mid + start + k * step) * s.inner,
                  sizeof(float) * size_t(s.inner));
  }, 16);
}
}  // namespace

Var slice(Var x, int axis, int64_t start, int64_t end, int64_t step, const NodeInfo& info) {
  const Tensor& v = x.value();
  GL_CHECK(v.rank() > 0, "node '", info.name, "' (", info.op, "): cannot slice a scalar");
  GL_CHECK(step > 0, "node '", info.name, "' (", info.op, "): step must be positive, got ", step);
  int ax;
  try {
    ax = v.shape().axis(axis);
  } catch (const Error& e) {
    fail("node '", info.name, "' (", info.op, "): ", e.what());
  }
  const int64_t d = v.dim(ax);
  start = std::clamp<int64_t>(start < 0 ? start + d : start, 0, d);
  end = std::clamp<int64_t>(end < 0 ? end + d : end, 0, d);
  const int64_t count = end > start ? (end - start + step - 1) / step : 0;
  Shape out_shape = v.shape();
  out_shape[ax] = count;
  Tensor y = x.tape->alloc(out_shape);
  slice_copy(v, ax, start, step, count, y);
  return x.tape->record(info, {x}, y, [ax, start, step, count](BackwardContext& ctx) {
    const Tensor& g = ctx.grad_output();
    Tensor& dx = ctx.grad_buffer(0);
    Split3 s(dx.shape(), ax);
    const float* pg = g.data();
    float* pd = dx.data();
    parallel_for(s.outer, [&](int64_t o) {
      for (int64_t k = 0; k < count; ++k) {
        float* dst = pd + (o * s.mid + start + k * step) * s.inner;
        const float* src = pg + (o * count + k) * s.inner;
        for (int64_t i = 0; i < s.inner; ++i) dst[i] += src[i];
      }
    }, 16);
  }, [ax, start, step, count](TangentContext& ctx) {
    Tensor yt = ctx.alloc(ctx.output().shape());
    slice_copy(ctx.input_tangent(0), ax, start, step, count, yt);
    ctx.set_tangent(yt);
  });
}

Var column(Var x, int64_t i) { return slice(x, -1, i, i + 1); }

namespace {
// Copies v into y at `offset` along axis ax (y's other axes equal v's).
void concat_part(const Tensor& v, int ax, int64_t offset, Tensor& y) {
  Split3 so(y.shape(), ax), si(v.shape(), ax);
  const int64_t row = si.mid * si.inner;
  parallel_for(si.outer, [&](int64_t o) {
    std::memcpy(y.data() + o * so.mid * so.inner + offset * so.inner, v.data() + o * row,
                sizeof(float) * size_t(row));
  }, 16);
}
}  // namespace

Var concat(const std::vector<Var>& xs, int axis, const NodeInfo& info) {
  GL_CHECK(!xs.empty(), "node '", info.name, "' (", info.op, "): no inputs");
  const Shape& first = xs[0].shape();
  GL_CHECK(first.rank() > 0, "node '", info.name, "' (", info.op, "): cannot concatenate scalars");
  int ax = axis < 0 ? axis + first.rank() : axis;
  GL_CHECK(ax >= 0 && ax < first.rank(), "node '", info.name, "' (", info.op, "): axis ", axis,
           " is out of range for rank ", first.rank());
  Shape out_shape = first;
  out_shape[ax] = 0;
  for (const Var& x : xs) {
    const Shape& s = x.shape();
    bool ok = s.rank() == first.rank();
    for (int i = 0; ok && i < s.rank(); ++i) ok = i == ax || s[i] == first[i];
    GL_CHECK(ok, "node '", info.name, "' (", info.op, "): input shapes ", first.str(), " and ",
             s.str(), " differ outside axis ", ax);
    out_shape[ax] += s[ax];
  }
  Tape& tape = *xs[0].tape;
  Tensor y = tape.alloc(out_shape);
  int64_t offset = 0;
  for (const Var& x : xs) {
    concat_part(x.value(), ax, offset, y);
    offset += x.value().dim(ax);
  }
  return tape.record(info, xs.data(), int(xs.size()), y, [ax](BackwardContext& ctx) {
    const Tensor& g = ctx.grad_output();
    Split3 so(g.shape(), ax);
    int64_t offset = 0;
    for (int k = 0; k < ctx.num_inputs(); ++k) {
      Split3 si(ctx.input(k).shape(), ax);
      if (ctx.needs_grad(k)) {
        Tensor dx = ctx.alloc(ctx.input(k).shape());
        const int64_t row = si.mid * si.inner;
        for (int64_t o = 0; o < si.outer; ++o)
          std::memcpy(dx.data() + o * row, g.data() + o * so.mid * so.inner + offset * so.inner,
                      sizeof(float) * size_t(row));
        ctx.accumulate_fresh(k, dx);
      }
      offset += si.mid;
    }
  }, [ax](TangentContext& ctx) {
    Tensor yt = ctx.alloc_zeroed(ctx.output().shape());
    int64_t offset = 0;
    for (int k = 0; k < ctx.num_inputs(); ++k) {
      if (ctx.has_tangent(k)) concat_part(ctx.input_tangent(k), ax, offset, yt);
      offset += ctx.input(k).dim(ax);
    }
    ctx.set_tangent(yt);
  });
}

namespace {
// out = in with axes permuted: output axis j is input axis perm[j].
void permute(const Tensor& in, const int* perm, Tensor& out) {
  const int r = in.rank();
  int64_t in_strides[kMaxRank];
  int64_t stride = 1;
  for (int i = r - 1; i >= 0; --i) {
    in_strides[i] = stride;
    stride *= in.dim(i);
  }
  // Output axis j walks input axis perm[j].
  const Shape& os = out.shape();
  const int64_t inner = r ? os[r - 1] : 1;
  const int64_t inner_stride = r ? in_strides[perm[size_t(r - 1)]] : 1;
  const int64_t rows = inner ? out.numel() / inner : 0;
  parallel_for(rows, [&](int64_t row) {
    int64_t rem = row, src = 0;
    for (int j = r - 2; j >= 0; --j) {
      int64_t idx = rem % os[j];
      rem /= os[j];
      src += idx * in_strides[perm[size_t(j)]];
    }
    float* dst = out.data() + row * inner;
    const float* s = in.data() + src;
    for (int64_t i = 0; i < inner; ++i) dst[i] = s[i * inner_stride];
  }, 64);
}
std::array<int, kMaxRank> forward_perm(const std::vector<int>& perm) {
  std::array<int, kMaxRank> a{};
  for (size_t j = 0; j < perm.size(); ++j) a[j] = perm[j];
  return a;
}
}  // namespace

Var transpose(Var x, const std::vector<int>& perm_in, const NodeInfo& info) {
  const Tensor& v = x.value();
  std::vector<int> perm = perm_in;
  if (perm.empty())
    for (int i = v.rank() - 1; i >= 0; --i) perm.push_back(i);
  GL_CHECK(int(perm.size()) == v.rank(), "node '", info.name, "' (", info.op, "): perm has ",
           perm.size(), " entries for rank ", v.rank());
  std::vector<bool> seen(perm.size(), false);
  Shape out_shape;
  for (int p : perm) {
    GL_CHECK(p >= 0 && p < v.rank() && !seen[size_t(p)], "node '", info.name, "' (", info.op,
             "): perm is not a permutation of 0..", v.rank() - 1);
    seen[size_t(p)] = true;
    out_shape.push_back(v.dim(p));
  }
  Tensor y = x.tape->alloc(out_shape);
  permute(v, perm.data(), y);
  std::array<int, kMaxRank> inverse{};
  for (size_t j = 0; j < perm.size(); ++j) inverse[size_t(perm[j])] = int(j);
  return x.tape->record(info, {x}, y, [inverse](BackwardContext& ctx) {
    Tensor dx = ctx.alloc(ctx.input(0).shape());
    permute(ctx.grad_output(), inverse.data(), dx);
    ctx.accumulate_fresh(0, dx);
  }, [perm_array = forward_perm(perm)](TangentContext& ctx) {
    Tensor yt = ctx.alloc(ctx.output().shape());
    permute(ctx.input_tangent(0), perm_array.data(), yt);
    ctx.set_tangent(yt);
  });
}

}  // namespace gradlens
