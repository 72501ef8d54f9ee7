// GlobalMaxPool (ONNX operators §GlobalMaxPool): X [N, C, D1, ..., Dk] (k >= 1) →
// Y [N, C, 1, ..., 1], y[n, c] = max over the spatial axes of x[n, c].
// Backward: dx[n, c, argmax] += g[n, c], the arg-max being the first maximum in memory order at
// ties (NaN wins), recomputed from x. One task per (n, c) plane.
// Tangent: ẏ[n, c] = ẋ[n, c, argmax]; piecewise linear, so no curvature term.
#include <cmath>

#include "engine/hessian.h"
#include "engine/parallel.h"
#include "layers/layer.h"
#include "layers/pool_geometry.h"

namespace gradlens {

class GlobalMaxPool : public Layer {
 public:
  std::vector<Shape> infer(const std::vector<Shape>& inputs) const override {
    if (inputs.empty()) error("expected input X");
    return {output_shape(inputs[0])};
  }

  void forward(Tape& tape, const std::vector<Var>& in, std::vector<Var>& out) const override {
    const Tensor& x = in[0].value();
    Tensor y = tape.alloc(output_shape(x.shape()));
    const int64_t planes = x.dim(0) * x.dim(1), size = plane_size(x.shape());
    parallel_for(planes, [&](int64_t p) {
      const float* xp = x.data() + p * size;
      y[p] = xp[argmax(xp, size)];
    }, min_parallel_tasks(size));
    out[0] = tape.record(info(), {in[0]}, y, [](BackwardContext& ctx) {
      if (!ctx.needs_grad(0)) return;
      const Tensor& x = ctx.input(0);
      const Tensor& g = ctx.grad_output();
      float* dx = ctx.grad_buffer(0).data();
      const int64_t planes = x.dim(0) * x.dim(1), size = plane_size(x.shape());
      parallel_for(planes, [&](int64_t p) {
        const float* xp = x.data() + p * size;
        dx[p * size + argmax(xp, size)] += g[p];
      }, min_parallel_tasks(size));
    }, [](TangentContext& ctx) {
      const Tensor& x = ctx.input(0);
      const float* pt = ctx.input_tangent(0).data();
      Tensor yt = ctx.alloc(ctx.output().shape());
      const int64_t planes = x.dim(0) * x.dim(1), size = plane_size(x.shape());
      parallel_for(planes, [&](int64_t p) {
        yt[p] = pt[p * size + argmax(x.data() + p * size, size)];
      }, min_parallel_tasks(size));
      ctx.set_tangent(yt);
    });
  }

 protected:
  void parse(AttributeReader&, const std::vector<const Initializer*>&) override {
    expect_inputs(1, 1);
  }

 private:
  Shape output_shape(const Shape& x) const {
    if (x.rank() < 3) error("input X must be [N, C, D1, ...] with spatial axes, got ", x.str());
    for (int i = 2; i < x.rank(); ++i)
      if (x[i] == 0) error("input X has an empty spatial axis: ", x.str());
    Shape y = x;
    for (int i = 2; i < y.rank(); ++i) y[i] = 1;
    return y;
  }

  static int64_t plane_size(const Shape& x) {
    int64_t s = 1;
    for (int i = 2; i < x.rank(); ++i) s *= x[i];
    return s;
  }

  static int64_t argmax(const float* v, int64_t n) {
    int64_t best = 0;
    for (int64_t i = 1; i < n; ++i)
      if (v[i] > v[best] || (std::isnan(v[i]) && !std::isnan(v[best]))) best = i;
    return best;
  }
};

}  // namespace gradlens

GRADLENS_REGISTER_LAYER(GlobalMaxPool, gradlens::GlobalMaxPool)
