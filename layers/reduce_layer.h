// Base for the reductions ReduceSum, ReduceMean, ReduceMax, ReduceMin, ReduceL2,
// ReduceSumSquare (ONNX operators §ReduceSum etc.).
//
// Axes: an `axes` attribute before the opset where they became an optional second input (13 for
// ReduceSum, 18 for the others); the input may be a constant or a runtime int64 tensor. Negative
// axes count from the end (allowed from opset 11); a repeated axis is an error. keepdims
// (default 1) keeps reduced axes as 1s. With no axes every axis is reduced, except that from the
// opset with the axes input, noop_with_empty_axes = 1 makes the node an identity.
//
// Math over the reduced elements R of each output element (gradients broadcast back):
//   ReduceSum        y = Σ x            ∂x = g
//   ReduceMean       y = Σ x / |R|      ∂x = g / |R|
//   ReduceSumSquare  y = Σ x²           ∂x = 2x·g
//   ReduceL2         y = √(Σ x²)        ∂x = g·x / y   (0 where y = 0, as torch.norm)
//   ReduceMax/Min    y = max/min x      ∂x = g·[x = y] / #{x = y}  (ties split evenly, as
//                                                                     torch.amax/amin)
// Max, Min, L2 and SumSquare are computed here (sequential passes, double accumulation); Sum and
// Mean are the engine's sum/mean.
// Second order (Hessian-vector products): ẏ = Σ_R ∂x·ẋ with the weights above; curvature
// S = 2g·ẋ (SumSquare), g·(ẋ − x (x·ẋ)/y²)/y (L2, 0 where y = 0), none for Max/Min (piecewise
// linear).
#pragma once
#include <algorithm>
#include <cmath>
#include <limits>
#include <vector>

#include "engine/broadcast.h"
#include "engine/hessian.h"
#include "engine/ops.h"
#include "layers/layer.h"

namespace gradlens {

enum class Reduction { sum, mean, max, min, l2, sum_square };

template <Reduction K>
class ReduceLayer : public Layer {
 public:
  std::vector<Shape> infer(const std::vector<Shape>& in) const override {
    if (in.empty()) error("expected input data");
    if (axes_runtime_) error("axes are a runtime input; the output shape is known only when run");
    std::vector<int> axes;
    if (!resolve(in[0], axes_, axes)) return {in[0]};
    Shape s;
    for (int i = 0; i < in[0].rank(); ++i) {
      const bool reduced = std::find(axes.begin(), axes.end(), i) != axes.end();
      if (!reduced) s.push_back(in[0][i]);
      else if (keepdims_) s.push_back(1);
    }
    return {s};
  }

  void forward(Tape&, const std::vector<Var>& in, std::vector<Var>& out) const override {
    std::vector<int64_t> given = axes_;
    if (axes_runtime_) {
      const Tensor& t = in[1].value();
      if (t.rank() > 1) error("axes must be 1-D, got shape ", t.shape().str());
      given.clear();
      for (int64_t i = 0; i < t.numel(); ++i) given.push_back(int64_t(std::llround(t[i])));
    }
    std::vector<int> axes;
    if (!resolve(in[0].shape(), given, axes)) {
      out[0] = identity(in[0], info());
      return;
    }
    if (K == Reduction::sum) out[0] = sum(in[0], axes, keepdims_, info());
    else if (K == Reduction::mean) out[0] = mean(in[0], axes, keepdims_, info());
    else out[0] = reduce(in[0], axes);
  }

 protected:
  // The opset from which axes are an input (13 for ReduceSum, 18 for the others).
  static constexpr int64_t kAxesInputOpset = K == Reduction::sum ? 13 : 18;

