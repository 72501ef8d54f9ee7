// MaxPool (ONNX operators §MaxPool), 2-D, NCHW, first output Y only:
//   y[n, c, oh, ow] = max_{i, j} x[n, c, oh·sH − pT + i·dH, ow·sW − pL + j·dW]
// over the taps that fall inside the input: padding is −∞ and never wins. Output size, auto_pad
// and ceil_mode follow layers/pool_geometry.h.
// Backward: dx[argmax of each window] += g, the arg-max being the first maximum in scan order
// (rows, then columns) at ties, as PyTorch: the first tap equal to y (NaN when y is NaN), found
// from x and y, so nothing but the output is stored. Forward and backward run tap by tap over
// whole output rows (vectorisable inner loops) rather than window by window. One task per (n, c) plane: each writes only its own plane of dx.
// Tangent: ẏ = ẋ[arg-max of each window]; piecewise linear, so no curvature term (zero a.e.).
// Linear piece: the offsets along ẋ over which no window's arg-max changes (narrow_linear_piece).
#include <algorithm>
#include <cmath>
#include <limits>
#include <vector>

#include "engine/hessian.h"
#include "engine/parallel.h"
#include "layers/layer.h"
#include "layers/pool_geometry.h"

namespace gradlens {

class MaxPool : public Layer {
 public:
  std::vector<Shape> infer(const std::vector<Shape>& inputs) const override {
    if (inputs.empty()) error("expected input X");
    const Window2d win = plan(inputs[0]);
    return {Shape{inputs[0][0], inputs[0][1], win.h.output, win.w.output}};
  }

  void forward(Tape& tape, const std::vector<Var>& in, std::vector<Var>& out) const override {
    const Tensor& x = in[0].value();
    const Window2d win = plan(x.shape());
    const int64_t H = x.dim(2), W = x.dim(3), Ho = win.h.output, Wo = win.w.output;
    Tensor y = tape.alloc({x.dim(0), x.dim(1), Ho, Wo});
    // The values only (the arg-max is found again in backward): tap by tap in scan order over
    // whole output rows, so the inner loop runs along ow and vectorises. The comparison is
    // argmax's, so the value is the same (NaN wins; a tie keeps the earlier, equal, value).
    const float lowest = -std::numeric_limits<float>::infinity();
    parallel_for(x.dim(0) * x.dim(1), [&](int64_t plane) {
      const float* xp = x.data() + plane * H * W;
      float* yp = y.data() + plane * Ho * Wo;
      std::fill(yp, yp + Ho * Wo, lowest);
      const int64_t sw = win.w.stride;
      for_each_tap_row(win, [&](int64_t oh, int64_t base, int64_t ow0, int64_t ow1) {
        float* __restrict__ d = yp + oh * Wo;
        for (int64_t ow = ow0; ow < ow1; ++ow) {
          const float v = xp[base + ow * sw], b = d[ow];
          d[ow] = (v > b || (v != v && b == b)) ? v : b;
        }
      });
    }, min_parallel_tasks(Ho * Wo * win.h.kernel * win.w.kernel));
    out[0] = tape.record(info(), {in[0]}, y, [this](BackwardContext& ctx) {
      if (!ctx.needs_grad(0)) return;
      const Tensor& x = ctx.input(0);
      const Window2d win = plan(x.shape());
      const int64_t H = x.dim(2), W = x.dim(3), Ho = win.h.output, Wo = win.w.output;
      const float* g = ctx.grad_output().data();
      const float* y = ctx.output().data();
      float* dx = ctx.grad_buffer(0).data();
      // The arg-max of a window is its first tap, in scan order, equal to the forward's maximum
      // (or NaN when that is NaN). Tap by tap over whole output rows, marking windows done.
      parallel_for(x.dim(0) * x.dim(1), [&](int64_t plane) {
        const float* xp = x.data() + plane * H * W;
        const float* gp = g + plane * Ho * Wo;
        const float* yp = y + plane * Ho * Wo;
        float* dp = dx + plane * H * W;
        thread_local std::vector<unsigned char> done;  // windows whose arg-max was found
        done.assign(size_t(Ho * Wo), 0);
        const int64_t sw = win.w.stride;
        for_each_tap_row(win, [&](int64_t oh, int64_t base, int64_t ow0, int64_t ow1) {
          for (int64_t ow = ow0; ow < ow1; ++ow) {
            const int64_t o = oh * Wo + ow;
            const float v = xp[base + ow * sw], m = yp[o];
            if (!done[size_t(o)] && (v == m || (v != v && m != m))) {
              done[size_t(o)] = 1;
              dp[base + ow * sw] += gp[o];
            }
          }
        });
      }, min_parallel_tasks(Ho * Wo * win.h.kernel * win.w.kernel));
    }, [this](TangentContext& ctx) {
      const Tensor& x = ctx.input(0);
      const Window2d win = plan(x.shape());
      const Windows windows(win);
      const int64_t H = x.dim(2), W = x.dim(3), Ho = win.h.output, Wo = win.w.output;
      const float* pt = ctx.input_tangent(0).data();
      Tensor yt = ctx.alloc(ctx.output().shape());
      float* py = yt.data();
      parallel_for(x.dim(0) * x.dim(1), [&](int64_t plane) {
        const float* xp = x.data() + plane * H * W;
        for (int64_t oh = 0; oh < Ho; ++oh)
          for (int64_t ow = 0; ow < Wo; ++ow)
            py[plane * Ho * Wo + oh * Wo + ow] = pt[plane * H * W + windows.argmax(xp, oh, ow)];
      }, min_parallel_tasks(Ho * Wo * win.h.kernel * win.w.kernel));
      ctx.set_tangent(yt);
    });
  }

