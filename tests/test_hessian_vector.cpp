// Hessian-vector products of the engine (HessianVector, engine/hessian.h, forward-over-reverse):
// - closed-form Hessians of analytic models (x0·x1, xᵀAx, exp/sin/log products, tanh, softplus,
//   exp of a linear form, softmax, log-softmax, a quotient, a cube);
// - every op's second-order rule: the tangent ẏ against central differences of the forward and
//   ġ against central differences of the gradient (fourth-order stencils, float32 engine);
// - a smooth convolutional network built with graph_builder.h against central differences of
//   its gradients, and the symmetry of the Hessian obtained;
// - errors (an op without a rule, no preceding backward) and the relu → softplus switch.
#include <cmath>
#include <functional>

#include "engine/error.h"
#include "engine/hessian.h"
#include "engine/ops.h"
#include "engine/smooth_rectifiers.h"
#include "graph_builder.h"
#include "layers/model.h"
#include "support.h"

using namespace gradlens;
using gradlens::test::bitwise_equal;
using gradlens::test::GraphBuilder;
using gradlens::test::random_tensor;
using gradlens::test::rel_l2;

namespace {

using Builder = std::function<Var(Tape&, Var)>;

Tensor scaled_sum(const Tensor& a, float sa, const Tensor& b, float sb) {
  Tensor out(a.shape());
  for (int64_t i = 0; i < a.numel(); ++i) out[i] = sa * a[i] + sb * b[i];
  return out;
}

// The output of F at x (owning).
Tensor value_at(const Builder& F, const Tensor& x) {
  Tape tape;
  Var xv = tape.input(x);
  return F(tape, xv).value().clone();
}

// ∂⟨seed, F(x)⟩/∂x.
Tensor gradient_at(const Builder& F, const Tensor& x, const Tensor& seed) {
  Tape tape;
  Var xv = tape.input(x);
  Var y = F(tape, xv);
  tape.backward(y, seed);
  return tape.grad(xv);
}

// d/dh G(x + h v) at h = 0 by the fourth-order central stencil.
Tensor directional(const std::function<Tensor(const Tensor&)>& G, const Tensor& x, const Tensor& v, float h) {
  const Tensor p2 = G(scaled_sum(x, 1.f, v, 2 * h)), p1 = G(scaled_sum(x, 1.f, v, h));
  const Tensor m1 = G(scaled_sum(x, 1.f, v, -h)), m2 = G(scaled_sum(x, 1.f, v, -2 * h));
  Tensor out(p1.shape());
  for (int64_t i = 0; i < out.numel(); ++i)
    out[i] = float((-double(p2[i]) + 8.0 * p1[i] - 8.0 * m1[i] + double(m2[i])) / (12.0 * h));
  return out;
}

struct SecondOrder {
  Tensor tangent;       // ẏ at the output
  Tensor grad_tangent;  // ġ at the input = H v
};

SecondOrder second_order(const Builder& F, const Tensor& x, const Tensor& v, const Tensor& seed) {
  Tape tape;
  Var xv = tape.input(x);
  Var y = F(tape, xv);
  tape.backward(y, seed);
  const HessianVector hv(tape, y, xv, v);
  return {hv.tangent(y), hv.grad_tangent(xv)};
}

// ‖a − b‖ / max(‖b‖, floor): relative, but an exact zero (linear ops have no curvature) must come
// out as (almost) zero.
double distance(const Tensor& a, const Tensor& b, double floor = 1e-2) {
  double e = 0, r = 0;
  for (int64_t i = 0; i < a.numel(); ++i) {
    e += (double(a[i]) - b[i]) * (double(a[i]) - b[i]);
    r += double(b[i]) * b[i];
  }
  return std::sqrt(e) / std::max(std::sqrt(r), floor);
}

// Checks ẏ and ġ of F at x along a random direction, with a random output seed.
void check_second_order(const std::string& what, const Builder& F, const Tensor& x, float h = 1e-2f,
                        double tol = 2e-3, uint64_t seed = 5) {
  INFO(what);
  const Tensor y = value_at(F, x);
  const Tensor gy = random_tensor(y.shape(), seed);
  const Tensor v = random_tensor(x.shape(), seed + 1);
  const SecondOrder s = second_order(F, x, v, gy);
  const Tensor fd_y = directional([&](const Tensor& z) { return value_at(F, z); }, x, v, h);
  const Tensor fd_g = directional([&](const Tensor& z) { return gradient_at(F, z, gy); }, x, v, h);
  const double ey = distance(s.tangent, fd_y), eg = distance(s.grad_tangent, fd_g);
  INFO("tangent error " << ey << ", gradient-tangent error " << eg);
  CHECK(ey < tol);
  CHECK(eg < tol);
}

// Values away from 0 by at least `gap` (piecewise-linear ops: no kink inside the stencil).
Tensor away_from_zero(const Shape& s, uint64_t seed, float gap = 0.2f) {
  Tensor t = random_tensor(s, seed);
  for (int64_t i = 0; i < t.numel(); ++i) t[i] = (t[i] < 0 ? -1.f : 1.f) * (gap + std::fabs(t[i]));
  return t;
}

// Full Hessian of Σ seed ⊙ F(x) for a single-row x [1, d], one hessian_vector per column.
Tensor hessian_of(const Builder& F, const Tensor& x, const Tensor& seed) {
  const int64_t d = x.numel();
  Tensor H(Shape{d, d});
  Tape tape;
  Var xv = tape.input(x);
  Var y = F(tape, xv);
  tape.backward(y, seed);
  for (int64_t i = 0; i < d; ++i) {
    Tensor e(x.shape());
    e[i] = 1.f;
    const HessianVector hv(tape, y, xv, e);
    const Tensor col = hv.grad_tangent(xv);
    for (int64_t j = 0; j < d; ++j) H[j * d + i] = col[j];
  }
  return H;
}

void check_hessian(const std::string& what, const Builder& F, const Tensor& x,
                   const std::function<double(int64_t, int64_t)>& closed_form, double tol = 2e-6) {
  INFO(what);
  const Tensor H = hessian_of(F, x, Tensor(value_at(F, x).shape(), 1.f));
  const int64_t d = x.numel();
  for (int64_t i = 0; i < d; ++i)
    for (int64_t j = 0; j < d; ++j) {
      const double want = closed_form(i, j);
      INFO("H[" << i << "," << j << "] = " << H[i * d + j] << ", closed form " << want);
      CHECK(std::fabs(H[i * d + j] - want) <= tol * std::max(1.0, std::fabs(want)));
    }
}

Var at(Var x, int64_t i) { return column(x, i); }

}  // namespace