  void parse(AttributeReader& a, const std::vector<const Initializer*>& c) override {
    keepdims_ = a.get_int("keepdims", 1) != 0;
    if (node_.opset < kAxesInputOpset) {
      expect_inputs(1, 1);
      axes_ = a.get_ints("axes", {});
      return;
    }
    expect_inputs(1, 2);
    const int64_t noop = a.get_int("noop_with_empty_axes", 0);
    if (noop != 0 && noop != 1) error("noop_with_empty_axes must be 0 or 1, got ", noop);
    noop_ = noop == 1;
    if (node_.inputs.size() < 2 || node_.inputs[1].empty()) return;
    if (!c[1]) {
      axes_runtime_ = true;
      return;
    }
    const Initializer& axes = *c[1];
    if (axes.value.rank() > 1) error("axes must be 1-D, got shape ", axes.value.shape().str());
    axes_ = axes.as_ints();
  }

 private:
  // Normalised, sorted axes to reduce (every axis when none are given); false for the identity.
  bool resolve(const Shape& s, const std::vector<int64_t>& given, std::vector<int>& axes) const {
    axes.clear();
    if (given.empty()) {
      if (noop_) return false;
      for (int i = 0; i < s.rank(); ++i) axes.push_back(i);
      return true;
    }
    for (int64_t a : given) {
      if (a < 0 && node_.opset < 11)
        error("axis ", a, " is negative, which opset ", node_.opset, " does not allow");
      const int64_t ax = a < 0 ? a + s.rank() : a;
      if (ax < 0 || ax >= s.rank()) error("axis ", a, " is out of range for shape ", s.str());
      if (std::find(axes.begin(), axes.end(), int(ax)) != axes.end())
        error("axis ", a, " is repeated in axes ", format(given));
      axes.push_back(int(ax));
    }
    std::sort(axes.begin(), axes.end());
    return true;
  }

  static std::string format(const std::vector<int64_t>& v) {
    std::string s = "[";
    for (size_t i = 0; i < v.size(); ++i) s += (i ? "," : "") + std::to_string(v[i]);
    return s + "]";
  }

