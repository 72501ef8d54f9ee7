// The CAM family: class activation maps at a layer with activations A [N,K,h,w] and gradients
// G = ∂y_c/∂A. Each map is [N,1,h,w], ReLU'd unless --no-relu.
//   cam               Σ_k W[c,k]·A_k for GAP→linear heads                 (Zhou et al. 2016)
//   grad-cam          w_k = mean_ij G_kij;  Σ_k w_k·A_k                   (Selvaraju et al. 2017)
//   grad-cam-pp       w_k = Σ_ij α_kij·relu(G_kij),
//                     α = G² / (2G² + Σ_ab A_kab·G³)  (eq. 19, exp(S) cancels in α)
//                                                                        (Chattopadhyay et al. 2018)
//   smooth-grad-cam-pp  Grad-CAM++ with G, G², G³ averaged over noisy inputs  (Omeiza et al. 2019)
//   xgrad-cam         w_k = Σ_ij A_kij·G_kij / Σ_ij A_kij                 (Fu et al. 2020)
//   layer-cam         Σ_k relu(G_k) ⊙ A_k                                  (Jiang et al. 2021)
//   hires-cam         Σ_k G_k ⊙ A_k                                        (Draelos & Carin 2020)
//   guided-grad-cam   guided backprop ⊙ upsampled Grad-CAM                  (Selvaraju et al. 2017)
//                     (bilinear as pytorch-grad-cam, or nearest as Captum's GuidedGradCam)
//   eigen-cam         projection of A on its first principal component    (Muhammad & Yeasin 2020)
//   eigen-grad-cam    the same on A ⊙ G
//   score-cam         w = softmax_k y_c(x ⊙ norm(up(A_k)))                 (Wang et al. 2020)
//   ablation-cam      w_k = (y_c − y_c with A_k zeroed) / y_c              (Desai & Ramaswamy 2020)
#include <Eigen/Eigenvalues>
#include <cmath>

#include "attribution/cam.h"
#include "attribution/gradients.h"
#include "engine/error.h"
#include "engine/random.h"

namespace gradlens {

namespace {

MethodInfo cam_info(const char* name, const char* paper, const char* cost, const char* summary,
                    std::vector<Parameter> extra = {}) {
  MethodInfo m;
  m.name = name;
  m.family = "cam";
  m.paper = paper;
  m.cost = cost;
  m.summary = summary;
  m.parameters = cam_parameters(std::move(extra));
  m.layer_map = true;
  return m;
}

struct LayerPass {
  std::string layer;
  Tensor A, G;
  std::vector<double> scores;
};

LayerPass layer_pass(const MethodInfo& info, const Request& r, bool gradients = true) {
  LayerPass p;
  p.layer = cam_layer(info, r);
  PassOptions o;
  o.batch = r.batch;
  o.input_gradient = false;
  o.layers = {p.layer};
  PassResult res = gradient_pass(*r.function, r.input, r.targets, r.contrast, o);
  p.A = std::move(res.layers[0].activation);
  if (gradients) p.G = std::move(res.layers[0].gradient);
  p.scores = std::move(res.scores);
  return p;
}

Explanation finish(const MethodInfo& info, const Request& r, const LayerPass& p, Tensor map,
                   int64_t forwards, int64_t backwards) {
  Explanation e;
  e.attribution = finish_layer_map(info, r, std::move(map));
  e.scores = p.scores;
  e.notes["layer"] = p.layer;
  e.forward_passes = forwards;
  e.backward_passes = backwards;
  return e;
}

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

  Explanation explain(const Request& r) const override {
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
          const int64_t c = r.targets[size_t(n)];
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
    return finish(info_, r, p, std::move(map), N, kind_ == cam ? 0 : N);
  }

  // α = D2 / (2·D2 + Σ_ab A_ab·D3) with D2 = G², D3 = G³ (or their noisy means), w = Σ α·relu(D1).
  static Tensor grad_cam_pp_weights(const Tensor& A, const Tensor& D1, const Tensor& G_for_powers,
                                    const Tensor* D2 = nullptr, const Tensor* D3 = nullptr) {
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

 private:
  MethodInfo info_;
  Kind kind_;
};

class SmoothGradCamPP : public Method {
 public:
  SmoothGradCamPP()
      : info_(cam_info("smooth-grad-cam-pp", "Omeiza et al. 2019", "(1+S)F + SB",
                       "Grad-CAM++ with G, G², G³ averaged over S noisy copies of the input",
                       {{"samples", "50", "noisy copies S"},
                        {"noise-level", "0.15", "noise σ as a fraction of each example's max − min"},
                        {"seed", "0", "random seed of the noise"}})) {}
  const MethodInfo& info() const override { return info_; }

