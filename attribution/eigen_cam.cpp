// Eigen-CAM (Muhammad & Yeasin 2020): the projection of the layer's maps A on their first principal
// component (class-agnostic, forward only); Eigen-Grad-CAM the same on A ⊙ G.
#include <Eigen/Eigenvalues>

#include <algorithm>
#include <cmath>

#include "attribution/cam.h"
#include "engine/error.h"

namespace gradlens {

namespace {

// Projection of the rows of X [hw, K] (centred per column) on the first right singular vector,
// signed so that it correlates positively with the channel sum of `reference` (SVD's sign is
// arbitrary; pytorch-grad-cam leaves it to the solver).
void first_component(const float* X, const float* reference, int64_t hw, int64_t K, float* out) {
  Eigen::MatrixXd M(hw, K);
  for (int64_t k = 0; k < K; ++k)
    for (int64_t i = 0; i < hw; ++i) M(i, k) = X[k * hw + i];
  M.rowwise() -= M.colwise().mean();
  Eigen::VectorXd proj;
  if (hw <= K) {
    Eigen::SelfAdjointEigenSolver<Eigen::MatrixXd> es(M * M.transpose());
    const double lambda = std::max(es.eigenvalues()(hw - 1), 0.0);
    proj = es.eigenvectors().col(hw - 1) * std::sqrt(lambda);
  } else {
    Eigen::SelfAdjointEigenSolver<Eigen::MatrixXd> es(M.transpose() * M);
    proj = M * es.eigenvectors().col(K - 1);
  }
  double corr = 0;
  for (int64_t i = 0; i < hw; ++i) {
    double ref = 0;
    for (int64_t k = 0; k < K; ++k) ref += reference[k * hw + i];
    corr += ref * proj(i);
  }
  const double sign = corr < 0 ? -1.0 : 1.0;
  for (int64_t i = 0; i < hw; ++i) out[i] = float(sign * proj(i));
}

class EigenCam : public Method {
 public:
  EigenCam(MethodInfo info, bool with_gradients) : info_(std::move(info)), grads_(with_gradients) {}
  const MethodInfo& info() const override { return info_; }

  Explanation explain_rows(const Request& r) const override {
    r.options.check_known(info_);
    LayerPass p = layer_pass(info_, r, grads_);
    const int64_t N = p.A.dim(0), K = p.A.dim(1), hw = p.A.dim(2) * p.A.dim(3);
    Tensor X = p.A.clone();
    if (grads_)
      for (int64_t i = 0; i < X.numel(); ++i) X[i] *= p.G[i];
    Tensor map(Shape{N, 1, p.A.dim(2), p.A.dim(3)});
    for (int64_t n = 0; n < N; ++n)
      first_component(X.data() + n * K * hw, X.data() + n * K * hw, hw, K, map.data() + n * hw);
    return finish_cam(info_, r, p, std::move(map), N, grads_ ? N : 0);
  }

 private:
  MethodInfo info_;
  bool grads_;
};

const bool registered = [] {
  register_method(std::make_unique<EigenCam>(
      cam_info("eigen-cam", "Muhammad & Yeasin 2020", "1F", "first principal component of the maps (class-agnostic)"),
      false));
  register_method(std::make_unique<EigenCam>(
      cam_info("eigen-grad-cam", "Muhammad & Yeasin 2020", "1F + 1B", "first principal component of A ⊙ G"),
      true));
  return true;
}();

}  // namespace
}  // namespace gradlens