  // Max, Min, L2, SumSquare over sorted axes.
  Var reduce(Var x, const std::vector<int>& axes) const {
    const Tensor& v = x.value();
    Shape kept = v.shape(), out_shape;
    for (int a : axes) kept[a] = 1;
    for (int i = 0; i < v.rank(); ++i)
      if (keepdims_ || std::find(axes.begin(), axes.end(), i) == axes.end())
        out_shape.push_back(kept[i]);
    if (K == Reduction::max || K == Reduction::min) {
      for (int a : axes)
        if (v.dim(a) == 0) error("cannot take the max/min over the empty axis ", a);
    }
    Tensor y = x.tape->alloc(out_shape);
    std::vector<double> acc(size_t(kept.numel()),
                            K == Reduction::max   ? -std::numeric_limits<double>::infinity()
                            : K == Reduction::min ? std::numeric_limits<double>::infinity()
                                                  : 0.0);
    const float* px = v.data();
    BroadcastPlan(v.shape(), kept, v.shape())
        .for_each_sequential([&](int64_t o, int64_t, int64_t ib, int64_t n, int64_t, int64_t sb) {
          for (int64_t j = 0; j < n; ++j) {
            const double e = px[o + j];
            double& t = acc[size_t(ib + j * sb)];
            if (K == Reduction::max) t = e > t ? e : t;
            else if (K == Reduction::min) t = e < t ? e : t;
            else t += e * e;
          }
        });
    for (size_t i = 0; i < acc.size(); ++i)
      y[int64_t(i)] = float(K == Reduction::l2 ? std::sqrt(acc[i]) : acc[i]);
    return x.tape->record(info(), {x}, y, [kept](BackwardContext& ctx) {
      if (!ctx.needs_grad(0)) return;
      const Tensor& xv = ctx.input(0);
      const float* px = xv.data();
      const float* py = ctx.output().data();
      const float* pg = ctx.grad_output().data();
      Tensor dx = ctx.alloc(xv.shape());
      float* pd = dx.data();
      BroadcastPlan plan(xv.shape(), kept, xv.shape());
      if (K == Reduction::max || K == Reduction::min) {
        std::vector<float> ties(size_t(kept.numel()), 0.f);
        plan.for_each_sequential([&](int64_t o, int64_t, int64_t ib, int64_t n, int64_t, int64_t sb) {
          for (int64_t j = 0; j < n; ++j) ties[size_t(ib + j * sb)] += px[o + j] == py[ib + j * sb];
        });
        plan.for_each([&](int64_t o, int64_t, int64_t ib, int64_t n, int64_t, int64_t sb) {
          for (int64_t j = 0; j < n; ++j) {
            const int64_t r = ib + j * sb;
            pd[o + j] = px[o + j] == py[r] ? pg[r] / ties[size_t(r)] : 0.f;
          }
        });
      } else {
        plan.for_each([&](int64_t o, int64_t, int64_t ib, int64_t n, int64_t, int64_t sb) {
          for (int64_t j = 0; j < n; ++j) {
            const int64_t r = ib + j * sb;
            if (K == Reduction::l2)
              pd[o + j] = py[r] > 0.f ? pg[r] * px[o + j] / py[r] : 0.f;
            else
              pd[o + j] = 2.f * px[o + j] * pg[r];
          }
        });
      }
      ctx.accumulate_fresh(0, dx);
    }, [kept](TangentContext& ctx) {
      const Tensor& xv = ctx.input(0);
      const float* px = xv.data();
      const float* py = ctx.output().data();
      const float* pt = ctx.input_tangent(0).data();
      BroadcastPlan plan(xv.shape(), kept, xv.shape());
      // acc: Σ [x = y] ẋ (Max/Min, with the tie counts) or Σ x ẋ (L2, SumSquare), per output.
      std::vector<double> acc(size_t(kept.numel()), 0.0), ties(size_t(kept.numel()), 0.0);
      plan.for_each_sequential([&](int64_t o, int64_t, int64_t ib, int64_t n, int64_t, int64_t sb) {
        for (int64_t j = 0; j < n; ++j) {
          const size_t r = size_t(ib + j * sb);
          if (K == Reduction::max || K == Reduction::min) {
            if (px[o + j] == py[r]) {
              acc[r] += pt[o + j];
              ties[r] += 1;
            }
          } else {
            acc[r] += double(px[o + j]) * pt[o + j];
          }
        }
      });
      Tensor yt = ctx.alloc(ctx.output().shape());
      for (size_t r = 0; r < acc.size(); ++r) {
        double v = acc[r];
        if (K == Reduction::max || K == Reduction::min) v = ties[r] > 0 ? v / ties[r] : 0.0;
        if (K == Reduction::l2) v = py[r] > 0.f ? v / py[r] : 0.0;
        if (K == Reduction::sum_square) v *= 2.0;
        yt[int64_t(r)] = float(v);
      }
      ctx.set_tangent(yt);
      const Tensor& g = ctx.grad_output();
      if (g.empty() || K == Reduction::max || K == Reduction::min) return;
      const float* pg = g.data();
      Tensor curvature = ctx.alloc(xv.shape());
      float* pc = curvature.data();
      plan.for_each([&](int64_t o, int64_t, int64_t ib, int64_t n, int64_t, int64_t sb) {
        for (int64_t j = 0; j < n; ++j) {
          const int64_t r = ib + j * sb;
          if (K == Reduction::sum_square) {
            pc[o + j] = 2.f * pg[r] * pt[o + j];
          } else {
            const double y = py[r];
            pc[o + j] = y > 0 ? float(pg[r] * (pt[o + j] - px[o + j] * acc[size_t(r)] / (y * y)) / y) : 0.f;
          }
        }
      });
      ctx.add_curvature(0, curvature);
    });
  }

  std::vector<int64_t> axes_;
  bool axes_runtime_ = false, keepdims_ = true, noop_ = false;
};

}  // namespace gradlens