  Explanation explain(const Request& r) const override {
    r.options.check_known(info_);
    const int64_t S = r.options.integer(info_, "samples", 1, 100000);
    const double level = r.options.number(info_, "noise-level", 0, 1e6);
    Rng rng(uint64_t(r.options.integer(info_, "seed", 0, INT64_MAX)));
    LayerPass clean = layer_pass(info_, r, false);
    const int64_t N = r.input.dim(0), per = r.input.numel() / N;
    Tensor D1(clean.A.shape()), D2(clean.A.shape()), D3(clean.A.shape());
    const int64_t per_map = clean.A.numel() / N;
    for (int64_t n = 0; n < N; ++n) {
      Shape s = r.input.shape();
      s[0] = S;
      Tensor noisy(s);
      const float* x = r.input.data() + n * per;
      const auto [lo, hi] = std::minmax_element(x, x + per);
      const double sigma = level * double(*hi - *lo);
      for (int64_t j = 0; j < S * per; ++j) noisy[j] = float(x[j % per] + sigma * rng.normal());
      Request sub = r;
      sub.input = noisy;
      sub.targets.assign(size_t(S), r.targets[size_t(n)]);
      if (!r.contrast.empty()) sub.contrast.assign(size_t(S), r.contrast[size_t(n)]);
      PassOptions o;
      o.batch = r.batch;
      o.input_gradient = false;
      o.layers = {clean.layer};
      PassResult p = gradient_pass(*r.function, noisy, sub.targets, sub.contrast, o);
      const Tensor& G = p.layers[0].gradient;
      for (int64_t i = 0; i < per_map; ++i) {
        double m1 = 0, m2 = 0, m3 = 0;
        for (int64_t t = 0; t < S; ++t) {
          const double g = G[t * per_map + i];
          m1 += g;
          m2 += g * g;
          m3 += g * g * g;
        }
        D1[n * per_map + i] = float(m1 / double(S));
        D2[n * per_map + i] = float(m2 / double(S));
        D3[n * per_map + i] = float(m3 / double(S));
      }
    }
    Tensor w = GradCam::grad_cam_pp_weights(clean.A, D1, D1, &D2, &D3);
    Explanation e = finish(info_, r, clean, weighted_channel_sum(w, clean.A), N * (1 + S), N * S);
    e.notes["samples"] = std::to_string(S);
    return e;
  }

 private:
  MethodInfo info_;
};

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

  Explanation explain(const Request& r) const override {
    r.options.check_known(info_);
    LayerPass p = layer_pass(info_, r, grads_);
    const int64_t N = p.A.dim(0), K = p.A.dim(1), hw = p.A.dim(2) * p.A.dim(3);
    Tensor X = p.A.clone();
    if (grads_)
      for (int64_t i = 0; i < X.numel(); ++i) X[i] *= p.G[i];
    Tensor map(Shape{N, 1, p.A.dim(2), p.A.dim(3)});
    for (int64_t n = 0; n < N; ++n)
      first_component(X.data() + n * K * hw, X.data() + n * K * hw, hw, K, map.data() + n * hw);
    return finish(info_, r, p, std::move(map), N, grads_ ? N : 0);
  }

 private:
  MethodInfo info_;
  bool grads_;
};

// Zeroes channel (row_offset + r) mod K of row r of a named tensor: row r of a chunk ablates
// channel (first + r) of the replicated example.
class ChannelAblation : public Observer {
 public:
  explicit ChannelAblation(std::string layer) : layer_(std::move(layer)) {}
  int64_t first_channel = 0;
  void edit_forward(const NodeInfo& info, Tensor& value) override {
    if (info.name != layer_) return;
    const int64_t rows = value.dim(0), K = value.dim(1), hw = value.numel() / (rows * K);
    for (int64_t r = 0; r < rows; ++r) {
      const int64_t k = first_channel + r;
      if (k < K) std::fill_n(value.data() + (r * K + k) * hw, hw, 0.f);
    }
  }

