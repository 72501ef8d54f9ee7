// PRelu (ONNX operators §PRelu, opsets 1/6/7/9/16): y = x for x >= 0, slope·x for x < 0, slope
// broadcast unidirectionally to x (numpy rules; PyTorch exports [C, 1, 1] for NCHW or a single
// value). slope must be a constant (a weight). Opset 1 carried the legacy consumed_inputs
// attribute (accepted, unused). Before opset 7 (no numpy broadcasting yet) a 1-D slope of C values
// is per channel, axis 1 (PyTorch's exports at opset 6 rely on it): it is read as [C, 1, ..., 1].
// Backward: ∂x = g for x >= 0, slope·g for x < 0 (the plain derivative, like LeakyRelu). Tangent:
// the same map of ẋ; piecewise linear, so no curvature term.
#include "engine/broadcast.h"
#include "engine/hessian.h"
#include "layers/op_util.h"

namespace gradlens {

class PRelu : public Layer {
 public:
  std::vector<Shape> infer(const std::vector<Shape>& in) const override {
    if (in.empty()) error("expected 2 inputs, got 0");
    check_shape(in[0]);
    return {in[0]};
  }

  void forward(Tape& tape, const std::vector<Var>& in, std::vector<Var>& out) const override {
    const Tensor& x = in[0].value();
    check_shape(x.shape());
    Tensor y = tape.alloc(x.shape());
    const float* px = x.data();
    const float* ps = slope_.data();
    float* py = y.data();
    BroadcastPlan(x.shape(), slope_shape(x.shape()), x.shape())
        .for_each([&](int64_t o, int64_t ia, int64_t ib, int64_t n, int64_t sa, int64_t sb) {
          for (int64_t j = 0; j < n; ++j) {
            const float v = px[ia + j * sa];
            py[o + j] = v >= 0.f ? v : ps[ib + j * sb] * v;
          }
        });
    out[0] = tape.record(info(), {in[0]}, y, [this](BackwardContext& ctx) {
      if (!ctx.needs_grad(0)) return;
      const Tensor& xv = ctx.input(0);
      const float* px = xv.data();
      const float* pg = ctx.grad_output().data();
      const float* ps = slope_.data();
      Tensor dx = ctx.alloc(xv.shape());
      float* pd = dx.data();
      BroadcastPlan(xv.shape(), slope_shape(xv.shape()), xv.shape())
          .for_each([&](int64_t o, int64_t ia, int64_t ib, int64_t n, int64_t sa, int64_t sb) {
            for (int64_t j = 0; j < n; ++j)
              pd[o + j] = px[ia + j * sa] >= 0.f ? pg[o + j] : ps[ib + j * sb] * pg[o + j];
          });
      ctx.accumulate_fresh(0, dx);
    }, [this](TangentContext& ctx) {
      const Tensor& xv = ctx.input(0);
      const float* px = xv.data();
      const float* pt = ctx.input_tangent(0).data();
      const float* ps = slope_.data();
      Tensor yt = ctx.alloc(xv.shape());
      float* py = yt.data();
      BroadcastPlan(xv.shape(), slope_shape(xv.shape()), xv.shape())
          .for_each([&](int64_t o, int64_t ia, int64_t ib, int64_t n, int64_t sa, int64_t sb) {
            for (int64_t j = 0; j < n; ++j)
              py[o + j] = px[ia + j * sa] >= 0.f ? pt[o + j] : ps[ib + j * sb] * pt[o + j];
          });
      ctx.set_tangent(yt);
    });
  }

 protected:
  void parse(AttributeReader& a, const std::vector<const Initializer*>& c) override {
    expect_inputs(2, 2);
    accept_consumed_inputs(a, node_);
    slope_ = constant_input(c, 1, "slope").value.clone();
  }

 private:
  void check_shape(const Shape& x) const {
    if (per_channel_legacy_slope(x)) return;
    bool ok;
    try {
      ok = broadcast_shapes(x, slope_.shape()) == x;
    } catch (const Error&) {
      ok = false;
    }
    if (!ok)
      error("slope of shape ", slope_.shape().str(), " does not broadcast to input X of shape ",
            x.str());
  }

  // Opset < 7: a 1-D slope of x.dim(1) values applies along the channel axis.
  bool per_channel_legacy_slope(const Shape& x) const {
    return node_.opset < 7 && slope_.rank() == 1 && x.rank() > 2 && slope_.dim(0) == x[1] && x[1] > 1;
  }
  // The slope as the kernels broadcast it against x.
  Shape slope_shape(const Shape& x) const {
    if (!per_channel_legacy_slope(x)) return slope_.shape();
    Shape s;
    for (int i = 0; i < x.rank() - 1; ++i) s.push_back(i == 0 ? x[1] : 1);
    return s;
  }

  Tensor slope_;
};

}  // namespace gradlens

GRADLENS_REGISTER_LAYER(PRelu, gradlens::PRelu)
