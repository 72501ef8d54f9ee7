// Base for the variadic elementwise layers Sum, Mean, Max, Min (ONNX operators §Sum etc.):
// one or more inputs, numpy broadcasting from opset 8; at opsets 6-7 every input must have the
// same shape; opset 1 additionally carried the legacy consumed_inputs attribute.
//   Sum:  y = Σₖ xₖ              ∂xₖ = g
//   Mean: y = (1/K) Σₖ xₖ        ∂xₖ = g / K
//   Max:  y = maxₖ xₖ            ∂xₖ = g · [xₖ = y] / #{k : xₖ = y}
//   Min:  y = minₖ xₖ            likewise
// (ties split the gradient evenly: with two inputs this is torch.maximum/minimum's halving).
// Each ∂xₖ is summed over the axes along which xₖ was broadcast. Inputs combine in index order
// and the reductions to operand shapes are sequential, so results do not depend on thread count.
// Tangent (Hessian-vector products): ẏ = Σₖ wₖ ẋₖ with the same weights wₖ as the backward (1,
// 1/K, or the tie share); linear or piecewise linear, so no curvature term.
#pragma once
#include <vector>

#include "engine/broadcast.h"
#include "engine/hessian.h"
#include "layers/op_util.h"

namespace gradlens {

enum class Variadic { sum, mean, max, min };

template <Variadic K>
class VariadicLayer : public Layer {
 public:
  std::vector<Shape> infer(const std::vector<Shape>& in) const override {
    return {output_shape(in)};
  }

  void forward(Tape& tape, const std::vector<Var>& in, std::vector<Var>& out) const override {
    std::vector<Shape> shapes;
    for (const Var& v : in) shapes.push_back(v.shape());
    const Shape out_shape = output_shape(shapes);
    Tensor y = tape.alloc(out_shape);
    float* py = y.data();
    for (size_t k = 0; k < in.size(); ++k) {
      const float* px = in[k].value().data();
      BroadcastPlan(out_shape, in[k].shape(), out_shape)
          .for_each([&](int64_t o, int64_t, int64_t ib, int64_t n, int64_t, int64_t sb) {
            for (int64_t j = 0; j < n; ++j) {
              const float v = px[ib + j * sb];
              float& t = py[o + j];
              if (k == 0) t = v;
              else if (K == Variadic::max) t = v > t ? v : t;
              else if (K == Variadic::min) t = v < t ? v : t;
              else t += v;
            }
          });
    }
    if (K == Variadic::mean) y.vec() *= 1.f / float(in.size());
    out[0] = tape.record(info(), in.data(), int(in.size()), y,
                         [](BackwardContext& ctx) { backward(ctx); },
                         [](TangentContext& ctx) { tangent(ctx); });
  }

 protected:
  void parse(AttributeReader& a, const std::vector<const Initializer*>&) override {
    accept_consumed_inputs(a, node_);
    if (node_.inputs.empty()) error("expected at least 1 input, got 0");
    for (size_t k = 0; k < node_.inputs.size(); ++k)
      if (node_.inputs[k].empty()) error("input ", k, " is missing");
  }

 private:
  Shape output_shape(const std::vector<Shape>& in) const {
    if (in.empty()) error("expected at least 1 input, got 0");
    Shape s = in[0];
    for (size_t k = 1; k < in.size(); ++k) {
      if (node_.opset < 8) {
        if (in[k] != in[0])
          error("input ", k, " has shape ", in[k].str(), ", input 0 has ", in[0].str(),
                "; opset ", node_.opset, " does not broadcast");
        continue;
      }
      try {
        s = broadcast_shapes(s, in[k]);
      } catch (const Error& e) {
        error(e.what());
      }
    }
    return s;
  }

  static void tangent(TangentContext& ctx) {
    const Tensor& y = ctx.output();
    const Shape& out_shape = y.shape();
    const int count = ctx.num_inputs();
    const float* py = y.data();
    Tensor ties;
    if (K == Variadic::max || K == Variadic::min) {
      ties = ctx.alloc_zeroed(out_shape);
      float* pt = ties.data();
      for (int k = 0; k < count; ++k) {
        const float* px = ctx.input(k).data();
        BroadcastPlan(out_shape, ctx.input(k).shape(), out_shape)
            .for_each([&](int64_t o, int64_t, int64_t ib, int64_t n, int64_t, int64_t sb) {
              for (int64_t j = 0; j < n; ++j) pt[o + j] += px[ib + j * sb] == py[o + j] ? 1.f : 0.f;
            });
      }
    }
    Tensor yt = ctx.alloc_zeroed(out_shape);
    float* pyt = yt.data();
    for (int k = 0; k < count; ++k) {
      if (!ctx.has_tangent(k)) continue;
      const float* px = ctx.input(k).data();
      const float* pdx = ctx.input_tangent(k).data();
      BroadcastPlan(out_shape, ctx.input(k).shape(), out_shape)
          .for_each([&](int64_t o, int64_t, int64_t ib, int64_t n, int64_t, int64_t sb) {
            for (int64_t j = 0; j < n; ++j) {
              float w = 1.f;
              if (K == Variadic::mean) w = 1.f / float(count);
              if (K == Variadic::max || K == Variadic::min)
                w = px[ib + j * sb] == py[o + j] ? 1.f / ties[o + j] : 0.f;
              pyt[o + j] += w * pdx[ib + j * sb];
            }
          });
    }
    ctx.set_tangent(yt);
  }

  static void backward(BackwardContext& ctx) {
    const Tensor& g = ctx.grad_output();
    const Tensor& y = ctx.output();
    const Shape& out_shape = y.shape();
    const int count = ctx.num_inputs();
    const float* pg = g.data();
    const float* py = y.data();
    Tensor ties;  // Max/Min: number of inputs equal to y at each output element
    if (K == Variadic::max || K == Variadic::min) {
      ties = ctx.alloc_zeroed(out_shape);
      float* pt = ties.data();
      for (int k = 0; k < count; ++k) {
        const float* px = ctx.input(k).data();
        BroadcastPlan(out_shape, ctx.input(k).shape(), out_shape)
            .for_each([&](int64_t o, int64_t, int64_t ib, int64_t n, int64_t, int64_t sb) {
              for (int64_t j = 0; j < n; ++j) pt[o + j] += px[ib + j * sb] == py[o + j] ? 1.f : 0.f;
            });
      }
    }
    for (int k = 0; k < count; ++k) {
      if (!ctx.needs_grad(k)) continue;
      const Shape& target = ctx.input(k).shape();
      Tensor full = g;
      if (K == Variadic::mean) {
        full = ctx.alloc(out_shape);
        full.vec() = g.vec() * (1.f / float(count));
      } else if (K == Variadic::max || K == Variadic::min) {
        full = ctx.alloc(out_shape);
        float* pf = full.data();
        const float* pt = ties.data();
        const float* px = ctx.input(k).data();
        BroadcastPlan(out_shape, target, out_shape)
            .for_each([&](int64_t o, int64_t, int64_t ib, int64_t n, int64_t, int64_t sb) {
              for (int64_t j = 0; j < n; ++j)
                pf[o + j] = px[ib + j * sb] == py[o + j] ? pg[o + j] / pt[o + j] : 0.f;
            });
      }
      if (target == out_shape) {
        ctx.accumulate(k, full);
      } else {
        Tensor reduced = ctx.alloc(target);
        reduce_to_shape_into(full, target, reduced.data());
        ctx.accumulate_fresh(k, reduced);
      }
    }
  }
};

}  // namespace gradlens
