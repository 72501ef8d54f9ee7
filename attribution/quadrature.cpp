// Quadrature rules on [0, 1] (see quadrature.h).
#include "attribution/quadrature.h"

#include <Eigen/Eigenvalues>

#include <cmath>

#include "engine/error.h"
#include "engine/enum_table.h"

namespace gradlens {

namespace {
const EnumName<QuadratureRule> kQuadratureRules[] = {{"gauss-legendre", QuadratureRule::gauss_legendre},
                                                     {"riemann-left", QuadratureRule::riemann_left},
                                                     {"riemann-right", QuadratureRule::riemann_right},
                                                     {"riemann-middle", QuadratureRule::riemann_middle},
                                                     {"riemann-trapezoid", QuadratureRule::riemann_trapezoid}};
}  // namespace

QuadratureRule parse_quadrature_rule(const std::string& name) {
  return enum_value(kQuadratureRules, name, "quadrature rule");
}

std::string quadrature_rule_names() { return enum_choices(kQuadratureRules, "|", "|"); }

namespace {
// Gauss–Legendre nodes and weights on [−1, 1] by Newton's method on P_n, using the three-term
// recurrence (j+1) P_{j+1} = (2j+1) z P_j − j P_{j−1} and P_n' = n (z P_n − P_{n−1}) / (z² − 1);
// weights 2 / ((1 − z²) P_n'(z)²).
void gauss_legendre(int64_t n, std::vector<double>& z_out, std::vector<double>& w_out) {
  z_out.assign(size_t(n), 0.0);
  w_out.assign(size_t(n), 0.0);
  const double pi = std::acos(-1.0);
  for (int64_t i = 0; i < (n + 1) / 2; ++i) {
    double z = std::cos(pi * (double(i) + 0.75) / (double(n) + 0.5)), derivative = 0;
    for (int iteration = 0; iteration < 100; ++iteration) {
      double p = 1, previous = 0;
      for (int64_t j = 1; j <= n; ++j) {
        const double older = previous;
        previous = p;
        p = ((2.0 * double(j) - 1.0) * z * previous - (double(j) - 1.0) * older) / double(j);
      }
      derivative = double(n) * (z * p - previous) / (z * z - 1.0);
      const double step = p / derivative;
      z -= step;
      if (std::fabs(step) < 1e-16) break;
    }
    const double w = 2.0 / ((1.0 - z * z) * derivative * derivative);
    // z decreases with i: the largest node first; store ascending.
    z_out[size_t(n - 1 - i)] = z;
    z_out[size_t(i)] = -z;
    w_out[size_t(i)] = w_out[size_t(n - 1 - i)] = w;
  }
  if (n % 2 == 1) z_out[size_t(n / 2)] = 0.0;
}
}  // namespace

Quadrature quadrature(QuadratureRule rule, int64_t n) {
  GL_CHECK(n >= 1, "the number of steps must be at least 1, got ", n);
  GL_CHECK(rule != QuadratureRule::riemann_trapezoid || n >= 2, "riemann-trapezoid needs at least 2 steps");
  Quadrature q;
  q.nodes.resize(size_t(n));
  q.weights.assign(size_t(n), 1.0 / double(n));
  const double dn = double(n);
  switch (rule) {
    case QuadratureRule::gauss_legendre: {
      std::vector<double> z, w;
      gauss_legendre(n, z, w);
      for (size_t k = 0; k < size_t(n); ++k) {
        q.nodes[k] = 0.5 * (1.0 + z[k]);
        q.weights[k] = 0.5 * w[k];
      }
      break;
    }
    case QuadratureRule::riemann_left:
      for (int64_t k = 0; k < n; ++k) q.nodes[size_t(k)] = double(k) / dn;
      break;
    case QuadratureRule::riemann_right:
      for (int64_t k = 0; k < n; ++k) q.nodes[size_t(k)] = double(k + 1) / dn;
      break;
    case QuadratureRule::riemann_middle:
      for (int64_t k = 0; k < n; ++k) q.nodes[size_t(k)] = (double(k) + 0.5) / dn;
      break;
    case QuadratureRule::riemann_trapezoid:
      // The trapezoid rule on n equally spaced nodes 0, 1/(n−1), ..., 1: weights 1/(n−1) with
      // halves at both ends, summing to 1 (Captum's riemann_trapezoid uses 1/n, summing to 1 − 1/n).
      for (int64_t k = 0; k < n; ++k) {
        q.nodes[size_t(k)] = double(k) / (dn - 1.0);
        q.weights[size_t(k)] = (k == 0 || k == n - 1 ? 0.5 : 1.0) / (dn - 1.0);
      }
      break;
  }
  return q;
}

Quadrature gauss_log_quadrature(int64_t n) {
  GL_CHECK(n >= 1 && n <= 200, "gauss-log quadrature: the number of nodes must be in [1, 200], got ", n);
  const int64_t moments = 2 * n;
  // Modified moments m_k and the monic shifted Legendre recurrence p_{k+1} = (t − a_k) p_k − b_k p_{k−1}.
  const size_t count = static_cast<size_t>(moments);
  std::vector<double> m(count), a(count, 0.5), b(count, 0.0);
  double ratio = 1;  // (k!)² / (2k)!
  m[0] = 1;
  for (int64_t k = 1; k < moments; ++k) {
    ratio *= double(k) / (2.0 * double(2 * k - 1));
    m[size_t(k)] = (k % 2 ? -1.0 : 1.0) * ratio / (double(k) * double(k + 1));
    b[size_t(k)] = double(k * k) / (4.0 * double(4 * k * k - 1));
  }
  // Modified Chebyshev algorithm: σ_{k,l} rows, α_k, β_k of the orthogonal polynomials of −ln t.
  std::vector<double> alpha(static_cast<size_t>(n)), beta(static_cast<size_t>(n));
  std::vector<double> older(count + 1, 0.0), previous(m), current(count + 1, 0.0);
  previous.push_back(0.0);
  alpha[0] = a[0] + m[1] / m[0];
  beta[0] = m[0];
  for (int64_t k = 1; k < n; ++k) {
    std::fill(current.begin(), current.end(), 0.0);
    for (int64_t l = k; l < moments - k; ++l)
      current[size_t(l)] = previous[size_t(l + 1)] - (alpha[size_t(k - 1)] - a[size_t(l)]) * previous[size_t(l)] -
                           beta[size_t(k - 1)] * older[size_t(l)] + b[size_t(l)] * previous[size_t(l - 1)];
    alpha[size_t(k)] = a[size_t(k)] + current[size_t(k + 1)] / current[size_t(k)] -
                       previous[size_t(k)] / previous[size_t(k - 1)];
    beta[size_t(k)] = current[size_t(k)] / previous[size_t(k - 1)];
    std::swap(older, previous);
    std::swap(previous, current);
  }
  // Golub–Welsch: nodes are the Jacobi matrix's eigenvalues, weights β_0 · (first component)².
  Eigen::MatrixXd jacobi = Eigen::MatrixXd::Zero(n, n);
  for (int64_t k = 0; k < n; ++k) {
    jacobi(k, k) = alpha[size_t(k)];
    if (k + 1 < n) jacobi(k, k + 1) = jacobi(k + 1, k) = std::sqrt(beta[size_t(k + 1)]);
  }
  Eigen::SelfAdjointEigenSolver<Eigen::MatrixXd> solver(jacobi);
  GL_CHECK(solver.info() == Eigen::Success, "gauss-log quadrature: eigen-decomposition failed for n = ", n);
  Quadrature q;
  for (int64_t k = 0; k < n; ++k) {  // Eigen returns eigenvalues in increasing order
    q.nodes.push_back(solver.eigenvalues()(k));
    const double v = solver.eigenvectors()(0, k);
    q.weights.push_back(beta[0] * v * v);
  }
  return q;
}
}  // namespace gradlens
