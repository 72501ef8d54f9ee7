// The Gaussian blur of blur baselines and Blur IG, with its exact derivative in σ.
#pragma once
#include "engine/tensor.h"

namespace gradlens {

// Gaussian blur of every example over its spatial axes: [N, C, H, W] → H and W; [N, C, L] and
// [N, D] → the last axis. Kernel exp(−j²/2σ²) normalised to sum 1 on |j| ≤ ⌊4σ + ½⌋, zeros
// beyond the borders: scipy.ndimage.gaussian_filter(mode='constant'), the blur of the Blur IG
// authors' code (PAIR saliency); σ = 0 is the identity. With sigma_derivative, returns ∂(blur)/∂σ
// instead, differentiating the normalised discrete kernel exactly: ∂w_j/∂σ = w_j (j² − Σ_i w_i i²) / σ³
// (0 at σ = 0).
Tensor gaussian_blur(const Tensor& x, double sigma, bool sigma_derivative = false);

}  // namespace gradlens
