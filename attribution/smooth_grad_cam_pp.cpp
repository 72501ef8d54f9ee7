// Smooth Grad-CAM++ (Omeiza et al. 2019): Grad-CAM++ with G, G², G³ averaged over S noisy copies
// of the input (the noise of the smoothgrad wrapper, noise.h).
#include "attribution/cam.h"
#include "attribution/gradients.h"
#include "attribution/noise.h"
#include "engine/error.h"

namespace gradlens {

namespace {

class SmoothGradCamPP : public Method {
 public:
  SmoothGradCamPP()
      : info_(cam_info("smooth-grad-cam-pp", "Omeiza et al. 2019", "(1+S)F + SB",
                       "Grad-CAM++ with G, G², G³ averaged over S noisy copies of the input",
                       {{"samples", "50", "noisy copies S"},
                        {"noise-level", "0.15", "noise σ as a fraction of each example's max − min"},
                        {"seed", "0", "random seed of the noise"}})) {}
  const MethodInfo& info() const override { return info_; }

  Explanation explain_rows(const Request& r) const override {
    r.options.check_known(info_);
    const int64_t S = r.options.integer(info_, "samples", 1, 100000);
    const double level = r.options.number(info_, "noise-level", 0, 1e6);
    Rng rng(uint64_t(r.options.integer(info_, "seed", 0, INT64_MAX)));
    LayerPass clean = layer_pass(info_, r, false);
    const int64_t N = r.input.dim(0);
    Tensor D1(clean.A.shape()), D2(clean.A.shape()), D3(clean.A.shape());
    const int64_t per_map = clean.A.numel() / N;
    for (int64_t n = 0; n < N; ++n) {
      Shape s = r.input.shape();
      s[0] = S;
      Tensor noisy(s);
      noisy_copies(r.input, n, S, relative_sigma(r.input, n, level), rng, noisy.data());
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
    Tensor w = grad_cam_pp_weights(clean.A, D1, D1, &D2, &D3);
    Explanation e = finish_cam(info_, r, clean, weighted_channel_sum(w, clean.A), N * (1 + S), N * S);
    e.notes["samples"] = std::to_string(S);
    return e;
  }

 private:
  MethodInfo info_;
};

const bool registered = [] {
  register_method(std::make_unique<SmoothGradCamPP>());
  return true;
}();

}  // namespace
}  // namespace gradlens
