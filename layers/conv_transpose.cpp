// ConvTranspose (ONNX operators §ConvTranspose, opsets 1/11/22), 2-D, NCHW. X [N, C, H, W],
// W [C, M/group, kH, kW], optional B [M]; output [N, M, Ho, Wo]:
//   y[n, m, h·sH − pT + i·dH, w·sW − pL + j·dW] += W[c, m − g·Mg, i, j] · x[n, c, h, w]
// for c in group g = m / Mg (Mg = M/group, Cg = C/group), positions outside the output dropped,
// plus B[m]. Output size, pads, output_padding, output_shape and auto_pad follow
// plan_transposed_window_2d (layers/pool_geometry.h); the geometry is Conv's with input and output
// swapped, and the kernels are Conv's im2col / col2im (layers/im2col.h) used the other way round.
//
// Forward per batch item and group g:
//   col (Mg·kH·kW × H·W) = W[g]ᵀ (Mg·kH·kW × Cg) · x[g] (Cg × H·W)       (GEMM)
//   y[g] = B + col2im(col)
// Backward, input only (W and B are constants in attribution):
//   col = im2col(g[g]),  dx[g] += W[g] (Cg × Mg·kH·kW) · col                (im2col + GEMM)
// Tangent: the same map of ẋ without B (linear in x, no curvature term).
// B, when present, is reported as NodeInfo::bias shaped [M, 1, 1] (FullGrad).
// GEMM and the im2col/col2im loops are deterministic, so results do not depend on thread count.
#include <algorithm>

#include "engine/gemm.h"
#include "engine/tangent.h"
#include "layers/im2col.h"
#include "layers/conv_base.h"
#include "layers/pool_geometry.h"

namespace gradlens {

class ConvTranspose : public ConvBase {
 public:
  std::vector<Shape> infer(const std::vector<Shape>& inputs) const override {
    if (inputs.empty()) error("expected input X");
    return {plan(inputs[0]).output_shape()};
  }

  int64_t macs(const std::vector<Shape>& inputs) const override {
    if (inputs.empty()) return 0;
    const Plan p = plan(inputs[0]);
    return p.n * p.c * p.h * p.w * p.mg * p.kh * p.kw;
  }

  void forward(Tape& tape, const std::vector<Var>& in, std::vector<Var>& out) const override {
    const Tensor& x = in[0].value();
    const Plan p = plan(x.shape());
    Tensor y = tape.alloc(p.output_shape());
    transpose_convolve(p, x.data(), tape.alloc({p.mg * p.kh * p.kw, p.h * p.w}).data(), y.data(), true);
    out[0] = record_output(tape, in, y);
  }

 protected:
  void parse(AttributeReader& reader, const std::vector<const Initializer*>& constants) override {
    expect_inputs(2, 3);
    parse_window_and_group(reader);
    const std::vector<int64_t> op = reader.get_ints("output_padding", {0, 0});
    if (op.size() != 2)
      error("output_padding must have 2 entries (only 2-D is supported), got ", format_ints(op));
    output_padding_ = {op[0], op[1]};
    for (size_t i = 0; i < 2; ++i)
      if (op[i] < 0 || (op[i] >= window_.strides[i] && op[i] >= window_.dilations[i]))
        error("output_padding ", format_ints(op), " must be non-negative and less than the stride ",
              format_ints({window_.strides[0], window_.strides[1]}), " or the dilation ",
              format_ints({window_.dilations[0], window_.dilations[1]}));
    output_shape_ = reader.get_ints("output_shape", {});
    if (output_shape_.size() == 4) output_shape_.erase(output_shape_.begin(), output_shape_.begin() + 2);
    if (!output_shape_.empty() &&
        (output_shape_.size() != 2 || output_shape_[0] < 1 || output_shape_[1] < 1 ||
         output_shape_[0] > kMaxWindowAttribute || output_shape_[1] > kMaxWindowAttribute))
      error("output_shape must be 2 positive extents [H, W] (or [N, C, H, W]) of at most ",
            kMaxWindowAttribute, ", got ",
            format_ints(reader.get_ints("output_shape", {})));

    read_weights(constants, "[C, M/group, kH, kW]", "input channels",
                 [](const Tensor& w, int64_t group) { return w.dim(1) * group; });
  }

