// The CAMs weighted by forward-only perturbations (no backward):
//   score-cam     w = softmax_k y_c(x ⊙ norm(up(A_k)))            (Wang et al. 2020)
//   ablation-cam  w_k = (y_c − y_c with A_k zeroed) / y_c          (Desai & Ramaswamy 2020)
#include <algorithm>
#include <cmath>

#include "attribution/cam.h"
#include "attribution/chunked_pass.h"
#include "attribution/gradients.h"
#include "engine/error.h"
#include "engine/resample.h"

namespace gradlens {

namespace {

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

  Explanation explain_rows(const Request& r) const override {
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
        Shape s = r.input.shape();
        s[0] = std::min(r.batch, K);
        Tensor copies(s);
        for (int64_t j = 0; j < s[0]; ++j) std::copy_n(r.input.data() + n * per, per, copies.data() + j * per);
        ChannelAblation ablate(p.layer);
        ChunkTaps taps;
        taps.observers = {&ablate};
        ChunkBudget budget(r.batch);
        run_chunks(
            *r.function, K, budget,
            [&](int64_t begin, int64_t rows_in_chunk) {
              ablate.first_channel = begin;
              return rows(copies, 0, rows_in_chunk);
            },
            {}, taps,
            [&](const Chunk& chunk, int) {
              for (int64_t j = 0; j < chunk.rows; ++j) y[size_t(chunk.begin + j)] = chunk.score_row(j)[c];
            });
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
    Explanation e = finish_cam(info_, r, p, weighted_channel_sum(weights, p.A), forwards, 0);
    return e;
  }

 private:
  MethodInfo info_;
  bool ablation_;
};

const bool registered = [] {
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
