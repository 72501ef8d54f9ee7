// Quadrature rules on [0, 1] for the path integrals A(x) = ∫₀¹ ∇f(γ(t)) ⊙ γ'(t) dt ≈ Σ_k w_k …:
// Gauss–Legendre (as Captum, exact for polynomials of degree 2n − 1), the Riemann
// left/right/middle/trapezoid sums, and the Gauss rule for the weight −ln t (Integrated Hessians).
#pragma once
#include <cstdint>
#include <string>
#include <vector>

namespace gradlens {

enum class QuadratureRule { gauss_legendre, riemann_left, riemann_right, riemann_middle, riemann_trapezoid };
QuadratureRule parse_quadrature_rule(const std::string& name);  // "gauss-legendre", "riemann-left", ...
std::string quadrature_rule_names();                            // "gauss-legendre|riemann-left|..."

struct Quadrature {
  std::vector<double> nodes;    // t_k in [0, 1], ascending
  std::vector<double> weights;  // w_k, summing to 1 (Σ w_k f(t_k) ≈ ∫₀¹ f)
};
// n ≥ 1 nodes (n ≥ 2 for the trapezoid rule).
Quadrature quadrature(QuadratureRule rule, int64_t n);

// Gauss quadrature for the weight −ln t on [0, 1] (the weight a double integral over α, β in
// [0, 1]² of a function of t = αβ collapses to: ∫∫ h(αβ) dα dβ = ∫₀¹ −ln t · h(t) dt): n ≥ 1 nodes
// with Σ w_k p(t_k) = ∫₀¹ −ln t · p(t) dt for every polynomial p of degree ≤ 2n − 1; the weights
// sum to 1. Computed by Gautschi's modified Chebyshev algorithm from the modified moments
// ∫ −ln t · p_k(t) dt = (−1)^k (k!)² / (k (k+1) (2k)!) of the monic shifted Legendre polynomials
// p_k, then Golub–Welsch (eigenvalues of the Jacobi matrix).
Quadrature gauss_log_quadrature(int64_t n);

}  // namespace gradlens
