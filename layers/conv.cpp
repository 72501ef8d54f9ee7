// Conv (ONNX operators §Conv), 2-D, NCHW. X [N, C, H, W], W [M, C/group, kH, kW], B [M]:
//   y[n, m, oh, ow] = B[m] + Σ_{c ∈ group(m), i, j} W[m, c, i, j] · x[n, c, oh·sH − pT + i·dH,
//                                                                    ow·sW − pL + j·dW]
// with zero padding (window geometry and auto_pad in layers/pool_geometry.h).
//
// Forward per batch item and group g (Mg = M/group, Cg = C/group):
//   y[g] (Mg × Ho·Wo) = W[g] (Mg × Cg·kH·kW) · col (Cg·kH·kW × Ho·Wo)        (im2col + GEMM,
//   layers/im2col.h)
//   1×1 kernels with stride 1 and no padding use x[g] (Cg × H·W) as col directly; depthwise
//   convolutions (Cg = 1) run a direct per-plane kernel.
// Backward, input only (weights and bias are constants in attribution):
//   col_grad = W[g]ᵀ · g[g], then col2im scatter-adds col_grad into dx. (Running stride-1 backward
//   as a convolution of g with the flipped kernel instead, im2col + GEMM with inner dimension
//   Mg·kH·kW, was measured 3-6% slower on resnet18 and a VGG-style net, so it is not used.)
// Tangent: ẏ = the same convolution of ẋ without the bias (linear in x: no curvature term).
// W and B are read once at load (constant initializers) and kept by the layer; the W and B tape
// inputs are recorded for the graph's sake only and never receive a gradient.
// Examples run in parallel (one im2col scratch per thread, each example's GEMMs on one thread)
// when a batch has at least as many as there are threads, else one at a time with the GEMM and
// im2col parallel inside (engine/parallel.h ItemWorkers). Every parallel loop writes disjoint
// outputs (examples, rows of col, channels of dx, planes), and GEMM's split comes from its shape
// alone, so results do not depend on the thread count.
#include <algorithm>
#include <vector>

#include "engine/gemm.h"
#include "engine/hessian.h"
#include "engine/parallel.h"
#include "layers/conv_base.h"
#include "layers/im2col.h"
#include "layers/pool_geometry.h"

namespace gradlens {

class Conv : public ConvBase {
 public:
  std::vector<Shape> infer(const std::vector<Shape>& inputs) const override {
    if (inputs.empty()) error("expected input X");
    return {plan(inputs[0]).output_shape()};
  }

  int64_t macs(const std::vector<Shape>& inputs) const override {
    if (inputs.empty()) return 0;
    const Plan p = plan(inputs[0]);
    return p.n * p.m * p.win.h.output * p.win.w.output * p.cg * p.kh * p.kw;
  }

  void forward(Tape& tape, const std::vector<Var>& in, std::vector<Var>& out) const override {
    const Tensor& x = in[0].value();
    const Plan p = plan(x.shape());
    Tensor y = tape.alloc(p.output_shape());
    convolve(tape, p, x.data(), y.data(), true);
    out[0] = record_output(tape, in, y);
  }

 protected:
  void parse(AttributeReader& reader, const std::vector<const Initializer*>& constants) override {
    expect_inputs(2, 3);
    parse_window_and_group(reader);
    read_weights(constants, "[M, C/group, kH, kW]", "output channels",
                 [](const Tensor& w, int64_t) { return w.dim(0); });
  }

 private:
  bool has_tangent() const override { return true; }
  void tangent(TangentContext& ctx) const override {
    const Plan p = plan(ctx.input(0).shape());
    Tensor yt = ctx.alloc(p.output_shape());
    const Tensor xt = ctx.input_tangent_or_zero(0);
    const ItemWorkers workers(p.n);
    Tensor col;
    if (p.kernel == Kernel::im2col) col = ctx.alloc({workers.workers(), p.cg * p.kh * p.kw, p.out_plane()});
    run_kernel(p, workers, xt.data(), col.empty() ? nullptr : col.data(), yt.data(), false);
    ctx.set_tangent(yt);
  }

  enum class Kernel { im2col, pointwise, depthwise };

  struct Plan {
    int64_t n = 0, c = 0, h = 0, w = 0;  // input
    int64_t m = 0, group = 1, cg = 0, mg = 0, kh = 0, kw = 0;
    Window2d win;
    Kernel kernel = Kernel::im2col;
    int64_t in_plane() const { return h * w; }
    int64_t out_plane() const { return win.h.output * win.w.output; }
    Shape output_shape() const { return {n, m, win.h.output, win.w.output}; }
    ColumnGeometry columns() const { return {cg, kh, kw, win}; }
  };