TEST_CASE("hessian_vector: closed-form Hessians of analytic models") {
  const Tensor x(Shape{1, 3}, {0.7f, -1.3f, 0.4f});
  check_hessian("x0·x1", [](Tape&, Var v) { return at(v, 0) * at(v, 1); }, x,
                [](int64_t i, int64_t j) { return (i == 0 && j == 1) || (i == 1 && j == 0) ? 1.0 : 0.0; });

  // xᵀAx + bᵀx: H = A + Aᵀ.
  const Tensor A = random_tensor(Shape{3, 3}, 11), b = random_tensor(Shape{3, 1}, 12);
  check_hessian("quadratic form",
                [&](Tape& t, Var v) { return sum(v * matmul(v, t.constant(A)), {1}) + sum(matmul(v, t.constant(b)), {1}); },
                x, [&](int64_t i, int64_t j) { return double(A[i * 3 + j]) + A[j * 3 + i]; });

  // e^{x0} sin x1 + ln x2 (x2 > 0).
  const Tensor xp(Shape{1, 3}, {0.3f, 0.9f, 1.7f});
  const double e0 = std::exp(0.3), s1 = std::sin(0.9), c1 = std::cos(0.9);
  check_hessian("exp·sin + log", [](Tape&, Var v) { return exp(at(v, 0)) * sin(at(v, 1)) + log(at(v, 2)); }, xp,
                [&](int64_t i, int64_t j) {
                  if (i == 0 && j == 0) return e0 * s1;
                  if (i + j == 1) return e0 * c1;
                  if (i == 1 && j == 1) return -e0 * s1;
                  if (i == 2 && j == 2) return -1.0 / (1.7 * 1.7);
                  return 0.0;
                });

  // φ(a·x) has H = φ''(a·x) a aᵀ for φ = tanh, softplus_β, exp.
  const Tensor a(Shape{3, 1}, {0.5f, -1.1f, 0.8f});
  const double u = 0.5 * 0.7 + 1.1 * 1.3 + 0.8 * 0.4;
  const double th = std::tanh(u), sg = 1.0 / (1.0 + std::exp(-2.0 * u));
  const std::vector<std::pair<std::string, double>> curvatures = {
      {"tanh", -2.0 * th * (1 - th * th)}, {"softplus", 2.0 * sg * (1 - sg)}, {"exp", std::exp(u)}};
  for (const auto& [name, second] : curvatures) {
    const std::string fname = name;
    check_hessian(name + "(a·x)",
                  [&, fname](Tape& t, Var v) {
                    Var z = matmul(v, t.constant(a));
                    return fname == "tanh" ? tanh(z) : fname == "softplus" ? softplus(z, 2.f) : exp(z);
                  },
                  x, [&, second = second](int64_t i, int64_t j) { return second * a[i] * a[j]; }, 1e-5);
  }

  // softmax(x)_c: H_ij = p_c[(δ_ci − p_i)(δ_cj − p_j) − p_i(δ_ij − p_j)]; log-softmax: −(diag p − ppᵀ).
  double p[3], z = 0;
  for (int i = 0; i < 3; ++i) z += std::exp(double(x[i]));
  for (int i = 0; i < 3; ++i) p[i] = std::exp(double(x[i])) / z;
  const int c = 2;
  check_hessian("softmax", [&](Tape&, Var v) { return at(softmax(v), c); }, x, [&](int64_t i, int64_t j) {
    return p[c] * (((i == c) - p[i]) * ((j == c) - p[j]) - p[i] * ((i == j) - p[j]));
  });
  check_hessian("log-softmax", [&](Tape&, Var v) { return at(log_softmax(v), c); }, x,
                [&](int64_t i, int64_t j) { return -(p[i] * (i == j) - p[i] * p[j]); });

  // x0 / x1 and Σ x³.
  check_hessian("x0 / x1", [](Tape&, Var v) { return at(v, 0) / at(v, 1); }, x, [&](int64_t i, int64_t j) {
    const double x0 = x[0], x1 = x[1];
    if (i + j == 1) return -1.0 / (x1 * x1);
    if (i == 1 && j == 1) return 2.0 * x0 / (x1 * x1 * x1);
    return 0.0;
  });
  check_hessian("sum x^3", [](Tape&, Var v) { return sum(pow(v, 3.f), {1}); }, x,
                [&](int64_t i, int64_t j) { return i == j ? 6.0 * x[i] : 0.0; }, 1e-5);
}

