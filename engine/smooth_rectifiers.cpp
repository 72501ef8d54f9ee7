#include "engine/smooth_rectifiers.h"

#include <cmath>

#include "engine/error.h"

namespace gradlens {

namespace {
thread_local float smooth_beta = 0.f;
}  // namespace

SmoothRectifiers::SmoothRectifiers(float beta) : saved_(smooth_beta) {
  GL_CHECK(beta >= 0.f && std::isfinite(beta), "softplus beta must be finite and >= 0, got ", beta);
  smooth_beta = beta;
}

SmoothRectifiers::~SmoothRectifiers() { smooth_beta = saved_; }

float smooth_rectifier_beta() { return smooth_beta; }

}  // namespace gradlens