 private:
  struct Plan {
    int64_t n = 0, c = 0, h = 0, w = 0;  // input
    int64_t m = 0, group = 1, cg = 0, mg = 0, kh = 0, kw = 0;
    Window2d win;  // win.*.input: output extent; win.*.output: input extent
    int64_t out_h() const { return win.h.input; }
    int64_t out_w() const { return win.w.input; }
    Shape output_shape() const { return {n, m, out_h(), out_w()}; }
    ColumnGeometry columns() const { return {mg, kh, kw, win}; }
  };

  Plan plan(const Shape& x) const {
    require_nchw(x, *this, "input X");
    Plan p;
    p.n = x[0];
    p.c = x[1];
    p.h = x[2];
    p.w = x[3];
    p.group = group_;
    p.cg = weight_.dim(0) / group_;
    p.mg = weight_.dim(1);
    p.m = p.mg * group_;
    p.kh = weight_.dim(2);
    p.kw = weight_.dim(3);
    if (p.c != weight_.dim(0))
      error("input X has ", p.c, " channels but weight W ", weight_.shape().str(), " expects ",
            weight_.dim(0));
    p.win = plan_transposed_window_2d(window_, p.h, p.w, p.kh, p.kw, output_padding_,
                                      output_shape_, *this);
    return p;
  }

  // y = (B +) col2im(W[g]ᵀ · x[g]) per batch item and group g; col is Mg·kH·kW × H·W scratch.
  void transpose_convolve(const Plan& p, const float* x, float* col, float* y, bool with_bias) const {
    const ColumnGeometry geo = p.columns();
    const int64_t out_plane = p.out_h() * p.out_w();
    for (int64_t n = 0; n < p.n; ++n) {
      for (int64_t g = 0; g < p.group; ++g) {
        const float* xg = x + (n * p.c + g * p.cg) * p.h * p.w;
        float* yg = y + (n * p.m + g * p.mg) * out_plane;
        for (int64_t r = 0; r < p.mg; ++r)
          std::fill(yg + r * out_plane, yg + (r + 1) * out_plane,
                    with_bias && !bias_.empty() ? bias_[g * p.mg + r] : 0.f);
        gemm(p.mg * p.kh * p.kw, p.h * p.w, p.cg, group_weight(p, g), true, xg, false, col, false);
        col2im_add(geo, col, yg);
      }
    }
  }

  // Linear in x: the tangent is the transposed convolution of ẋ without the bias.
  bool has_tangent() const override { return true; }
  void tangent(TangentContext& ctx) const override {
    const Plan p = plan(ctx.input(0).shape());
    Tensor yt = ctx.alloc(p.output_shape());
    const Tensor xt = ctx.input_tangent_or_zero(0);
    transpose_convolve(p, xt.data(), ctx.alloc({p.mg * p.kh * p.kw, p.h * p.w}).data(), yt.data(), false);
    ctx.set_tangent(yt);
  }

  // W[g]: rows g·Cg .. (g+1)·Cg of W viewed as C × (Mg·kH·kW).
  const float* group_weight(const Plan& p, int64_t g) const {
    return weight_.data() + g * p.cg * p.mg * p.kh * p.kw;
  }

  void backward(BackwardContext& ctx) const override {
    if (!ctx.needs_grad(0)) return;
    const Plan p = plan(ctx.input(0).shape());
    const float* gy = ctx.grad_output().data();
    float* dx = ctx.grad_buffer(0).data();
    const ColumnGeometry geo = p.columns();
    const int64_t out_plane = p.out_h() * p.out_w();
    Tensor col = ctx.alloc({geo.col_rows(), geo.col_cols()});
    for (int64_t n = 0; n < p.n; ++n) {
      for (int64_t g = 0; g < p.group; ++g) {
        im2col(geo, gy + (n * p.m + g * p.mg) * out_plane, col.data());
        gemm(p.cg, p.h * p.w, p.mg * p.kh * p.kw, group_weight(p, g), false, col.data(), false,
             dx + (n * p.c + g * p.cg) * p.h * p.w, true);
      }
    }
  }

  std::array<int64_t, 2> output_padding_{0, 0};
  std::vector<int64_t> output_shape_;
};

}  // namespace gradlens

GRADLENS_REGISTER_LAYER(ConvTranspose, gradlens::ConvTranspose)
