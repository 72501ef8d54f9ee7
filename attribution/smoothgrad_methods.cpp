// SmoothGrad, SmoothGrad² and VarGrad as methods of their own (Smilkov et al. 2017; Adebayo et
// al. 2018): the noise wrappers of attribution/noise.h around the signed input gradient, as PAIR
// saliency's SmoothGrad does. Any other method takes the same wrappers with --noise.
#include "attribution/method.h"
#include "attribution/noise.h"
#include "engine/error.h"

namespace gradlens {

namespace {

class NoisyGradient : public Method {
 public:
  NoisyGradient(const char* name, const char* paper, NoiseKind kind, const char* summary) : kind_(kind) {
    info_.name = name;
    info_.family = "noise";
    info_.paper = paper;
    info_.cost = "S·(1F + 1B)";
    info_.summary = summary;
    info_.parameters = {{"samples", "50", "noisy copies S per example"},
                        {"noise-level", "0.15", "noise σ as a fraction of each example's max − min, in [0, 1]"},
                        {"noise-std", "", "noise σ in input units for every example, instead of noise-level (Captum's stdevs)"},
                        {"seed", "0", "random seed of the noise"}};
  }
  const MethodInfo& info() const override { return info_; }

  Explanation explain_rows(const Request& r) const override {
    r.options.check_known(info_);
    NoiseOptions noise;
    noise.kind = kind_;
    noise.samples = r.options.integer(info_, "samples", 1, 1 << 20);
    noise.level = r.options.number(info_, "noise-level", 0, 1);
    if (!r.options.text(info_, "noise-std").empty()) {
      GL_CHECK(!r.options.has("noise-level"), info_.name, ": noise-std and noise-level both set σ: give one");
      noise.std = r.options.number(info_, "noise-std", 0, 1e30);
    }
    noise.seed = uint64_t(r.options.integer(info_, "seed", 0, INT64_MAX));
    Request base = r;
    base.options = Options();
    return explain_with_noise(method("gradient"), base, noise);
  }

 private:
  MethodInfo info_;
  NoiseKind kind_;
};

const bool registered = [] {
  register_method(std::make_unique<NoisyGradient>("smoothgrad", "Smilkov et al. 2017", NoiseKind::smoothgrad,
                                                  "mean gradient over noisy copies of the input"));
  register_method(std::make_unique<NoisyGradient>("smoothgrad-sq", "Smilkov et al. 2017 / Hooker et al. 2019",
                                                  NoiseKind::smoothgrad_sq, "mean squared gradient over noisy copies"));
  register_method(std::make_unique<NoisyGradient>("vargrad", "Adebayo et al. 2018", NoiseKind::vargrad,
                                                  "variance of the gradient over noisy copies"));
  return true;
}();

}  // namespace
}  // namespace gradlens