 private:
  std::string layer_;
};

class PerturbationCam : public Method {
 public:
  PerturbationCam(MethodInfo info, bool ablation) : info_(std::move(info)), ablation_(ablation) {}
  const MethodInfo& info() const override { return info_; }

  Explanation explain(const Request& r) const override {
    r.options.check_known(info_);
    LayerPass p = layer_pass(info_, r, false);
    const int64_t N = p.A.dim(0), K = p.A.dim(1), hw = p.A.dim(2) * p.A.dim(3);
    const int64_t per = r.input.numel() / N;
    Tensor weights(Shape{N, K});
    int64_t forwards = N;
    for (int64_t n = 0; n < N; ++n) {
      const int64_t c = r.targets[size_t(n)];
      std::vector<double> y(static_cast<size_t>(K), 0.0);
      if (ablation_) {
        // K copies of the example; row k has channel k of the layer zeroed.
        for (int64_t begin = 0; begin < K; begin += r.batch) {
          const int64_t rows = std::min(r.batch, K - begin);
          Shape s = r.input.shape();
          s[0] = rows;
          Tensor batch(s);
          for (int64_t j = 0; j < rows; ++j)
            std::copy_n(r.input.data() + n * per, per, batch.data() + j * per);
          Tape tape;
          ChannelAblation ablate(p.layer);
          ablate.first_channel = begin;
          tape.observe(&ablate);
          Var x = tape.input(batch, false);
          Var scores = r.function->scores(tape, x);
          const int64_t C = scores.shape()[1];
          for (int64_t j = 0; j < rows; ++j) y[size_t(begin + j)] = scores.value()[j * C + c];
        }
        const double base = p.scores[size_t(n)];
        for (int64_t k = 0; k < K; ++k)
          weights[n * K + k] = float(base != 0 ? (base - y[size_t(k)]) / base : 0.0);
      } else {
        // Score-CAM: masks = channel maps upsampled to the input and min-max normalised.
        GL_CHECK(r.input.rank() == 4, info_.name, " needs image inputs [N,C,H,W]");
        const int64_t C = r.input.dim(1), H = r.input.dim(2), W = r.input.dim(3);
        Tensor maps = resize(rows(p.A, n, n + 1).reshaped(Shape{K, 1, p.A.dim(2), p.A.dim(3)}), H, W,
                             Resample::bilinear);
        Tensor masked(Shape{K, C, H, W});
        for (int64_t k = 0; k < K; ++k) {
          float* m = maps.data() + k * H * W;
          // Copy the extremes: the loop below overwrites the elements they point to.
          const auto extremes = std::minmax_element(m, m + H * W);
          const float lo = *extremes.first, range = *extremes.second - lo;
          for (int64_t i = 0; i < H * W; ++i) m[i] = range > 0 ? (m[i] - lo) / range : 0.f;
          for (int64_t ch = 0; ch < C; ++ch)
            for (int64_t i = 0; i < H * W; ++i)
              masked[(k * C + ch) * H * W + i] = r.input[n * per + ch * H * W + i] * m[i];
        }
        Tensor scores = evaluate_scores(*r.function, masked, r.batch);
        const int64_t classes = scores.dim(1);
        GL_CHECK(c >= 0 && c < classes, "target class ", c, " is out of range for ", classes, " classes");
        double mx = -INFINITY;
        for (int64_t k = 0; k < K; ++k) mx = std::max(mx, double(scores[k * classes + c]));
        double z = 0;
        for (int64_t k = 0; k < K; ++k) z += std::exp(double(scores[k * classes + c]) - mx);
        for (int64_t k = 0; k < K; ++k)
          weights[n * K + k] = float(std::exp(double(scores[k * classes + c]) - mx) / z);
      }
      forwards += K;
    }
    (void)hw;
    Explanation e = finish(info_, r, p, weighted_channel_sum(weights, p.A), forwards, 0);
    return e;
  }