  Plan plan(const Shape& x) const {
    require_nchw(x, *this, "input X");
    Plan p;
    p.n = x[0];
    p.c = x[1];
    p.h = x[2];
    p.w = x[3];
    p.m = weight_.dim(0);
    p.group = group_;
    p.cg = weight_.dim(1);
    p.mg = p.m / group_;
    p.kh = weight_.dim(2);
    p.kw = weight_.dim(3);
    if (p.c != p.cg * group_)
      error("input X has ", p.c, " channels but weight W ", weight_.shape().str(), " with group ",
            group_, " expects ", p.cg * group_);
    p.win = plan_window_2d(window_, p.h, p.w, p.kh, p.kw, *this);
    if (p.cg == 1)
      p.kernel = Kernel::depthwise;
    else if (p.kh == 1 && p.kw == 1 && p.win.h.stride == 1 && p.win.w.stride == 1 &&
             p.win.unpadded())
      p.kernel = Kernel::pointwise;
    return p;
  }

  // y = W * x (+ B when with_bias) with the plan's kernel; im2col scratch (one per worker, see
  // ItemWorkers: examples run in parallel when there are enough of them) from the tape.
  void convolve(Tape& tape, const Plan& p, const float* x, float* y, bool with_bias) const {
    const ItemWorkers workers(p.n);
    Tensor col;
    if (p.kernel == Kernel::im2col) col = tape.alloc({workers.workers(), p.cg * p.kh * p.kw, p.out_plane()});
    run_kernel(p, workers, x, col.empty() ? nullptr : col.data(), y, with_bias);
  }
  void run_kernel(const Plan& p, const ItemWorkers& workers, const float* x, float* col, float* y,
                  bool with_bias) const {
    switch (p.kernel) {
      case Kernel::depthwise: depthwise_forward(p, x, y, with_bias); break;
      case Kernel::pointwise: gemm_forward(p, workers, x, nullptr, y, with_bias); break;
      case Kernel::im2col: gemm_forward(p, workers, x, col, y, with_bias); break;
    }
  }
  const float* group_weight(const Plan& p, int64_t g) const {
    return weight_.data() + g * p.mg * p.cg * p.kh * p.kw;
  }

  // y (M × Ho·Wo per item) = W[g] · col, col = im2col(x) or x itself (pointwise, col == null);
  // col holds one rows × cols scratch per worker.
  void gemm_forward(const Plan& p, const ItemWorkers& workers, const float* x, float* col, float* y,
                    bool with_bias) const {
    const bool bias = with_bias && !bias_.empty();
    const int64_t rows = p.cg * p.kh * p.kw, cols = p.out_plane();
    workers.run([&](int64_t n, int64_t worker) {
      float* scratch = col ? col + worker * rows * cols : nullptr;
      for (int64_t g = 0; g < p.group; ++g) {
        const float* xg = x + (n * p.c + g * p.cg) * p.in_plane();
        float* yg = y + (n * p.m + g * p.mg) * cols;
        const float* b = scratch ? scratch : xg;
        if (scratch) im2col(p.columns(), xg, scratch);
        if (bias)
          for (int64_t r = 0; r < p.mg; ++r)
            std::fill(yg + r * cols, yg + (r + 1) * cols, bias_[g * p.mg + r]);
        gemm(p.mg, cols, rows, group_weight(p, g), false, b, false, yg, bias);
      }
    });
  }

