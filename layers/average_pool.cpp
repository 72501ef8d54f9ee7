// AveragePool (ONNX operators §AveragePool), 2-D, NCHW:
//   y[n, c, oh, ow] = (1 / D) · Σ_{taps (i, j) inside the input} x[n, c, oh·sH − pT + i·dH,
//                                                                   ow·sW − pL + j·dW]
// The divisor D counts taps (so dilation is honoured):
//   count_include_pad = 0: taps inside the input;
//   count_include_pad = 1: taps inside the padded input [−pads_begin, size + pads_end), so a
//     ceil_mode window that runs past the end padding is not charged for the overrun (ONNX
//     reference: the padded array is indexed and out-of-range taps are skipped; PyTorch
//     avg_pool2d: hend = min(hstart + kH, H + pad)).
// Output size, auto_pad and ceil_mode follow layers/pool_geometry.h.
// Backward: dx[taps of each window] += g / D. One task per (n, c) plane.
// Tangent: ẏ = the same average of ẋ (linear: no curvature term).
#include "engine/hessian.h"
#include "engine/parallel.h"
#include "layers/layer.h"
#include "layers/pool_geometry.h"

namespace gradlens {

class AveragePool : public Layer {
 public:
  std::vector<Shape> infer(const std::vector<Shape>& inputs) const override {
    if (inputs.empty()) error("expected input X");
    const Window2d win = plan(inputs[0]);
    return {Shape{inputs[0][0], inputs[0][1], win.h.output, win.w.output}};
  }

  void forward(Tape& tape, const std::vector<Var>& in, std::vector<Var>& out) const override {
    const Tensor& x = in[0].value();
    const Window2d win = plan(x.shape());
    Tensor y = tape.alloc({x.dim(0), x.dim(1), win.h.output, win.w.output});
    average(win, x, y);
    out[0] = tape.record(info(), {in[0]}, y, [this](BackwardContext& ctx) {
      if (!ctx.needs_grad(0)) return;
      const Tensor& x = ctx.input(0);
      const Window2d win = plan(x.shape());
      const int64_t H = x.dim(2), W = x.dim(3), Ho = win.h.output, Wo = win.w.output;
      const float* g = ctx.grad_output().data();
      float* dx = ctx.grad_buffer(0).data();
      parallel_for(x.dim(0) * x.dim(1), [&](int64_t plane) {
        const float* gp = g + plane * Ho * Wo;
        float* dp = dx + plane * H * W;
        for (int64_t oh = 0; oh < Ho; ++oh) {
          int64_t i0, i1;
          win.h.input_taps(oh, i0, i1);
          for (int64_t ow = 0; ow < Wo; ++ow) {
            int64_t j0, j1;
            win.w.input_taps(ow, j0, j1);
            const float share = gp[oh * Wo + ow] / divisor(win, oh, ow);
            for (int64_t i = i0; i < i1; ++i) {
              const int64_t row = win.h.tap(oh, i) * W;
              for (int64_t j = j0; j < j1; ++j) dp[row + win.w.tap(ow, j)] += share;
            }
          }
        }
      }, min_parallel_tasks(Ho * Wo * win.h.kernel * win.w.kernel));
    }, [this](TangentContext& ctx) {
      const Tensor& xt = ctx.input_tangent(0);
      Tensor yt = ctx.alloc(ctx.output().shape());
      average(plan(xt.shape()), xt, yt);
      ctx.set_tangent(yt);
    });
  }

 protected:
  void parse(AttributeReader& reader, const std::vector<const Initializer*>&) override {
    expect_inputs(1, 1);
    WindowAttributeSet set;
    set.kernel_required = true;
    set.ceil_mode = true;
    window_ = read_window_attributes(reader, *this, set);
    const int64_t count_include_pad = reader.get_int("count_include_pad", 0);
    if (count_include_pad != 0 && count_include_pad != 1)
      error("count_include_pad must be 0 or 1, got ", count_include_pad);
    count_include_pad_ = count_include_pad == 1;
  }

 private:
  Window2d plan(const Shape& x) const {
    require_nchw(x, *this, "input X");
    const Window2d win =
        plan_window_2d(window_, x[2], x[3], window_.kernel[0], window_.kernel[1], *this);
    if (!count_include_pad_ &&
        (!win.h.every_window_reads_input() || !win.w.every_window_reads_input()))
      error("a pooling window holds only padding (pads ",
            format_ints({window_.pads.begin(), window_.pads.end()}), ", input ", x.str(),
            "), so its average is undefined with count_include_pad = 0");
    return win;
  }

  // y = the window averages of x.
  void average(const Window2d& win, const Tensor& x, Tensor& y) const {
    const int64_t H = x.dim(2), W = x.dim(3), Ho = win.h.output, Wo = win.w.output;
    parallel_for(x.dim(0) * x.dim(1), [&](int64_t plane) {
      const float* xp = x.data() + plane * H * W;
      float* yp = y.data() + plane * Ho * Wo;
      for (int64_t oh = 0; oh < Ho; ++oh) {
        int64_t i0, i1;
        win.h.input_taps(oh, i0, i1);
        for (int64_t ow = 0; ow < Wo; ++ow) {
          int64_t j0, j1;
          win.w.input_taps(ow, j0, j1);
          float sum = 0.f;
          for (int64_t i = i0; i < i1; ++i) {
            const int64_t row = win.h.tap(oh, i) * W;
            for (int64_t j = j0; j < j1; ++j) sum += xp[row + win.w.tap(ow, j)];
          }
          yp[oh * Wo + ow] = sum / divisor(win, oh, ow);
        }
      }
    }, min_parallel_tasks(Ho * Wo * win.h.kernel * win.w.kernel));
  }
  float divisor(const Window2d& win, int64_t oh, int64_t ow) const {
    int64_t i0, i1, j0, j1;
    if (count_include_pad_) {
      win.h.taps_within(oh, -win.h.pad_begin, win.h.input + win.h.pad_end, i0, i1);
      win.w.taps_within(ow, -win.w.pad_begin, win.w.input + win.w.pad_end, j0, j1);
    } else {
      win.h.input_taps(oh, i0, i1);
      win.w.input_taps(ow, j0, j1);
    }
    return float((i1 - i0) * (j1 - j0));
  }

  WindowAttributes window_;
  bool count_include_pad_ = false;
};

}  // namespace gradlens

GRADLENS_REGISTER_LAYER(AveragePool, gradlens::AveragePool)