 private:
  MethodInfo info_;
  bool ablation_;
};

class GuidedGradCam : public Method {
 public:
  GuidedGradCam() {
    info_ = cam_info("guided-grad-cam", "Selvaraju et al. 2017", "2F + 2B",
                     "guided backprop times the upsampled Grad-CAM (input-shaped)");
    info_.layer_map = false;
    for (Parameter& p : info_.parameters)
      if (p.name == "upsample")
        p = {"upsample", "bilinear", "bilinear (pytorch-grad-cam) or nearest (Captum's GuidedGradCam) to the input size"};
  }
  const MethodInfo& info() const override { return info_; }

  Explanation explain(const Request& r) const override {
    r.options.check_known(info_);
    GL_CHECK(r.input.rank() == 4, info_.name, " needs image inputs [N,C,H,W]");
    const std::string upsample = r.options.text(info_, "upsample");
    GL_CHECK(upsample == "bilinear" || upsample == "nearest", info_.name, ": --upsample must be bilinear or nearest, got '",
             upsample, "'");
    Request cam_request = r;
    cam_request.options = Options();
    for (const auto& [k, v] : r.options.values()) cam_request.options.set(k, v);
    cam_request.options.set("upsample", upsample);
    Explanation cam = method("grad-cam").explain(cam_request);
    Explanation guided = method("guided-backprop").explain(
        Request{r.function, r.input, r.targets, r.contrast, r.batch, r.seed, Options()});
    const int64_t N = r.input.dim(0), C = r.input.dim(1), HW = r.input.dim(2) * r.input.dim(3);
    Explanation e = guided;
    for (int64_t n = 0; n < N; ++n)
      for (int64_t ch = 0; ch < C; ++ch)
        for (int64_t i = 0; i < HW; ++i) e.attribution[(n * C + ch) * HW + i] *= cam.attribution[n * HW + i];
    e.notes = cam.notes;
    e.forward_passes += cam.forward_passes;
    e.backward_passes += cam.backward_passes;
    return e;
  }

 private:
  MethodInfo info_;
};

const bool registered = [] {
  register_method(std::make_unique<GradCam>(
      cam_info("cam", "Zhou et al. 2016", "1F", "class weights of a GAP→linear head times the layer's maps"),
      GradCam::cam));
  register_method(std::make_unique<GradCam>(
      cam_info("grad-cam", "Selvaraju et al. 2017", "1F + 1B", "maps weighted by their mean gradient"),
      GradCam::grad_cam));
  register_method(std::make_unique<GradCam>(
      cam_info("grad-cam-pp", "Chattopadhyay et al. 2018", "1F + 1B",
               "maps weighted by α-weighted positive gradients (eq. 19)"),
      GradCam::grad_cam_pp));
  register_method(std::make_unique<SmoothGradCamPP>());
  register_method(std::make_unique<GradCam>(
      cam_info("xgrad-cam", "Fu et al. 2020", "1F + 1B", "maps weighted by activation-normalised gradients"),
      GradCam::xgrad_cam));
  register_method(std::make_unique<GradCam>(
      cam_info("layer-cam", "Jiang et al. 2021", "1F + 1B", "Σ_k relu(G_k) ⊙ A_k"), GradCam::layer_cam));
  register_method(std::make_unique<GradCam>(
      cam_info("hires-cam", "Draelos & Carin 2020", "1F + 1B", "Σ_k G_k ⊙ A_k"), GradCam::hires_cam));
  register_method(std::make_unique<GuidedGradCam>());
  register_method(std::make_unique<EigenCam>(
      cam_info("eigen-cam", "Muhammad & Yeasin 2020", "1F", "first principal component of the maps (class-agnostic)"),
      false));
  register_method(std::make_unique<EigenCam>(
      cam_info("eigen-grad-cam", "Muhammad & Yeasin 2020", "1F + 1B", "first principal component of A ⊙ G"),
      true));
  register_method(std::make_unique<PerturbationCam>(
      cam_info("score-cam", "Wang et al. 2020", "(1+K)F", "maps weighted by the softmax of the scores of masked inputs"),
      false));
  register_method(std::make_unique<PerturbationCam>(
      cam_info("ablation-cam", "Desai & Ramaswamy 2020", "(1+K)F", "maps weighted by the score drop when each is zeroed"),
      true));
  return true;
}();

}  // namespace
}  // namespace gradlens