TEST_CASE("hessian_vector: a batch of rows gets one Hessian-vector product per row") {
  // f(x) = Σ_rows x0·x1·x2: row r's ġ is H_r v_r with H_r built from row r's values only.
  const Tensor x = random_tensor(Shape{4, 3}, 21);
  const Tensor v = random_tensor(Shape{4, 3}, 22);
  const Builder F = [](Tape&, Var z) { return at(z, 0) * at(z, 1) * at(z, 2); };
  const SecondOrder s = second_order(F, x, v, Tensor(Shape{4, 1}, 1.f));
  for (int64_t r = 0; r < 4; ++r) {
    const float* xr = x.data() + r * 3;
    const float* vr = v.data() + r * 3;
    const double want[3] = {double(xr[2]) * vr[1] + double(xr[1]) * vr[2], double(xr[2]) * vr[0] + double(xr[0]) * vr[2],
                            double(xr[1]) * vr[0] + double(xr[0]) * vr[1]};
    for (int j = 0; j < 3; ++j) CHECK(s.grad_tangent[r * 3 + j] == doctest::Approx(want[j]).epsilon(1e-6));
  }
}

TEST_CASE("hessian_vector: each engine op's tangent and curvature against central differences") {
  const Shape s{2, 6};
  const Tensor x = random_tensor(s, 31);
  const Tensor positive = random_tensor(s, 32, 0.5f, 2.f);
  const Tensor kinked = away_from_zero(s, 33);
  // Unary.
  check_second_order("neg", [](Tape&, Var v) { return neg(v); }, x);
  check_second_order("exp", [](Tape&, Var v) { return exp(v); }, x);
  check_second_order("log", [](Tape&, Var v) { return log(v); }, positive);
  check_second_order("sqrt", [](Tape&, Var v) { return sqrt(v); }, positive);
  check_second_order("sin", [](Tape&, Var v) { return sin(v); }, x);
  check_second_order("cos", [](Tape&, Var v) { return cos(v); }, x);
  check_second_order("tanh", [](Tape&, Var v) { return tanh(v); }, x);
  check_second_order("sigmoid", [](Tape&, Var v) { return sigmoid(v); }, x);
  check_second_order("erf", [](Tape&, Var v) { return erf(v); }, x);
  check_second_order("softplus", [](Tape&, Var v) { return softplus(v); }, x);
  check_second_order("softplus beta 3", [](Tape&, Var v) { return softplus(v, 3.f); }, x);
  check_second_order("scale", [](Tape&, Var v) { return scale(v, 2.5f); }, x);
  check_second_order("hard_swish", [](Tape&, Var v) { return hard_swish(v); }, scaled_sum(x, 2.f, x, 0.f));
  check_second_order("abs", [](Tape&, Var v) { return abs(v); }, kinked, 1e-3f);
  check_second_order("relu", [](Tape&, Var v) { return relu(v); }, kinked, 1e-3f);
  check_second_order("leaky_relu", [](Tape&, Var v) { return leaky_relu(v, 0.1f); }, kinked, 1e-3f);
  check_second_order("clip", [](Tape&, Var v) { return clip(v, -2.f, 0.f); }, kinked, 1e-3f);
  check_second_order("hard_sigmoid", [](Tape&, Var v) { return hard_sigmoid(v, 0.2f, 0.5f); }, kinked, 1e-3f);
  // Binary, both operands varying (halves of x), with and without broadcasting.
  auto left = [](Var v) { return slice(v, 1, 0, 3); };
  auto right = [](Var v) { return slice(v, 1, 3, 6); };
  auto right_row = [](Var v) { return slice(slice(v, 1, 3, 6), 0, 1, 2); };  // [1, 3]
  check_second_order("add", [&](Tape&, Var v) { return left(v) + right_row(v); }, x);
  check_second_order("sub", [&](Tape&, Var v) { return left(v) - right(v); }, x);
  check_second_order("mul", [&](Tape&, Var v) { return left(v) * right(v); }, x);
  check_second_order("mul broadcast", [&](Tape&, Var v) { return left(v) * right_row(v); }, x);
  check_second_order("div", [&](Tape&, Var v) { return left(v) / right(v); }, positive);
  check_second_order("div broadcast", [&](Tape&, Var v) { return right_row(v) / left(v); }, positive);
  check_second_order("pow", [&](Tape&, Var v) { return pow(left(v), right(v)); }, positive);
  check_second_order("pow by constant", [&](Tape&, Var v) { return pow(v, 2.5f); }, positive);
  check_second_order("mul by constant", [&](Tape& t, Var v) { return v * t.constant(positive); }, x);
  check_second_order("minimum", [&](Tape&, Var v) { return minimum(left(v), right(v)); }, kinked, 1e-3f);
  check_second_order("maximum", [&](Tape&, Var v) { return maximum(left(v), right(v)); }, kinked, 1e-3f);
  // Reductions and normalisations.
  check_second_order("sum", [](Tape&, Var v) { return sum(v, {1}, true); }, x);
  check_second_order("mean", [](Tape&, Var v) { return mean(v); }, x);
  check_second_order("softmax", [](Tape&, Var v) { return softmax(v, -1); }, x);
  check_second_order("softmax axis 0", [](Tape&, Var v) { return softmax(v, 0); }, x);
  check_second_order("log_softmax", [](Tape&, Var v) { return log_softmax(v, -1); }, x);
  // Matrix products: both operands varying, broadcast batch axes, a constant operand.
  const Tensor m12 = random_tensor(Shape{12}, 34);
  check_second_order("matmul", [](Tape&, Var v) {
    return matmul(reshape(slice(v, 0, 0, 6), Shape{2, 3}), reshape(slice(v, 0, 6, 12), Shape{3, 2}));
  }, m12);
  check_second_order("matmul batched", [](Tape&, Var v) {
    return matmul(reshape(slice(v, 0, 0, 8), Shape{2, 2, 2}), reshape(slice(v, 0, 8, 12), Shape{2, 2}));
  }, m12);
  check_second_order("matmul 1-D", [](Tape&, Var v) { return matmul(slice(v, 0, 0, 3), reshape(slice(v, 0, 3, 12), Shape{3, 3})); }, m12);
  const Tensor w = random_tensor(Shape{6, 4}, 35);
  check_second_order("matmul constant", [&](Tape& t, Var v) { return matmul(v, t.constant(w)); }, x);
  // Shape ops.
  check_second_order("reshape", [](Tape&, Var v) { return reshape(v, Shape{3, 4}); }, x);
  check_second_order("slice step 2", [](Tape&, Var v) { return slice(v, 1, 1, 6, 2); }, x);
  check_second_order("concat", [&](Tape&, Var v) { return concat({left(v), exp(right(v)), left(v)}, 1); }, x);
  check_second_order("transpose", [](Tape&, Var v) { return transpose(v, {1, 0}); }, x);
  // Compositions: curvature that must flow back through linear and shape ops.
  check_second_order("tanh(x·W)·x-ish", [&](Tape& t, Var v) {
    Var h = tanh(matmul(v, t.constant(w)));
    return sum(transpose(h, {1, 0}) * transpose(slice(v, 1, 0, 4), {1, 0}), {0});
  }, x);
}

