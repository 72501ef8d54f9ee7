// Where (ONNX operators §Where, opsets 9/16): y = condition ? X : Y elementwise, the three
// operands broadcast together by numpy rules. A float condition counts as true when nonzero.
// Backward: the gradient goes to the selected branch, ∂X = g·[cond] and ∂Y = g·[¬cond], each
// summed back over the axes it was broadcast along; the condition gets none. Folded exactly when
// X and Y are integer constants. Tangent: the selected branch's ẋ (no curvature).
#include "engine/hessian.h"
#include "layers/shape_util.h"

namespace gradlens {

class Where : public Layer {
 public:
  std::vector<Shape> infer(const std::vector<Shape>& in) const override {
    if (in.size() != 3) error("expected 3 inputs, got ", in.size());
    return {output_shape(in[0], in[1], in[2])};
  }

  void forward(Tape& tape, const std::vector<Var>& in, std::vector<Var>& out) const override {
    const Tensor &c = in[0].value(), &x = in[1].value(), &yv = in[2].value();
    const Shape os = output_shape(c.shape(), x.shape(), yv.shape());
    const int64_t n = os.numel();
    // Source offset per output element: >= 0 into X, < 0 encodes −1 − offset into Y.
    int64_t* m = reinterpret_cast<int64_t*>(tape.alloc(Shape{2 * n}).data());
    Tensor y = tape.alloc(os);
    const auto sc = strides_of(c.shape()), sx = strides_of(x.shape()), sy = strides_of(yv.shape());
    for_each_index(os, [&](int64_t i, const int64_t* o) {
      if (c[broadcast_offset(o, os.rank(), c.shape(), sc)] != 0.f) {
        m[i] = broadcast_offset(o, os.rank(), x.shape(), sx);
        y[i] = x[m[i]];
      } else {
        const int64_t j = broadcast_offset(o, os.rank(), yv.shape(), sy);
        m[i] = -1 - j;
        y[i] = yv[j];
      }
    });
    out[0] = tape.record(info(), {in[0], in[1], in[2]}, y, [m, n](BackwardContext& ctx) {
      const float* g = ctx.grad_output().data();
      const bool gx = ctx.needs_grad(1), gy = ctx.needs_grad(2);
      float* dx = gx ? ctx.grad_buffer(1).data() : nullptr;
      float* dy = gy ? ctx.grad_buffer(2).data() : nullptr;
      for (int64_t i = 0; i < n; ++i) {
        if (m[i] >= 0) {
          if (gx) dx[m[i]] += g[i];
        } else if (gy) {
          dy[-1 - m[i]] += g[i];
        }
      }
    }, [m, n](TangentContext& ctx) {
      const float* tx = ctx.has_tangent(1) ? ctx.input_tangent(1).data() : nullptr;
      const float* ty = ctx.has_tangent(2) ? ctx.input_tangent(2).data() : nullptr;
      Tensor yt = ctx.alloc(ctx.output().shape());
      for (int64_t i = 0; i < n; ++i)
        yt[i] = m[i] >= 0 ? (tx ? tx[m[i]] : 0.f) : (ty ? ty[-1 - m[i]] : 0.f);
      ctx.set_tangent(yt);
    });
  }

  std::vector<Initializer> fold(const std::vector<const Initializer*>& in) const override {
    const Initializer &c = *in[0], &x = *in[1], &yv = *in[2];
    const Shape &cs = c.value.shape(), &xs = x.value.shape(), &ys = yv.value.shape();
    const Shape os = output_shape(cs, xs, ys);
    const auto sc = strides_of(cs), sx = strides_of(xs), sy = strides_of(ys);
    const bool exact = x.is_integer && yv.is_integer;
    std::vector<int64_t> iv(exact ? size_t(os.numel()) : 0);
    Tensor fv(os);
    for_each_index(os, [&](int64_t i, const int64_t* o) {
      const bool take_x = c.value[broadcast_offset(o, os.rank(), cs, sc)] != 0.f;
      const Initializer& src = take_x ? x : yv;
      const int64_t off = take_x ? broadcast_offset(o, os.rank(), xs, sx)
                                 : broadcast_offset(o, os.rank(), ys, sy);
      fv[i] = src.value[off];
      if (exact) iv[size_t(i)] = src.ints[size_t(off)];
    });
    if (exact) return {int_initializer(os, std::move(iv))};
    return {Initializer(fv)};
  }

 protected:
  void parse(AttributeReader&, const std::vector<const Initializer*>&) override {
    expect_inputs(3, 3);
  }

 private:
  Shape output_shape(const Shape& c, const Shape& x, const Shape& y) const {
    try {
      return broadcast_shapes(broadcast_shapes(c, x), y);
    } catch (const Error& e) {
      error(e.what());
    }
  }
};

}  // namespace gradlens

GRADLENS_REGISTER_LAYER(Where, gradlens::Where)
