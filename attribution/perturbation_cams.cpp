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

// Rows [begin, begin + k) of Score-CAM's masked inputs of example n: x_n ⊙ norm(up(A_j)) for
// channels j = begin … begin + k − 1, with up the bilinear upsampling of A_j [h,w] to the input's
// H×W and norm its min-max scaling to [0, 1] (a constant map masks to 0). Built per chunk, so only
// the chunk's k masked copies of the input exist at once (the run's --max-memory sets k).
Tensor score_cam_masked_rows(const Tensor& x, int64_t n, const Tensor& maps, int64_t begin, int64_t k) {
  const int64_t C = x.dim(1), H = x.dim(2), W = x.dim(3), plane = H * W, per = C * plane;
  Tensor masks = resize(rows(maps, begin, begin + k), H, W, Resample::bilinear);
  Tensor masked(Shape{k, C, H, W});
  for (int64_t j = 0; j < k; ++j) {
    float* m = masks.data() + j * plane;
    // Copy the extremes: the loop below overwrites the elements they point to.
    const auto extremes = std::minmax_element(m, m + plane);
    const float lo = *extremes.first, range = *extremes.second - lo;
    for (int64_t i = 0; i < plane; ++i) m[i] = range > 0 ? (m[i] - lo) / range : 0.f;
    for (int64_t ch = 0; ch < C; ++ch)
      for (int64_t i = 0; i < plane; ++i) masked[j * per + ch * plane + i] = x[n * per + ch * plane + i] * m[i];
  }
  return masked;
}

class PerturbationCam : public Method {
 public:
  PerturbationCam(MethodInfo info, bool ablation) : info_(std::move(info)), ablation_(ablation) {}
  const MethodInfo& info() const override { return info_; }

  Explanation explain_rows(const Request& r) const override {
    r.options.check_known(info_);
    LayerPass p = layer_pass(info_, r, false);
    const int64_t N = p.A.dim(0), K = p.A.dim(1);
    const int64_t per = r.input.numel() / N;  // Ablation-CAM's copies of an example
    Tensor weights(Shape{N, K});
    int64_t forwards = N;
    ChunkBudget mask_budget(r.batch);  // Score-CAM's masks: one probe for all examples
    for (int64_t n = 0; n < N; ++n) {
      const int64_t c = p.targets[size_t(n)];
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
        // Score-CAM: the K masked inputs run through the chunked pass like any other rows, built
        // chunk by chunk (score_cam_masked_rows) within the run's memory budget.
        GL_CHECK(r.input.rank() == 4, info_.name, " needs image inputs [N,C,H,W]");
        const Tensor maps = rows(p.A, n, n + 1).reshaped(Shape{K, 1, p.A.dim(2), p.A.dim(3)});
        Tensor masked;
        run_chunks(
            *r.function, K, mask_budget,
            [&](int64_t begin, int64_t rows_in_chunk) {
              masked = score_cam_masked_rows(r.input, n, maps, begin, rows_in_chunk);
              return masked;
            },
            {}, ChunkTaps(),
            [&](const Chunk& chunk, int) {
              GL_CHECK(c >= 0 && c < chunk.classes(), "target class ", c, " is out of range for ", chunk.classes(),
                       " classes");
              for (int64_t j = 0; j < chunk.rows; ++j) y[size_t(chunk.begin + j)] = chunk.score_row(j)[c];
            });
        double mx = -INFINITY;
        for (int64_t k = 0; k < K; ++k) mx = std::max(mx, y[size_t(k)]);
        double z = 0;
        for (int64_t k = 0; k < K; ++k) z += std::exp(y[size_t(k)] - mx);
        for (int64_t k = 0; k < K; ++k) weights[n * K + k] = float(std::exp(y[size_t(k)] - mx) / z);
      }
      forwards += K;
    }
    Explanation e = finish_cam(info_, r, p, weighted_channel_sum(weights, p.A), forwards, 0);
    return e;
  }

 private:
  MethodInfo info_;
  bool ablation_;
};

const bool registered = [] {
  // Both begin with a forward of the input itself (the layer pass), which chooses the targets.
  MethodInfo score = cam_info("score-cam", "Wang et al. 2020", "(1+K)F",
                              "maps weighted by the softmax of the scores of masked inputs");
  MethodInfo ablation = cam_info("ablation-cam", "Desai & Ramaswamy 2020", "(1+K)F",
                                 "maps weighted by the score drop when each is zeroed");
  score.targets_from_forward = ablation.targets_from_forward = true;
  register_method(std::make_unique<PerturbationCam>(score, false));
  register_method(std::make_unique<PerturbationCam>(ablation, true));
  return true;
}();

}  // namespace
}  // namespace gradlens
