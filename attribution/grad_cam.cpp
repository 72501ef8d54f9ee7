// The CAMs weighted from one layer pass: class activation maps at a layer with activations
// A [N,K,h,w] and gradients G = ∂y_c/∂A (cam: no gradient, no backward). Each map is [N,1,h,w],
// ReLU'd unless --no-relu. (The rest of the family: smooth_grad_cam_pp.cpp, eigen_cam.cpp,
// perturbation_cams.cpp, guided_grad_cam.cpp.)
//   cam               Σ_k W[c,k]·A_k for GAP→linear heads                 (Zhou et al. 2016)
//   grad-cam          w_k = mean_ij G_kij;  Σ_k w_k·A_k                   (Selvaraju et al. 2017)
//   grad-cam-pp       w_k = Σ_ij α_kij·relu(G_kij),
//                     α = G² / (2G² + Σ_ab A_kab·G³)  (eq. 19, exp(S) cancels in α)
//                                                                        (Chattopadhyay et al. 2018)
//   xgrad-cam         w_k = Σ_ij A_kij·G_kij / Σ_ij A_kij                 (Fu et al. 2020)
//   layer-cam         Σ_k relu(G_k) ⊙ A_k                                  (Jiang et al. 2021)
//   hires-cam         Σ_k G_k ⊙ A_k                                        (Draelos & Carin 2020)
#include <cmath>

#include "attribution/cam.h"
#include "engine/error.h"

namespace gradlens {

namespace {

// Per-channel reductions over the spatial positions.
template <class F>
Tensor channel_weights(const Tensor& A, F&& f) {  // f(n, k, a*, g-offset) -> weight
  const int64_t N = A.dim(0), K = A.dim(1);
  Tensor w(Shape{N, K});
  for (int64_t n = 0; n < N; ++n)
    for (int64_t k = 0; k < K; ++k) w[n * K + k] = float(f(n, k));
  return w;
}

class GradCam : public Method {
 public:
  enum Kind { grad_cam, xgrad_cam, layer_cam, hires_cam, grad_cam_pp, cam };
  GradCam(MethodInfo info, Kind kind) : info_(std::move(info)), kind_(kind) {}
  const MethodInfo& info() const override { return info_; }

  Explanation explain_rows(const Request& r) const override {
    r.options.check_known(info_);
    LayerPass p = layer_pass(info_, r, kind_ != cam);
    const int64_t N = p.A.dim(0), K = p.A.dim(1), hw = p.A.dim(2) * p.A.dim(3);
    const float* A = p.A.data();
    const float* G = p.G.data();
    Tensor map;
    switch (kind_) {
      case cam: {
        const Tensor W = cam_head_weights(*r.function->model(), p.layer);
        GL_CHECK(W.dim(1) == K, "cam: the head has ", W.dim(1), " inputs but layer '", p.layer,
                 "' has ", K, " channels");
        map = weighted_channel_sum(channel_weights(p.A, [&](int64_t n, int64_t k) {
          const int64_t c = p.targets[size_t(n)];
          GL_CHECK(c >= 0 && c < W.dim(0), "target class ", c, " is out of range for ", W.dim(0), " classes");
          double w = W[c * K + k];
          if (!r.contrast.empty()) w -= W[r.contrast[size_t(n)] * K + k];
          return w;
        }), p.A);
        break;
      }
      case grad_cam:
        map = weighted_channel_sum(channel_weights(p.A, [&](int64_t n, int64_t k) {
          double s = 0;
          for (int64_t i = 0; i < hw; ++i) s += G[(n * K + k) * hw + i];
          return s / double(hw);
        }), p.A);
        break;
      case xgrad_cam:
        map = weighted_channel_sum(channel_weights(p.A, [&](int64_t n, int64_t k) {
          double ag = 0, a = 0;
          for (int64_t i = 0; i < hw; ++i) {
            ag += double(A[(n * K + k) * hw + i]) * G[(n * K + k) * hw + i];
            a += A[(n * K + k) * hw + i];
          }
          return a != 0 ? ag / a : 0.0;
        }), p.A);
        break;
      case grad_cam_pp:
        map = weighted_channel_sum(grad_cam_pp_weights(p.A, p.G, p.G), p.A);
        break;
      case layer_cam:
      case hires_cam: {
        map = Tensor(Shape{N, 1, p.A.dim(2), p.A.dim(3)});
        for (int64_t n = 0; n < N; ++n)
          for (int64_t k = 0; k < K; ++k)
            for (int64_t i = 0; i < hw; ++i) {
              float g = G[(n * K + k) * hw + i];
              if (kind_ == layer_cam) g = std::max(g, 0.f);
              map[n * hw + i] += g * A[(n * K + k) * hw + i];
            }
        break;
      }
    }
    return finish_cam(info_, r, p, std::move(map), N, kind_ == cam ? 0 : N);
  }

 private:
  MethodInfo info_;
  Kind kind_;
};

// The CAMs' one pass is over the input itself: it chooses the predicted classes when none are given.
MethodInfo from_forward(MethodInfo info) {
  info.targets_from_forward = true;
  return info;
}

const bool registered = [] {
  register_method(std::make_unique<GradCam>(
      from_forward(cam_info("cam", "Zhou et al. 2016", "1F", "class weights of a GAP→linear head times the layer's maps")),
      GradCam::cam));
  register_method(std::make_unique<GradCam>(
      from_forward(cam_info("grad-cam", "Selvaraju et al. 2017", "1F + 1B", "maps weighted by their mean gradient")),
      GradCam::grad_cam));
  register_method(std::make_unique<GradCam>(
      from_forward(cam_info("grad-cam-pp", "Chattopadhyay et al. 2018", "1F + 1B",
               "maps weighted by α-weighted positive gradients (eq. 19)")),
      GradCam::grad_cam_pp));
  register_method(std::make_unique<GradCam>(
      from_forward(cam_info("xgrad-cam", "Fu et al. 2020", "1F + 1B", "maps weighted by activation-normalised gradients")),
      GradCam::xgrad_cam));
  register_method(std::make_unique<GradCam>(
      from_forward(cam_info("layer-cam", "Jiang et al. 2021", "1F + 1B", "Σ_k relu(G_k) ⊙ A_k")), GradCam::layer_cam));
  register_method(std::make_unique<GradCam>(
      from_forward(cam_info("hires-cam", "Draelos & Carin 2020", "1F + 1B", "Σ_k G_k ⊙ A_k")), GradCam::hires_cam));
  return true;
}();

}  // namespace

Tensor grad_cam_pp_weights(const Tensor& A, const Tensor& D1, const Tensor& G_for_powers, const Tensor* D2,
                           const Tensor* D3) {
  const int64_t K = A.dim(1), hw = A.dim(2) * A.dim(3);
  return channel_weights(A, [&](int64_t n, int64_t k) {
    const int64_t o = (n * K + k) * hw;
    double sum_a = 0;
    for (int64_t i = 0; i < hw; ++i) sum_a += A[o + i];
    double w = 0;
    for (int64_t i = 0; i < hw; ++i) {
      const double g = G_for_powers[o + i];
      const double d2 = D2 ? double((*D2)[o + i]) : g * g;
      const double d3 = D3 ? double((*D3)[o + i]) : g * g * g;
      const double denom = 2 * d2 + sum_a * d3;
      const double alpha = (d2 == 0 || denom == 0) ? 0.0 : d2 / denom;
      w += alpha * std::max(double(D1[o + i]), 0.0);
    }
    return w;
  });
}

}  // namespace gradlens
