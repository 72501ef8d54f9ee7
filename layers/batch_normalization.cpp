// BatchNormalization (ONNX operators §BatchNormalization, opsets 1/6/7/9/14/15), inference only:
//   y = γ (x − μ) / √(σ² + ε) + β = s · x + t,   s = γ / √(σ² + ε),   t = β − γ μ / √(σ² + ε)
// per channel (axis 1) of x [N, C, D1, ...]. Backward: ∂x = g · s (per channel); tangent
// ẏ = s · ẋ (affine: no curvature term).
// One node is recorded, whose NodeInfo::bias is t shaped [C, 1, ..., 1] for the input's rank (a
// view per rank is kept, so the pointer stays valid for the run).
// Inputs scale γ, B β, mean μ, var σ² must be constant [C] tensors. Attributes: epsilon (1e-5),
// momentum (training only; accepted and unused), spatial (opsets < 9; only 1, the default, is
// supported), is_test (opsets < 7; an explicit 0 asks for training and is rejected),
// training_mode (opsets >= 14; 1 is rejected). The training-only outputs must be absent.
#include <array>
#include <cmath>

#include "engine/hessian.h"
#include "engine/parallel.h"
#include "layers/op_util.h"

namespace gradlens {

class BatchNormalization : public Layer {
 public:
  std::vector<Shape> infer(const std::vector<Shape>& in) const override {
    if (in.empty()) error("expected 5 inputs, got 0");
    check_input(in[0]);
    return {in[0]};
  }

  void forward(Tape& tape, const std::vector<Var>& in, std::vector<Var>& out) const override {
    const Tensor& x = in[0].value();
    check_input(x.shape());
    const int64_t C = channels(), N = x.dim(0);
    const int64_t inner = N * C != 0 ? x.numel() / (N * C) : 0;
    Tensor y = tape.alloc(x.shape());
    const float* px = x.data();
    float* py = y.data();
    const float* s = scale_.data();
    const float* t = shift_.data();
    parallel_for(N * C, [&](int64_t plane) {
      const int64_t c = plane % C;
      const float* xi = px + plane * inner;
      float* yi = py + plane * inner;
      for (int64_t j = 0; j < inner; ++j) yi[j] = s[c] * xi[j] + t[c];
    }, 16);
    const BatchNormalization* self = this;
    out[0] = tape.record(info(0, &bias_views_[size_t(x.rank())]), {in[0]}, y,
                         [self, C, inner](BackwardContext& ctx) {
      if (!ctx.needs_grad(0)) return;
      const Tensor& g = ctx.grad_output();
      Tensor dx = ctx.alloc(g.shape());
      const int64_t planes = inner ? g.numel() / inner : 0;
      const float* pg = g.data();
      float* pd = dx.data();
      const float* s = self->scale_.data();
      parallel_for(planes, [&](int64_t plane) {
        const float sc = s[plane % C];
        for (int64_t j = 0; j < inner; ++j) pd[plane * inner + j] = sc * pg[plane * inner + j];
      }, 16);
      ctx.accumulate_fresh(0, dx);
    }, [self, C, inner](TangentContext& ctx) {
      const Tensor& xt = ctx.input_tangent(0);
      Tensor yt = ctx.alloc(xt.shape());
      const int64_t planes = inner ? xt.numel() / inner : 0;
      const float* pt = xt.data();
      float* py = yt.data();
      const float* s = self->scale_.data();
      parallel_for(planes, [&](int64_t plane) {
        const float sc = s[plane % C];
        for (int64_t j = 0; j < inner; ++j) py[plane * inner + j] = sc * pt[plane * inner + j];
      }, 16);
      ctx.set_tangent(yt);
    });
  }

 protected:
  void parse(AttributeReader& a, const std::vector<const Initializer*>& c) override {
    expect_inputs(5, 5);
    accept_consumed_inputs(a, node_);
    const float epsilon = a.get_float("epsilon", 1e-5f);
    if (!(epsilon >= 0.f)) error("epsilon must be >= 0, got ", epsilon);
    a.get_float("momentum", 0.9f);  // running-statistics update: training only
    if (node_.opset < 9) {
      const int64_t spatial = a.get_int("spatial", 1);
      if (spatial != 1)
        error("spatial = ", spatial, " (per-element statistics) is not supported, only 1");
    }
    if (node_.opset < 7 && a.has("is_test") && a.get_int("is_test", 1) == 0)
      error("is_test = 0 asks for training mode; only inference is supported");
    if (node_.opset < 7) a.ignore("is_test");
    if (node_.opset >= 14 && a.get_int("training_mode", 0) != 0)
      error("training_mode = 1 is not supported; only inference is");
    for (size_t k = 1; k < node_.outputs.size(); ++k)
      if (!node_.outputs[k].empty())
        error("output ", k, " ('", node_.outputs[k], "') exists only in training mode");

    const char* names[4] = {"scale", "B", "mean", "var"};
    const Tensor* p[4];
    for (size_t k = 0; k < 4; ++k) {
      p[k] = &constant_input(c, k + 1, names[k]).value;
      if (p[k]->rank() != 1)
        error(names[k], " must be 1-D [C], got shape ", p[k]->shape().str());
      if (p[k]->numel() != p[0]->numel())
        error(names[k], " has ", p[k]->numel(), " channels, scale has ", p[0]->numel());
    }
    const int64_t C = p[0]->numel();
    scale_ = Tensor(Shape{C});
    shift_ = Tensor(Shape{C});
    for (int64_t i = 0; i < C; ++i) {
      const double var = (*p[3])[i];
      if (!(var + epsilon > 0.0)) error("var + epsilon must be positive, channel ", i, " has ", var);
      const double inv = 1.0 / std::sqrt(var + double(epsilon));
      scale_[i] = float(double((*p[0])[i]) * inv);
      shift_[i] = float(double((*p[1])[i]) - double((*p[0])[i]) * double((*p[2])[i]) * inv);
    }
    for (int r = 2; r <= kMaxRank; ++r) {
      Shape s{C};
      while (s.rank() < r - 1) s.push_back(1);
      bias_views_[size_t(r)] = shift_.reshaped(s);
    }
  }

 private:
  int64_t channels() const { return scale_.numel(); }
  void check_input(const Shape& x) const {
    if (x.rank() < 2) error("input must be [N, C, ...], got shape ", x.str());
    if (x[1] != channels())
      error("input ", x.str(), " has ", x[1], " channels, the parameters have ", channels());
  }

  Tensor scale_, shift_;  // s and t, [C]
  std::array<Tensor, kMaxRank + 1> bias_views_;
};

}  // namespace gradlens

GRADLENS_REGISTER_LAYER(BatchNormalization, gradlens::BatchNormalization)