namespace {
Attribute ints(std::vector<int64_t> v) { return Attribute::of(v); }

Builder model_builder(const Model& model) {
  return [&model](Tape& t, Var v) { return model.forward(t, std::vector<Var>{v})[0]; };
}

// x → op → Tanh (so that curvature flows back through the layer), one node of type `op`.
Graph single_layer(const std::string& op, std::vector<int64_t> shape,
                   const std::function<std::string(GraphBuilder&, const std::string&)>& add) {
  GraphBuilder b(51);
  b.input("x", std::move(shape));
  std::string t = add(b, "x");
  INFO(op);
  t = b.node("Tanh", {t});
  b.output(t);
  return b.build();
}
}  // namespace

TEST_CASE("hessian_vector: layer tangent rules (Gemm, Conv, pools, BatchNorm, Slice, Pad) against central differences") {
  struct Case {
    std::string name;
    std::vector<int64_t> shape;
    std::function<std::string(GraphBuilder&, const std::string&)> add;
    bool kinked = false;
  };
  const std::vector<Case> cases = {
      {"Gemm", {2, 5}, [](GraphBuilder& b, const std::string& x) { return b.linear(x, 5, 3); }},
      {"Conv 3x3 padded", {1, 3, 5, 5},
       [](GraphBuilder& b, const std::string& x) { return b.conv(x, 3, 4, 3, {{"pads", ints({1, 1, 1, 1})}}); }},
      {"Conv 1x1", {1, 3, 4, 4}, [](GraphBuilder& b, const std::string& x) { return b.conv(x, 3, 2, 1); }},
      {"Conv depthwise", {1, 3, 5, 5},
       [](GraphBuilder& b, const std::string& x) { return b.conv(x, 3, 3, 3, {{"strides", ints({2, 2})}}, 3); }},
      {"AveragePool", {1, 2, 4, 4},
       [](GraphBuilder& b, const std::string& x) {
         return b.node("AveragePool", {x}, {{"kernel_shape", ints({2, 2})}, {"strides", ints({1, 1})}});
       }},
      {"GlobalAveragePool", {2, 3, 3, 3},
       [](GraphBuilder& b, const std::string& x) { return b.node("GlobalAveragePool", {x}); }},
      {"MaxPool", {1, 2, 4, 4},
       [](GraphBuilder& b, const std::string& x) {
         return b.node("MaxPool", {x}, {{"kernel_shape", ints({2, 2})}, {"strides", ints({2, 2})}});
       },
       true},
      {"BatchNormalization", {2, 3, 2, 2}, [](GraphBuilder& b, const std::string& x) { return b.batch_norm(x, 3); }},
      {"Slice", {2, 6},
       [](GraphBuilder& b, const std::string& x) {
         const std::string starts = b.constant("starts", Tensor(Shape{1}, {1.f}));
         return b.node("Slice", {x, starts, b.constant("ends", Tensor(Shape{1}, {5.f})),
                                 b.constant("axes", Tensor(Shape{1}, {1.f}))});
       }},
      {"PRelu", {2, 3, 2, 2},
       [](GraphBuilder& b, const std::string& x) {
         return b.node("PRelu", {x, b.weight("slope", Shape{3, 1, 1}, 0.1f, 0.4f)});
       },
       true},
      {"LayerNormalization", {2, 3, 5},
       [](GraphBuilder& b, const std::string& x) {
         return b.node("LayerNormalization", {x, b.weight("ln.scale", Shape{5}, 0.5f, 1.5f), b.weight("ln.bias", Shape{5})});
       }},
      {"LayerNormalization axis 1", {2, 3, 4},
       [](GraphBuilder& b, const std::string& x) {
         return b.node("LayerNormalization", {x, b.weight("ln.scale", Shape{3, 4}, 0.5f, 1.5f)},
                       {{"axis", Attribute::of(int64_t(1))}});
       }},
      {"InstanceNormalization", {2, 3, 2, 3},
       [](GraphBuilder& b, const std::string& x) {
         return b.node("InstanceNormalization", {x, b.weight("in.scale", Shape{3}, 0.5f, 1.5f), b.weight("in.bias", Shape{3})});
       }},
      {"ReduceMax", {2, 3, 4},
       [](GraphBuilder& b, const std::string& x) { return b.node("ReduceMax", {x}, {{"axes", ints({2})}}); }, true},
      {"ReduceMin", {2, 3, 4},
       [](GraphBuilder& b, const std::string& x) { return b.node("ReduceMin", {x}, {{"axes", ints({1})}}); }, true},
      {"ReduceL2", {2, 3, 4},
       [](GraphBuilder& b, const std::string& x) {
         return b.node("ReduceL2", {x}, {{"axes", ints({1, 2})}, {"keepdims", Attribute::of(int64_t(0))}});
       }},
      {"ReduceSumSquare", {2, 3, 4},
       [](GraphBuilder& b, const std::string& x) { return b.node("ReduceSumSquare", {x}, {{"axes", ints({2})}}); }},
      {"GlobalMaxPool", {2, 2, 3, 2}, [](GraphBuilder& b, const std::string& x) { return b.node("GlobalMaxPool", {x}); },
       true},
      {"Where", {2, 3},
       [](GraphBuilder& b, const std::string& x) {
         return b.node("Where", {b.constant("condition", Tensor(Shape{3}, {1.f, 0.f, 1.f})), x, b.node("Exp", {x})});
       }},
      {"Flatten + Softmax", {2, 2, 3},
       [](GraphBuilder& b, const std::string& x) { return b.node("Softmax", {b.node("Flatten", {x})}); }},
  };
  for (const Case& c : cases) {
    INFO(c.name);
    Graph g = single_layer(c.name, c.shape, c.add);
    // Slice's starts/ends/axes must be int64 initializers.
    for (auto& [name, init] : g.initializers)
      if (name == "starts" || name == "ends" || name == "axes")
        init = Initializer::from_ints(init.value.shape(), {int64_t(init.value[0])});
    Model model(g);
    const Shape s(c.shape);
    Tensor x = c.kinked ? Tensor(s) : random_tensor(s, 61);
    if (c.kinked)  // distinct values 0.05 apart, none at 0: no kink or arg-max switch in the stencil
      for (int64_t i = 0; i < x.numel(); ++i) x[i] = 0.05f * float((i * 7) % x.numel()) - 0.525f;
    check_second_order(c.name, model_builder(model), x, c.kinked ? 1e-3f : 1e-2f);
  }
}