  // Cg = 1: output channel m reads input channel m / Mg only. One task per output plane.
  void depthwise_forward(const Plan& p, const float* x, float* y, bool with_bias) const {
    if (p.win.h.stride == 1 && p.win.w.stride == 1) return depthwise_forward_flat(p, x, y, with_bias);
    const bool bias = with_bias && !bias_.empty();
    const int64_t Ho = p.win.h.output, Wo = p.win.w.output, sw = p.win.w.stride;
    parallel_for(p.n * p.m, [&](int64_t plane) {
      const int64_t n = plane / p.m, m = plane % p.m;
      const float* xc = x + (n * p.c + m / p.mg) * p.in_plane();
      const float* wm = weight_.data() + m * p.kh * p.kw;
      float* ym = y + plane * Ho * Wo;
      std::fill(ym, ym + Ho * Wo, bias ? bias_[m] : 0.f);
      for (int64_t i = 0; i < p.kh; ++i) {
        int64_t oh0, oh1;
        p.win.h.outputs_reading(i, oh0, oh1);
        for (int64_t j = 0; j < p.kw; ++j) {
          int64_t ow0, ow1;
          p.win.w.outputs_reading(j, ow0, ow1);
          const float wv = wm[i * p.kw + j];
          for (int64_t oh = oh0; oh < oh1; ++oh) {
            const int64_t base = p.win.h.tap(oh, i) * p.w + p.win.w.tap(0, j);
            float* __restrict__ d = ym + oh * Wo;
            if (sw == 1) {  // contiguous: vectorises
              const float* s = xc + base;
              for (int64_t ow = ow0; ow < ow1; ++ow) d[ow] += wv * s[ow];
            } else {
              for (int64_t ow = ow0; ow < ow1; ++ow) d[ow] += wv * xc[base + ow * sw];
            }
          }
        }
      }
    }, min_parallel_tasks(p.kh * p.kw * Ho * Wo));
  }

  // Stride 1, the planes flattened: with the input zero-padded to Hp × Wp (row distance Wp), tap
  // (i, j) of output (oh, ow) reads padded position (oh·Wp + ow) + i·dH·Wp + j·dW, so each tap is
  // one long contiguous loop over z[q] (q = oh·Wp + ow, Ho × Wp entries, the columns past Wo
  // unused) instead of Ho short rows: small planes (a 1-channel first layer) run 3-4× faster.
  struct FlatPlane {
    int64_t hp, wp, slack, ho, wo;
    explicit FlatPlane(const Plan& p)
        : hp(p.h + p.win.h.pad_begin + p.win.h.pad_end), wp(p.w + p.win.w.pad_begin + p.win.w.pad_end),
          slack((p.kw - 1) * p.win.w.dilation), ho(p.win.h.output), wo(p.win.w.output) {}
    int64_t padded() const { return hp * wp + slack; }
    int64_t offset(const Plan& p, int64_t i, int64_t j) const {
      return i * p.win.h.dilation * wp + j * p.win.w.dilation;
    }
  };

  void depthwise_forward_flat(const Plan& p, const float* x, float* y, bool with_bias) const {
    const bool bias = with_bias && !bias_.empty();
    const FlatPlane f(p);
    const int64_t q_end = (f.ho - 1) * f.wp + f.wo;  // the last output's flat position + 1
    parallel_for(p.n * p.m, [&](int64_t plane) {
      const int64_t n = plane / p.m, m = plane % p.m;
      thread_local std::vector<float> padded, z;
      padded.assign(size_t(f.padded()), 0.f);
      z.assign(size_t(q_end), bias ? bias_[m] : 0.f);
      const float* xc = x + (n * p.c + m / p.mg) * p.in_plane();
      for (int64_t r = 0; r < p.h; ++r)
        std::copy(xc + r * p.w, xc + (r + 1) * p.w,
                  padded.data() + (r + p.win.h.pad_begin) * f.wp + p.win.w.pad_begin);
      const float* wm = weight_.data() + m * p.kh * p.kw;
      float* __restrict__ zq = z.data();
      for (int64_t i = 0; i < p.kh; ++i)
        for (int64_t j = 0; j < p.kw; ++j) {
          const float wv = wm[i * p.kw + j];
          const float* src = padded.data() + f.offset(p, i, j);
          for (int64_t q = 0; q < q_end; ++q) zq[q] += wv * src[q];
        }
      float* ym = y + plane * f.ho * f.wo;
      for (int64_t oh = 0; oh < f.ho; ++oh) std::copy(zq + oh * f.wp, zq + oh * f.wp + f.wo, ym + oh * f.wo);
    }, min_parallel_tasks(p.kh * p.kw * f.ho * f.wo));
  }

