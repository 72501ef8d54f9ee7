// The analytic model catalogue. Closed forms, per example (Δ = x − x′, straight path
// γ(t) = x′ + tΔ, integrated gradients IGᵢ = Δᵢ ∫₀¹ ∂ᵢf(γ(t)) dt, Sundararajan et al. 2017 §3):
//   gradient ∇f(x); saliency |∇f(x)|; input-x-gradient x ⊙ ∇f(x); integrated-gradients as below.
// ReLU's derivative at 0 is 0 (the engine's convention), so f = 1 − relu(1 − x) has slope 0 at 1.
#include "attribution/axioms/analytic_models.h"

#include <algorithm>
#include <cmath>

#include "engine/error.h"
#include "engine/ops.h"

namespace gradlens {

namespace {

using Vec = std::vector<double>;
using GradientForm = std::function<Vec(const Vec& x, int64_t target)>;

double sigma(double s) { return 1.0 / (1.0 + std::exp(-s)); }

// Length of {t ∈ [0, 1] : z0 + t·s > 0} (exact for a linear pre-activation on the path).
double active_fraction(double z0, double s) {
  if (s == 0) return z0 > 0 ? 1.0 : 0.0;
  const double root = -z0 / s;  // where the pre-activation crosses 0
  if (s > 0) return 1.0 - std::clamp(root, 0.0, 1.0);
  return std::clamp(root, 0.0, 1.0);
}

// The three gradient-derived closed forms from ∇f.
void add_gradient_forms(std::map<std::string, ClosedForm>& forms, const std::string& gradient_formula,
                        const GradientForm& g) {
  forms["gradient"] = {gradient_formula, [g](const Vec& x, const Vec&, int64_t t) { return g(x, t); }};
  forms["saliency"] = {"|" + gradient_formula + "|", [g](const Vec& x, const Vec&, int64_t t) {
                         Vec v = g(x, t);
                         for (double& e : v) e = std::fabs(e);
                         return v;
                       }};
  forms["input-x-gradient"] = {"x ⊙ " + gradient_formula, [g](const Vec& x, const Vec&, int64_t t) {
                                 Vec v = g(x, t);
                                 for (size_t i = 0; i < v.size(); ++i) v[i] *= x[i];
                                 return v;
                               }};
}

// ---- the models ---------------------------------------------------------------------------

// f = 1 − relu(1 − x): the IG paper's (§2.1) counterexample to sensitivity for gradients.
AnalyticModel one_minus_relu() {
  AnalyticModel m{"one-minus-relu", "f(x) = 1 − relu(1 − x) = min(x, 1)",
                  "Sundararajan et al. 2017 §2.1: from x′ = 0 to x = 2 the output changes by 1, yet the "
                  "gradient at x is 0 (the function is flat there): gradient and input-x-gradient violate "
                  "sensitivity (a); integrated gradients gives the whole change 1",
                  1, 1, {2.f}, {0.f},
                  LambdaFunction([](Tape&, Var x) { return 1.f - relu(1.f - x); }), {}, {}, -1, {}};
  add_gradient_forms(m.closed_forms, "[x < 1]", [](const Vec& x, int64_t) { return Vec{x[0] < 1 ? 1.0 : 0.0}; });
  m.twins.push_back({"min(x, 1) with the engine's minimum",
                      LambdaFunction([](Tape& t, Var x) { return minimum(x, scalar(t, 1.f)); })});
  m.closed_forms["integrated-gradients"] = {
      "f(x) − f(x′) = min(x, 1) − min(x′, 1) (one feature: the whole change)",
      [](const Vec& x, const Vec& b, int64_t) { return Vec{std::min(x[0], 1.0) - std::min(b[0], 1.0)}; }};
  return m;
}

// min(x₀, x₁) with ties split in halves (engine minimum, as torch.minimum); equal to
// x₀ − relu(x₀ − x₁) away from x₀ = x₁.
AnalyticModel min_model() {
  AnalyticModel m{"min", "f(x) = min(x₀, x₁) = x₀ − relu(x₀ − x₁) (ties: gradient split in halves)",
                  "Sundararajan et al. 2017 §2.1 / §3: a kink along the diagonal; symmetric in x₀, x₁. "
                  "On a straight path each feature is credited for the part of the path where it is the "
                  "smaller one",
                  2, 1, {3.f, 1.f}, {0.f, 0.f},
                  LambdaFunction([](Tape&, Var x) { return minimum(column(x, 0), column(x, 1)); }), {}, {0, 1}, -1, {}};
  // At ties relu'(0) = 0 gives (1, 0) where the minimum gives (½, ½): the twins differ there only.
  m.twins.push_back({"x₀ − relu(x₀ − x₁)", LambdaFunction([](Tape&, Var x) {
                       return column(x, 0) - relu(column(x, 0) - column(x, 1));
                     })});
  add_gradient_forms(m.closed_forms, "(e₀ if x₀ < x₁, e₁ if x₁ < x₀, (½, ½) at ties)", [](const Vec& x, int64_t) {
    if (x[0] == x[1]) return Vec{0.5, 0.5};
    return x[0] < x[1] ? Vec{1.0, 0.0} : Vec{0.0, 1.0};
  });
  m.closed_forms["integrated-gradients"] = {
      "IGᵢ = Δᵢ·|{t ∈ [0,1] : γᵢ(t) is the smaller}| (ties count half)", [](const Vec& x, const Vec& b, int64_t) {
        // d(t) = γ₀(t) − γ₁(t) = d0 + t·s: feature 0 is the smaller where d < 0.
        const double d0 = b[0] - b[1], s = (x[0] - x[1]) - d0;
        double p0;  // share of the path where feature 0 is the minimum
        if (s == 0) p0 = d0 < 0 ? 1.0 : d0 > 0 ? 0.0 : 0.5;
        else p0 = active_fraction(-d0, -s);
        return Vec{(x[0] - b[0]) * p0, (x[1] - b[1]) * (1 - p0)};
      }};
  return m;
}

AnalyticModel product() {
  AnalyticModel m{"product", "f(x) = x₀·x₁",
                  "the simplest interaction, symmetric in x₀, x₁: from x′ = 0 integrated gradients splits "
                  "f(x) equally, x₀x₁/2 each, while input-x-gradient gives x₀x₁ to each (sum 2f)",
                  2, 1, {2.f, 3.f}, {0.f, 0.f},
                  LambdaFunction([](Tape&, Var x) { return column(x, 0) * column(x, 1); }), {}, {0, 1}, -1, {}};
  m.twins.push_back({"((x₀ + x₁)² − (x₀ − x₁)²)/4", LambdaFunction([](Tape&, Var x) {
                       Var s = column(x, 0) + column(x, 1), d = column(x, 0) - column(x, 1);
                       return (s * s - d * d) * 0.25f;
                     })});
  add_gradient_forms(m.closed_forms, "(x₁, x₀)", [](const Vec& x, int64_t) { return Vec{x[1], x[0]}; });
  m.closed_forms["integrated-gradients"] = {
      "(Δ₀(x′₁ + Δ₁/2), Δ₁(x′₀ + Δ₀/2))", [](const Vec& x, const Vec& b, int64_t) {
        const double d0 = x[0] - b[0], d1 = x[1] - b[1];
        return Vec{d0 * (b[1] + d1 / 2), d1 * (b[0] + d0 / 2)};
      }};
  return m;
}

// Q is not symmetric on purpose: only Q + Qᵀ matters.
const Tensor kQ(Shape{3, 3}, {2.f, 1.f, 0.f, -1.f, 1.f, 0.5f, 0.f, 0.5f, -1.f});
Vec q_sym_times(const Vec& v) {  // (Q + Qᵀ) v
  Vec out(3, 0.0);
  for (int i = 0; i < 3; ++i)
    for (int j = 0; j < 3; ++j) out[size_t(i)] += (double(kQ[i * 3 + j]) + double(kQ[j * 3 + i])) * v[size_t(j)];
  return out;
}

AnalyticModel quadratic() {
  AnalyticModel m{"quadratic", "f(x) = xᵀQx, Q = [[2, 1, 0], [−1, 1, 0.5], [0, 0.5, −1]]",
                  "a quadratic form: the gradient is linear, so integrated gradients is exact with two "
                  "Gauss-Legendre nodes and equals Δ ⊙ (Q + Qᵀ)(x′ + Δ/2)",
                  3, 1, {1.f, -2.f, 0.5f}, {0.f, 0.f, 0.f},
                  LambdaFunction([](Tape& t, Var x) {
                    return sum(x * matmul(x, transpose(t.constant(kQ), {1, 0})), {1});
                  }),
                  {}, {}, -1, {}};
  m.twins.push_back({"xᵀ((Q + Qᵀ)/2)x, the symmetric part", LambdaFunction([](Tape& t, Var x) {
                       static const Tensor sym = [] {
                         Tensor q(Shape{3, 3});
                         for (int64_t i = 0; i < 3; ++i)
                           for (int64_t j = 0; j < 3; ++j) q[i * 3 + j] = 0.5f * (kQ[i * 3 + j] + kQ[j * 3 + i]);
                         return q;
                       }();
                       return sum(x * matmul(x, t.constant(sym)), {1});
                     })});
  add_gradient_forms(m.closed_forms, "(Q + Qᵀ)x", [](const Vec& x, int64_t) { return q_sym_times(x); });
  m.closed_forms["integrated-gradients"] = {"Δ ⊙ (Q + Qᵀ)(x′ + Δ/2)", [](const Vec& x, const Vec& b, int64_t) {
                                              Vec mid(3), d(3);
                                              for (size_t i = 0; i < 3; ++i) d[i] = x[i] - b[i], mid[i] = b[i] + d[i] / 2;
                                              Vec v = q_sym_times(mid);
                                              for (size_t i = 0; i < 3; ++i) v[i] *= d[i];
                                              return v;
                                            }};
  return m;
}

const Tensor kSigmoidV(Shape{3, 1}, {2.f, -1.f, 3.f});
const double kSigmoidC = -1.0;
double sigmoid_argument(const Vec& x) {
  return kSigmoidC + double(kSigmoidV[0]) * x[0] + double(kSigmoidV[1]) * x[1] + double(kSigmoidV[2]) * x[2];
}

// Split IG's (Miglani et al. 2020) saturation example: at the default input s = 6.5 and the
// gradient is ~σ'(6.5) ≈ 0.0015 times v, though the output moved by 0.27 from x′.
AnalyticModel saturating_sigmoid() {
  AnalyticModel m{"sigmoid", "f(x) = σ(v·x + c), v = (2, −1, 3), c = −1",
                  "Miglani et al. 2020 (Split IG): a saturating unit. At the default input σ is flat "
                  "(gradient ≈ 0.0015·v) though f moved by 0.73 from x′ = 0; integrated gradients "
                  "collects the change made before saturation",
                  3, 1, {2.f, 1.f, 1.5f}, {0.f, 0.f, 0.f},
                  LambdaFunction([](Tape& t, Var x) {
                    return sigmoid(matmul(x, t.constant(kSigmoidV)) + float(kSigmoidC));
                  }),
                  {}, {}, -1, {}};
  m.twins.push_back({"(1 + tanh(s/2))/2", LambdaFunction([](Tape& t, Var x) {
                       return (1.f + tanh((matmul(x, t.constant(kSigmoidV)) + float(kSigmoidC)) * 0.5f)) * 0.5f;
                     })});
  add_gradient_forms(m.closed_forms, "σ'(s)·v, s = v·x + c", [](const Vec& x, int64_t) {
    const double s = sigma(sigmoid_argument(x)), d = s * (1 - s);
    return Vec{d * kSigmoidV[0], d * kSigmoidV[1], d * kSigmoidV[2]};
  });
  m.closed_forms["integrated-gradients"] = {
      "vᵢΔᵢ·(σ(s) − σ(s′))/(s − s′)", [](const Vec& x, const Vec& b, int64_t) {
        const double s = sigmoid_argument(x), s0 = sigmoid_argument(b);
        const double slope = s == s0 ? sigma(s) * (1 - sigma(s)) : (sigma(s) - sigma(s0)) / (s - s0);
        Vec v(3);
        for (size_t i = 0; i < 3; ++i) v[i] = double(kSigmoidV[int64_t(i)]) * (x[i] - b[i]) * slope;
        return v;
      }};
  return m;
}

// Two-layer ReLU network: f(x) = Σⱼ uⱼ relu(wⱼ·x + bⱼ).
const Tensor kNetW(Shape{2, 3}, {1.f, 0.5f, -1.f, -1.f, 1.f, 0.5f});  // column j = wⱼ
const Tensor kNetB(Shape{3}, {0.f, -1.f, 0.5f});
const Tensor kNetU(Shape{3, 1}, {1.f, -2.f, 1.5f});
double net_w(int64_t j, int64_t i) { return double(kNetW[i * 3 + j]); }
double net_pre(const Vec& x, int64_t j) { return net_w(j, 0) * x[0] + net_w(j, 1) * x[1] + double(kNetB[j]); }

AnalyticModel relu_net() {
  AnalyticModel m{"relu-net",
                  "f(x) = Σⱼ uⱼ relu(wⱼ·x + bⱼ), w = ((1, −1), (0.5, 1), (−1, 0.5)), b = (0, −1, 0.5), "
                  "u = (1, −2, 1.5)",
                  "a two-layer ReLU network with fixed weights: piecewise linear, with kinks where a "
                  "hidden unit's pre-activation crosses 0. On the straight path from x′ = 0 to the default "
                  "x = (2, 1) unit 1 switches on at t = 1/2 and unit 2 off at t = 1/3, so quadrature "
                  "rules see the kinks; the closed form integrates each unit's active stretch exactly",
                  2, 1, {2.f, 1.f}, {0.f, 0.f},
                  LambdaFunction([](Tape& t, Var x) {
                    return matmul(relu(matmul(x, t.constant(kNetW)) + t.constant(kNetB)), t.constant(kNetU));
                  }),
                  {}, {}, -1, {}};
  // Hidden units rescaled by α = (2, 0.5, 4): relu(αz)/α = relu(z).
  m.twins.push_back({"hidden units rescaled by (2, 0.5, 4), output weights by the inverse",
                     LambdaFunction([](Tape& t, Var x) {
                       static const Tensor scale(Shape{3}, {2.f, 0.5f, 4.f});
                       static const Tensor inverse(Shape{3}, {0.5f, 2.f, 0.25f});
                       Var h = relu((matmul(x, t.constant(kNetW)) + t.constant(kNetB)) * t.constant(scale));
                       return matmul(h * t.constant(inverse), t.constant(kNetU));
                     })});
  add_gradient_forms(m.closed_forms, "Σⱼ uⱼ [wⱼ·x + bⱼ > 0] wⱼ", [](const Vec& x, int64_t) {
    Vec g(2, 0.0);
    for (int64_t j = 0; j < 3; ++j)
      if (net_pre(x, j) > 0)
        for (int64_t i = 0; i < 2; ++i) g[size_t(i)] += double(kNetU[j]) * net_w(j, i);
    return g;
  });
  m.closed_forms["integrated-gradients"] = {
      "IGᵢ = Δᵢ Σⱼ uⱼ wⱼᵢ pⱼ, pⱼ = |{t ∈ [0,1] : wⱼ·γ(t) + bⱼ > 0}|", [](const Vec& x, const Vec& b, int64_t) {
        Vec ig(2, 0.0);
        const Vec d = {x[0] - b[0], x[1] - b[1]};
        for (int64_t j = 0; j < 3; ++j) {
          const double p = active_fraction(net_pre(b, j), net_w(j, 0) * d[0] + net_w(j, 1) * d[1]);
          for (int64_t i = 0; i < 2; ++i) ig[size_t(i)] += d[size_t(i)] * double(kNetU[j]) * net_w(j, i) * p;
        }
        return ig;
      }};
  return m;
}

AnalyticModel dummy_feature() {
  AnalyticModel m{"dummy", "f(x) = x₀² + 3x₁ (x₂ is never read)",
                  "sensitivity (b): f does not depend on x₂, so every method must give x₂ exactly zero", 3, 1,
                  {1.5f, -1.f, 2.f}, {0.f, 0.f, 0.f},
                  LambdaFunction([](Tape&, Var x) { return column(x, 0) * column(x, 0) + 3.f * column(x, 1); }),
                  {}, {}, 2, {}};
  add_gradient_forms(m.closed_forms, "(2x₀, 3, 0)", [](const Vec& x, int64_t) { return Vec{2 * x[0], 3.0, 0.0}; });
  m.closed_forms["integrated-gradients"] = {"(Δ₀(2x′₀ + Δ₀), 3Δ₁, 0)", [](const Vec& x, const Vec& b, int64_t) {
                                              const double d0 = x[0] - b[0];
                                              return Vec{d0 * (2 * b[0] + d0), 3 * (x[1] - b[1]), 0.0};
                                            }};
  return m;
}

// softmax(Wx + c) over 3 classes; row k of W is class k's weights.
const Tensor kSoftW(Shape{3, 3}, {1.f, -0.5f, 0.2f, -0.3f, 0.8f, 0.5f, 0.4f, 0.1f, -1.f});
const Tensor kSoftC(Shape{3}, {0.1f, 0.f, -0.2f});

AnalyticModel softmax_linear() {
  AnalyticModel m{"softmax-linear", "f(x) = softmax(Wx + c), 3 classes",
                  "a linear classifier's probabilities: the gradient of class k is pₖ(Wₖ − Σⱼ pⱼWⱼ), which "
                  "mixes every class's weights; three scores, so linearity combines two classes",
                  3, 3, {1.f, 2.f, -1.f}, {0.f, 0.f, 0.f},
                  LambdaFunction([](Tape& t, Var x) {
                    return softmax(matmul(x, transpose(t.constant(kSoftW), {1, 0})) + t.constant(kSoftC), -1);
                  }),
                  {}, {}, -1, {}};
  add_gradient_forms(m.closed_forms, "pₖ(Wₖ − Σⱼ pⱼWⱼ)", [](const Vec& x, int64_t k) {
    Vec z(3), p(3);
    double zmax = -1e300, total = 0;
    for (int64_t c = 0; c < 3; ++c) {
      z[size_t(c)] = double(kSoftC[c]);
      for (int64_t i = 0; i < 3; ++i) z[size_t(c)] += double(kSoftW[c * 3 + i]) * x[size_t(i)];
      zmax = std::max(zmax, z[size_t(c)]);
    }
    for (int64_t c = 0; c < 3; ++c) total += p[size_t(c)] = std::exp(z[size_t(c)] - zmax);
    for (double& e : p) e /= total;
    Vec g(3, 0.0);
    for (int64_t i = 0; i < 3; ++i) {
      double mix = 0;
      for (int64_t c = 0; c < 3; ++c) mix += p[size_t(c)] * double(kSoftW[c * 3 + i]);
      g[size_t(i)] = p[size_t(k)] * (double(kSoftW[k * 3 + i]) - mix);
    }
    return g;
  });
  return m;
}

}  // namespace

const std::vector<AnalyticModel>& analytic_models() {
  static const std::vector<AnalyticModel> all = {one_minus_relu(), min_model(),  product(),        quadratic(),
                                                 saturating_sigmoid(), relu_net(), dummy_feature(), softmax_linear()};
  return all;
}

const AnalyticModel& analytic_model(const std::string& name) {
  std::string names;
  for (const AnalyticModel& m : analytic_models()) {
    if (m.name == name) return m;
    names += (names.empty() ? "" : ", ") + m.name;
  }
  throw Error("unknown analytic model '" + name + "' (known: " + names + ")");
}

}  // namespace gradlens
