// FullGrad (Srinivas & Fleuret 2019) from the engine's bias tracking. For a network that is
// piecewise linear with biases, the full-gradient decomposition is exact:
//   f(x) = Σ x ⊙ ∇ₓf  +  Σ_layers Σ (∂f/∂y_l ⊙ b_l)                  (paper eq. 3)
// The raw attribution is the input-gradient term x ⊙ ∇ₓf; JSON reports f(x), the input term,
// each layer's bias term and the completeness gap f − (input term + bias terms), which is ~0 for
// such networks (and measures the non-linearity otherwise). The extra "map" is the paper's
// saliency (their code): ψ(x⊙∇f) summed over channels + Σ_l ψ(bias map_l) summed over channels,
// for the spatial (4-D) bias maps only, with ψ = |·|, min-max rescaling per example and
// bilinear upsampling with align_corners=True.
#include <cmath>

#include "attribution/gradients.h"
#include "attribution/method.h"
#include "engine/error.h"
#include "engine/resample.h"

namespace gradlens {

namespace {

// ψ: |t|, then per example t ← (t − min) / (max − min + 1e-6) over all its elements.
Tensor postprocess(const Tensor& t) {
  Tensor out = t.clone();
  const int64_t N = out.dim(0), per = out.numel() / N;
  for (int64_t n = 0; n < N; ++n) {
    float* p = out.data() + n * per;
    float lo = INFINITY, hi = -INFINITY;
    for (int64_t i = 0; i < per; ++i) {
      p[i] = std::fabs(p[i]);
      lo = std::min(lo, p[i]);
    }
    for (int64_t i = 0; i < per; ++i) hi = std::max(hi, p[i] -= lo);
    for (int64_t i = 0; i < per; ++i) p[i] /= hi + 1e-6f;
  }
  return out;
}

// [N, C, h, w] → [N, 1, h, w] by summing channels.
Tensor channel_sum(const Tensor& t) {
  const int64_t N = t.dim(0), C = t.dim(1), hw = t.dim(2) * t.dim(3);
  Tensor out(Shape{N, 1, t.dim(2), t.dim(3)});
  for (int64_t n = 0; n < N; ++n)
    for (int64_t c = 0; c < C; ++c)
      for (int64_t i = 0; i < hw; ++i) out[n * hw + i] += t[(n * C + c) * hw + i];
  return out;
}

class FullGrad : public Method {
 public:
  FullGrad() {
    info_.name = "fullgrad";
    info_.family = "bias";
    info_.paper = "Srinivas & Fleuret 2019";
    info_.cost = "1F + 1B";
    info_.summary = "input-gradient term of the exact full-gradient decomposition; bias terms in JSON";
  }
  const MethodInfo& info() const override { return info_; }

  Explanation explain_rows(const Request& r) const override {
    r.options.check_known(info_);
    PassOptions o;
    o.batch = r.batch;
    o.bias_maps = true;
    PassResult p = gradient_pass(*r.function, r.input, r.targets, r.contrast, o);
    const int64_t N = r.input.dim(0), per = r.input.numel() / N;
    Explanation e;
    e.attribution = std::move(p.input_grad);
    for (int64_t i = 0; i < e.attribution.numel(); ++i) e.attribution[i] *= r.input[i];
    const size_t count = static_cast<size_t>(N);
    std::vector<double> input_term(count), bias_term(count), gap(count), total(count);
    for (int64_t n = 0; n < N; ++n)
      for (int64_t i = 0; i < per; ++i) input_term[size_t(n)] += e.attribution[n * per + i];
    for (const BiasCapture& b : p.biases) {
      std::vector<double> layer(count);
      const int64_t bper = b.map.numel() / N;
      for (int64_t n = 0; n < N; ++n)
        for (int64_t i = 0; i < bper; ++i) layer[size_t(n)] += b.map[n * bper + i];
      for (int64_t n = 0; n < N; ++n) bias_term[size_t(n)] += layer[size_t(n)];
      e.per_example["bias_term:" + b.name] = layer;
    }
    for (size_t n = 0; n < size_t(N); ++n) {
      total[n] = input_term[n] + bias_term[n];
      gap[n] = p.scores[n] - total[n];
    }
    e.per_example["input_term"] = input_term;
    e.per_example["bias_term"] = bias_term;
    e.per_example["decomposition_sum"] = total;
    e.per_example["completeness_gap"] = gap;
    e.notes["bias_layers"] = std::to_string(p.biases.size());
    if (r.input.rank() == 4) {
      const int64_t H = r.input.dim(2), W = r.input.dim(3);
      Tensor map = channel_sum(postprocess(e.attribution));
      for (const BiasCapture& b : p.biases) {
        if (b.map.rank() != 4) continue;
        Tensor up = resize(channel_sum(postprocess(b.map)), H, W, Resample::bilinear_corners);
        map.vec() += up.vec();
      }
      e.extras["map"] = std::move(map);
    }
    e.scores = std::move(p.scores);
    e.forward_passes = e.backward_passes = N;
    return e;
  }

 private:
  MethodInfo info_;
};

GRADLENS_REGISTER_METHOD(fullgrad, FullGrad)

}  // namespace
}  // namespace gradlens