  // The adjoint of depthwise_forward_flat: g spread to the Ho × Wp layout (zero past Wo), each
  // tap scatter-added into the padded plane by one contiguous loop, the interior added to dx.
  void depthwise_backward_flat(const Plan& p, const float* gy, float* dx) const {
    const FlatPlane f(p);
    const int64_t q_end = (f.ho - 1) * f.wp + f.wo;
    parallel_for(p.n * p.c, [&](int64_t plane) {
      const int64_t n = plane / p.c, c = plane % p.c;
      thread_local std::vector<float> padded, gz;
      padded.assign(size_t(f.padded()), 0.f);
      gz.assign(size_t(q_end), 0.f);
      for (int64_t m = c * p.mg; m < (c + 1) * p.mg; ++m) {
        const float* gm = gy + (n * p.m + m) * f.ho * f.wo;
        for (int64_t oh = 0; oh < f.ho; ++oh) std::copy(gm + oh * f.wo, gm + (oh + 1) * f.wo, gz.data() + oh * f.wp);
        const float* wm = weight_.data() + m * p.kh * p.kw;
        const float* gq = gz.data();
        for (int64_t i = 0; i < p.kh; ++i)
          for (int64_t j = 0; j < p.kw; ++j) {
            const float wv = wm[i * p.kw + j];
            float* __restrict__ dst = padded.data() + f.offset(p, i, j);
            for (int64_t q = 0; q < q_end; ++q) dst[q] += wv * gq[q];
          }
      }
      float* dc = dx + plane * p.in_plane();
      for (int64_t r = 0; r < p.h; ++r) {
        const float* src = padded.data() + (r + p.win.h.pad_begin) * f.wp + p.win.w.pad_begin;
        for (int64_t col = 0; col < p.w; ++col) dc[r * p.w + col] += src[col];
      }
    }, min_parallel_tasks(p.mg * p.kh * p.kw * f.ho * f.wo));
  }

  // dx[n, c] += Σ over the Mg output channels of input channel c. One task per input plane.
  void depthwise_backward(const Plan& p, const float* gy, float* dx) const {
    if (p.win.h.stride == 1 && p.win.w.stride == 1) return depthwise_backward_flat(p, gy, dx);
    const int64_t Ho = p.win.h.output, Wo = p.win.w.output, sw = p.win.w.stride;
    parallel_for(p.n * p.c, [&](int64_t plane) {
      const int64_t n = plane / p.c, c = plane % p.c;
      float* dc = dx + plane * p.in_plane();
      for (int64_t m = c * p.mg; m < (c + 1) * p.mg; ++m) {
        const float* wm = weight_.data() + m * p.kh * p.kw;
        const float* gm = gy + (n * p.m + m) * Ho * Wo;
        for (int64_t i = 0; i < p.kh; ++i) {
          int64_t oh0, oh1;
          p.win.h.outputs_reading(i, oh0, oh1);
          for (int64_t j = 0; j < p.kw; ++j) {
            int64_t ow0, ow1;
            p.win.w.outputs_reading(j, ow0, ow1);
            const float wv = wm[i * p.kw + j];
            for (int64_t oh = oh0; oh < oh1; ++oh) {
              const int64_t base = p.win.h.tap(oh, i) * p.w + p.win.w.tap(0, j);
              const float* s = gm + oh * Wo;
              if (sw == 1) {  // contiguous: vectorises
                float* __restrict__ d = dc + base;
                for (int64_t ow = ow0; ow < ow1; ++ow) d[ow] += wv * s[ow];
              } else {
                for (int64_t ow = ow0; ow < ow1; ++ow) dc[base + ow * sw] += wv * s[ow];
              }
            }
          }
        }
      }
    }, min_parallel_tasks(p.mg * p.kh * p.kw * Ho * Wo));
  }

  void backward(BackwardContext& ctx) const override {
    if (!ctx.needs_grad(0)) return;
    const Plan p = plan(ctx.input(0).shape());
    const float* gy = ctx.grad_output().data();
    float* dx = ctx.grad_buffer(0).data();
    if (p.kernel == Kernel::depthwise) {
      depthwise_backward(p, gy, dx);
      return;
    }
    const int64_t rows = p.cg * p.kh * p.kw, cols = p.out_plane();
    const ItemWorkers workers(p.n);
    Tensor col_grad;
    if (p.kernel == Kernel::im2col) col_grad = ctx.alloc({workers.workers(), rows, cols});
    workers.run([&](int64_t n, int64_t worker) {
      for (int64_t g = 0; g < p.group; ++g) {
        const float* gg = gy + (n * p.m + g * p.mg) * cols;
        float* dxg = dx + (n * p.c + g * p.cg) * p.in_plane();
        if (p.kernel == Kernel::pointwise) {
          gemm(rows, cols, p.mg, group_weight(p, g), true, gg, false, dxg, true);
        } else {
          float* scratch = col_grad.data() + worker * rows * cols;
          gemm(rows, cols, p.mg, group_weight(p, g), true, gg, false, scratch, false);
          col2im_add(p.columns(), scratch, dxg);
        }
      }
    });
  }
};

}  // namespace gradlens

GRADLENS_REGISTER_LAYER(Conv, gradlens::Conv)