TEST_CASE("hessian_vector: activation and variadic layers against central differences") {
  // Inputs at least 0.2 away from 0 (the kinks of Elu, Selu, Celu, Softsign; ThresholdedRelu's
  // step at α = 0.5 is avoided too) and from each other (Max/Min of two inputs).
  const std::vector<std::pair<std::string, std::map<std::string, Attribute>>> unary = {
      {"Elu", {{"alpha", Attribute::of(0.7f)}}}, {"Selu", {}}, {"Celu", {{"alpha", Attribute::of(1.3f)}}},
      {"Gelu", {}}, {"Gelu", {{"approximate", Attribute::of(std::string("tanh"))}}}, {"Mish", {}},
      {"Softsign", {}}, {"Reciprocal", {}}, {"ThresholdedRelu", {{"alpha", Attribute::of(0.5f)}}}};
  for (const auto& [op, attributes] : unary) {
    GraphBuilder b(91);
    b.input("x", {2, 6});
    b.output(b.node("Tanh", {b.node(op, {"x"}, attributes)}));
    Graph g = b.build();
    for (NodeDef& n : g.nodes) n.opset = 20;
    Model model(g);
    Tensor x = away_from_zero(Shape{2, 6}, 92);
    for (int64_t i = 0; i < x.numel(); ++i)
      if (std::fabs(x[i] - 0.5f) < 0.1f) x[i] += 0.2f;
    check_second_order(op, model_builder(model), x, 1e-3f);
  }
  // Sum/Mean(x, e^x, tanh x), Max/Min(x, −x): several varying inputs, distinct where x ≠ 0.
  for (const std::string op : {"Sum", "Mean", "Max", "Min"}) {
    GraphBuilder b(93);
    b.input("x", {2, 6});
    const bool extreme = op == "Max" || op == "Min";
    const std::vector<std::string> inputs =
        extreme ? std::vector<std::string>{"x", b.node("Neg", {"x"})}
                : std::vector<std::string>{"x", b.node("Exp", {"x"}), b.node("Tanh", {"x"})};
    b.output(b.node("Tanh", {b.node(op, inputs)}));
    Model model(b.build());
    check_second_order(op, model_builder(model), away_from_zero(Shape{2, 6}, 94), 1e-3f);
  }
}

