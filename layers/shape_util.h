// Helpers shared by the data-movement layers (Gather, Slice, Pad, Tile, Expand, Where...) and the
// integer shape arithmetic that exporters emit (Shape → Gather → Unsqueeze → Concat → Reshape).
//
// Data movement as an index map: every output element is a copy of one input element (or a fill
// value), so y[i] = x[map[i]] and the backward is the scatter-add ∂x[map[i]] += g[i]. The same map
// runs on int64 values when a node is folded at load time, so folded shape computations are
// exact; on the tape the map lives in the arena for the backward.
//
// Integers at run time are floats on the tape: index-like values are read back with a saturating
// conversion (never an out-of-range float → int64 cast, which is undefined behaviour).
#pragma once
#include <array>
#include <cmath>
#include <cstdint>
#include <limits>
#include <vector>

#include "engine/hessian.h"
#include "engine/memory.h"
#include "engine/parallel.h"
#include "engine/tape.h"
#include "layers/layer.h"

namespace gradlens {

// float → int64 rounding to nearest, saturating at the int64 range; NaN → 0.
inline int64_t saturating_int64(double v) {
  if (std::isnan(v)) return 0;
  if (v >= 9.2233720368547758e18) return std::numeric_limits<int64_t>::max();
  if (v <= -9.2233720368547758e18) return std::numeric_limits<int64_t>::min();
  return int64_t(std::nearbyint(v));
}

// Values of a runtime tensor as integers (rounded, saturating).
inline std::vector<int64_t> ints_of(const Tensor& t) {
  std::vector<int64_t> out(size_t(t.numel()));
  for (int64_t i = 0; i < t.numel(); ++i) out[size_t(i)] = saturating_int64(t[i]);
  return out;
}

// Exact values of a constant (its int64 values when integer-typed).
inline std::vector<int64_t> ints_of(const Initializer& c) { return c.as_ints(); }

// An integer result of a fold: exact int64 values plus their float image for the tape.
inline Initializer int_initializer(const Shape& shape, std::vector<int64_t> values) {
  return Initializer::from_ints(shape, std::move(values));
}

inline std::array<int64_t, kMaxRank> strides_of(const Shape& s) {
  std::array<int64_t, kMaxRank> st{};
  int64_t stride = 1;
  for (int i = s.rank() - 1; i >= 0; --i) {
    st[size_t(i)] = stride;
    stride *= s[i];
  }
  return st;
}

// f(flat, idx) for every multi-index idx of shape s in row-major order (flat = 0, 1, ...).
template <class F>
void for_each_index(const Shape& s, F&& f) {
  const int64_t n = s.numel();
  std::array<int64_t, kMaxRank> idx{};
  const int r = s.rank();
  for (int64_t flat = 0; flat < n; ++flat) {
    f(flat, idx.data());
    for (int a = r - 1; a >= 0; --a) {
      if (++idx[size_t(a)] < s[a]) break;
      idx[size_t(a)] = 0;
    }
  }
}

// Offset in an operand of shape `s` (right-aligned against an output of rank `out_rank`, numpy
// broadcasting: extents of 1 repeat) of the output element at multi-index idx.
inline int64_t broadcast_offset(const int64_t* idx, int out_rank, const Shape& s,
                                const std::array<int64_t, kMaxRank>& strides) {
  int64_t off = 0;
  const int shift = out_rank - s.rank();
  for (int a = 0; a < s.rank(); ++a)
    if (s[a] != 1) off += idx[a + shift] * strides[size_t(a)];
  return off;
}

// The index map for output shape `out`: src(idx) is the source offset or −1 for `fill`.
template <class F>
std::vector<int64_t> build_map(const Shape& out, F&& src) {
  check_memory(out.numel() * int64_t(sizeof(int64_t)), ("index map for " + out.str()).c_str());
  std::vector<int64_t> map(size_t(out.numel()));
  for_each_index(out, [&](int64_t flat, const int64_t* idx) { map[size_t(flat)] = src(idx); });
  return map;
}

template <class T>
std::vector<T> apply_map(const std::vector<T>& x, const std::vector<int64_t>& map, T fill) {
  check_memory(int64_t(map.size() * sizeof(T)), "folded constant");
  std::vector<T> y(map.size());
  for (size_t i = 0; i < map.size(); ++i) y[i] = map[i] >= 0 ? x[size_t(map[i])] : fill;
  return y;
}

// Folds a data-movement op: the exact int64 path when x is integer-typed, floats otherwise.
inline Initializer fold_map(const Initializer& x, const Shape& out, const std::vector<int64_t>& map,
                            float fill = 0.f, int64_t int_fill = 0) {
  if (x.is_integer) return int_initializer(out, apply_map(x.ints, map, int_fill));
  std::vector<float> xv(x.value.data(), x.value.data() + x.value.numel());
  std::vector<float> y = apply_map(xv, map, fill);
  Tensor t(out);
  std::copy(y.begin(), y.end(), t.data());
  return Initializer(t);
}

// Records y[i] = x[map[i]] (fill where map[i] < 0). Input 0 of the node is x, which receives the
// scatter-add ∂x[map[i]] += g[i]; `extra` inputs (runtime indices, pads...) get no gradient. The
// map is copied into the tape's arena for the backward.
inline Var record_map(Var x, const Shape& out, const std::vector<int64_t>& map, float fill,
                      const NodeInfo& info, std::initializer_list<Var> extra = {}) {
  Tape& tape = *x.tape;
  const int64_t n = out.numel();
  Tensor y = tape.alloc(out);
  // int64 storage in the arena (untyped aligned memory): two floats per index.
  int64_t* m = reinterpret_cast<int64_t*>(tape.alloc(Shape{2 * n}).data());
  std::copy(map.begin(), map.end(), m);
  const float* px = x.value().data();
  float* py = y.data();
  parallel_for(n, [&](int64_t i) { py[i] = m[i] >= 0 ? px[m[i]] : fill; }, 4096);
  std::vector<Var> inputs{x};
  for (const Var& v : extra)
    if (v.valid()) inputs.push_back(v);
  return tape.record(info, inputs.data(), int(inputs.size()), y, [m, n](BackwardContext& ctx) {
    if (!ctx.needs_grad(0)) return;
    const float* g = ctx.grad_output().data();
    float* dx = ctx.grad_buffer(0).data();
    for (int64_t i = 0; i < n; ++i)  // sequential: repeated sources add in a fixed order
      if (m[i] >= 0) dx[m[i]] += g[i];
  }, [m, n](TangentContext& ctx) {  // ẏ[i] = ẋ[map[i]] (0 where filled): linear
    const float* pt = ctx.input_tangent_or_zero(0).data();
    Tensor yt = ctx.alloc(ctx.output().shape());
    float* py = yt.data();
    parallel_for(n, [&](int64_t i) { py[i] = m[i] >= 0 ? pt[m[i]] : 0.f; }, 4096);
    ctx.set_tangent(yt);
  });
}

// A non-differentiable output (shapes, comparisons, integer casts, Range): copied into the arena
// and recorded with no inputs, so no gradient flows through it.
inline Var record_values(Tape& tape, const Tensor& values, const NodeInfo& info) {
  Tensor y = tape.alloc(values.shape());
  y.copy_from(values);
  return tape.record(info, nullptr, 0, y, BackwardFn());
}

// Normalises axis a (negative counts from the end) for rank r, or fails naming the layer.
inline int normalize_axis(const Layer& layer, int64_t a, int r, const char* what = "axis") {
  const int64_t n = a < 0 ? a + r : a;
  if (n < 0 || n >= r) layer.error(what, " ", a, " is out of range for rank ", r);
  return int(n);
}

// An integer-valued input that may be constant (read exactly at load time) or computed at run
// time (read from the tape when the node runs).
struct IntInput {
  bool present = false;   // the input is given
  bool constant = false;  // known at load time: `values` holds it
  std::vector<int64_t> values;
  Shape shape;

  void load(const NodeDef& node, const std::vector<const Initializer*>& c, size_t k) {
    present = k < node.inputs.size() && !node.inputs[k].empty();
    if (!present || !c[k]) return;
    constant = true;
    values = ints_of(*c[k]);
    shape = c[k]->value.shape();
  }
  // The values for this run: the constant, or input k's runtime value.
  std::vector<int64_t> get(const std::vector<Var>& in, size_t k, Shape* shape_out = nullptr) const {
    if (constant) {
      if (shape_out) *shape_out = shape;
      return values;
    }
    const Tensor& t = in[k].value();
    if (shape_out) *shape_out = t.shape();
    return ints_of(t);
  }
};

}  // namespace gradlens

namespace gradlens {

// A tensor attribute as a constant: the ONNX reader keeps an integer tensor's exact values in the
// attribute's `ints` (one per element), which makes the constant integer-typed.
inline Initializer tensor_attribute(const NodeDef& node, const std::string& name, const Tensor& t) {
  auto it = node.attributes.find(name);
  if (it != node.attributes.end() && t.numel() > 0 && int64_t(it->second.ints.size()) == t.numel())
    return Initializer::from_ints(t.shape(), it->second.ints);
  return Initializer(t.clone());
}

}  // namespace gradlens