  // The arg-max a of a window stays while no other tap k overtakes it: x_k + s ẋ_k = x_a + s ẋ_a
  // at s = (x_a − x_k) / (ẋ_k − ẋ_a), ahead (s > 0) when ẋ_k > ẋ_a, behind when ẋ_k < ẋ_a. A tap
  // tied with a and moving apart pins that side to 0 (the scan-order tie-break picks a only there).
  bool narrow_linear_piece(const Tensor& x, const Tensor& x_tangent, double& below, double& above) const override {
    const Window2d win = plan(x.shape());
    const Windows windows(win);
    const int64_t H = x.dim(2), W = x.dim(3), planes = x.dim(0) * x.dim(1);
    for (int64_t plane = 0; plane < planes; ++plane) {
      const float* xp = x.data() + plane * H * W;
      const float* tp = x_tangent.data() + plane * H * W;
      for (int64_t oh = 0; oh < win.h.output; ++oh)
        for (int64_t ow = 0; ow < win.w.output; ++ow) {
          const int64_t a = windows.argmax(xp, oh, ow);
          int64_t i0, i1, j0, j1;
          win.h.input_taps(oh, i0, i1);
          win.w.input_taps(ow, j0, j1);
          for (int64_t i = i0; i < i1; ++i)
            for (int64_t j = j0; j < j1; ++j) {
              const int64_t k = win.h.tap(oh, i) * W + win.w.tap(ow, j);
              const double gap = double(xp[a]) - double(xp[k]), closing = double(tp[k]) - double(tp[a]);
              if (k == a || closing == 0.0 || !(gap >= 0.0)) continue;
              const double s = gap / closing;
              if (closing > 0) above = std::min(above, s);
              else below = std::max(below, s);
            }
        }
    }
    return true;
  }

 protected:
  void parse(AttributeReader& reader, const std::vector<const Initializer*>&) override {
    expect_inputs(1, 1);
    if (node_.outputs.size() > 1 && !node_.outputs[1].empty())
      error("the Indices output ('", node_.outputs[1], "') is not supported, only Y");
    WindowAttributeSet set;
    set.kernel_required = true;
    set.ceil_mode = true;
    window_ = read_window_attributes(reader, *this, set);
    const int64_t storage_order = reader.get_int("storage_order", 0);
    if (storage_order != 0)
      error("storage_order ", storage_order, " is not supported (only 0, row-major)");
  }

 private:
  Window2d plan(const Shape& x) const {
    require_nchw(x, *this, "input X");
    const Window2d win =
        plan_window_2d(window_, x[2], x[3], window_.kernel[0], window_.kernel[1], *this);
    if (!win.h.every_window_reads_input() || !win.w.every_window_reads_input())
      error("a pooling window holds only padding (pads ", format_ints({window_.pads.begin(), window_.pads.end()}),
            ", input ", x.str(), ")");
    return win;
  }

  // Index in the plane of the first maximum of window (oh, ow); NaN wins, as in PyTorch.
  // Visits the taps in scan order (i, then j) and, for each, every output row oh that reads the
  // input with it: f(oh, base, ow0, ow1), the row's outputs [ow0, ow1) reading input position
  // base + ow·stride_w. Forward and backward run their inner loops along ow this way.
  template <class F>
  static void for_each_tap_row(const Window2d& win, F&& f) {
    for (int64_t i = 0; i < win.h.kernel; ++i) {
      int64_t oh0, oh1;
      win.h.outputs_reading(i, oh0, oh1);
      for (int64_t j = 0; j < win.w.kernel; ++j) {
        int64_t ow0, ow1;
        win.w.outputs_reading(j, ow0, ow1);
        for (int64_t oh = oh0; oh < oh1; ++oh)
          f(oh, win.h.tap(oh, i) * win.w.input + win.w.tap(0, j), ow0, ow1);
      }
    }
  }

  // Every window's in-range taps along each axis, found once per call instead of once per
  // window (the per-window divisions cost more than the comparisons on small kernels).
  struct Windows {
    const Window2d& win;
    std::vector<int64_t> i0, i1, j0, j1;
    explicit Windows(const Window2d& w)
        : win(w), i0(size_t(w.h.output)), i1(size_t(w.h.output)), j0(size_t(w.w.output)), j1(size_t(w.w.output)) {
      for (int64_t o = 0; o < w.h.output; ++o) w.h.input_taps(o, i0[size_t(o)], i1[size_t(o)]);
      for (int64_t o = 0; o < w.w.output; ++o) w.w.input_taps(o, j0[size_t(o)], j1[size_t(o)]);
    }
    // The first maximum in scan order (NaN wins, as in PyTorch).
    int64_t argmax(const float* plane, int64_t oh, int64_t ow) const {
      const int64_t W = win.w.input, dh = win.h.dilation * W, dw = win.w.dilation;
      const int64_t first = win.h.tap(oh, i0[size_t(oh)]) * W + win.w.tap(ow, j0[size_t(ow)]);
      const int64_t rows = i1[size_t(oh)] - i0[size_t(oh)], cols = j1[size_t(ow)] - j0[size_t(ow)];
      int64_t best = first;
      float best_value = plane[best];
      for (int64_t i = 0; i < rows; ++i) {
        const int64_t row = first + i * dh;
        for (int64_t j = 0; j < cols; ++j) {
          const int64_t k = row + j * dw;
          const float v = plane[k];
          if (v > best_value || (std::isnan(v) && !std::isnan(best_value))) {
            best_value = v;
            best = k;
          }
        }
      }
      return best;
    }
  };

  WindowAttributes window_;
};

}  // namespace gradlens

GRADLENS_REGISTER_LAYER(MaxPool, gradlens::MaxPool)