TEST_CASE("hessian_vector: a smooth CNN's Hessian against central differences of its gradient, and symmetric") {
  GraphBuilder b(71);
  b.input("x", {-1, 2, 6, 6});
  std::string t = b.conv("x", 2, 4, 3, {{"pads", ints({1, 1, 1, 1})}});
  t = b.batch_norm(t, 4);
  t = b.node("Softplus", {t});
  t = b.node("MaxPool", {t}, {{"kernel_shape", ints({2, 2})}, {"strides", ints({2, 2})}});
  t = b.conv(t, 4, 4, 3, {{"pads", ints({1, 1, 1, 1})}}, 4);
  t = b.node("Tanh", {t});
  t = b.node("AveragePool", {t}, {{"kernel_shape", ints({3, 3})}, {"strides", ints({3, 3})}});
  t = b.node("Flatten", {t});
  t = b.linear(t, 4, 5);
  t = b.node("Sigmoid", {t});
  t = b.linear(t, 5, 3);
  b.output(t);
  Model model(b.build());
  const Builder F = model_builder(model);
  const Tensor x = random_tensor(Shape{1, 2, 6, 6}, 72, -3.f, 3.f);
  const Tensor seed(Shape{1, 3}, {0.f, 1.f, 0.f});
  const Tensor H = hessian_of(F, x, seed);
  const int64_t d = x.numel();
  Tensor fd(Shape{d, d});
  for (int64_t i = 0; i < d; ++i) {
    Tensor e(x.shape());
    e[i] = 1.f;
    const Tensor col = directional([&](const Tensor& z) { return gradient_at(F, z, seed); }, x, e, 1e-2f);
    for (int64_t j = 0; j < d; ++j) fd[j * d + i] = col[j];
  }
  const double err = rel_l2(H, fd);
  double asym = 0, norm = 0;
  for (int64_t i = 0; i < d; ++i)
    for (int64_t j = 0; j < d; ++j) {
      asym = std::max(asym, std::fabs(double(H[i * d + j]) - H[j * d + i]));
      norm = std::max(norm, std::fabs(double(H[i * d + j])));
    }
  MESSAGE("smooth CNN Hessian (72x72): rel. L2 vs central differences " << err << ", max asymmetry "
                                                                        << asym / norm << " of max |H|");
  CHECK(norm > 1e-4);  // not degenerate
  CHECK(err < 1e-3);
  CHECK(asym < 1e-5 * norm);
}

TEST_CASE("hessian_vector: errors and the relu-as-softplus switch") {
  GraphBuilder b(81);
  b.input("x", {-1, 4});
  std::string t = b.linear("x", 4, 3);
  t = b.node("Einsum", {t, t}, {{"equation", Attribute::of(std::string("ni,ni->n"))}}, "einsum_1");
  b.output(t);
  Model model(b.build());
  const Builder F = model_builder(model);
  Tape tape;
  Var x = tape.input(random_tensor(Shape{2, 4}, 82));
  Var y = F(tape, x);
  CHECK_THROWS_WITH_AS(HessianVector(tape, y, x, Tensor(Shape{2, 4})),
                       doctest::Contains("run backward() of the same output first"), Error);
  tape.backward(y, Tensor(Shape{2}, 1.f));
  CHECK_THROWS_WITH_AS(HessianVector(tape, y, x, Tensor(Shape{2, 4})),
                       doctest::Contains("op Einsum (node 'einsum_1') has no second-derivative rule"), Error);
  CHECK_THROWS_AS(HessianVector(tape, y, x, Tensor(Shape{2, 5})), Error);

  // relu records softplus(x; β) inside a SmoothRectifiers scope (nested scopes restore the outer
  // β), and relu again after it ends.
  Tape t2;
  const Tensor v(Shape{4}, {-1.f, 0.f, 0.3f, 2.f});
  Var a, r;
  {
    const SmoothRectifiers smooth(4.f);
    {
      const SmoothRectifiers off(0.f);
      CHECK(smooth_rectifier_beta() == 0.f);
    }
    CHECK(smooth_rectifier_beta() == 4.f);
    a = relu(t2.input(v));
  }
  CHECK(smooth_rectifier_beta() == 0.f);
  r = relu(t2.input(v));
  for (int64_t i = 0; i < 4; ++i) {
    CHECK(a.value()[i] == doctest::Approx(std::log1p(std::exp(4.0 * v[i])) / 4.0).epsilon(1e-6));
    CHECK(r.value()[i] == std::max(v[i], 0.f));
  }
  CHECK(t2.info(a).op == "Relu");

  // Cast to float16 rounds the values; its gradient and tangent pass straight through.
  GraphBuilder cb(84);
  cb.input("x", {1, 3});
  cb.output(cb.node("Cast", {"x"}, {{"to", Attribute::of(int64_t(10))}}));
  Model cast_model(cb.build());
  Tape t3;
  Var cx = t3.input(Tensor(Shape{1, 3}, {0.1f, 0.2f, 0.3f}));
  Var cy = model_builder(cast_model)(t3, cx);
  t3.backward(cy, Tensor(Shape{1, 3}, 1.f));
  const Tensor direction(Shape{1, 3}, {1.f, -2.f, 0.5f});
  const HessianVector hv(t3, cy, cx, direction);
  CHECK(bitwise_equal(hv.tangent(cy), direction));
  CHECK_THROWS_AS(SmoothRectifiers(-1.f), Error);
  CHECK(smooth_rectifier_beta() == 0.f);
}
