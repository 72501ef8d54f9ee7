// Guided Grad-CAM (Selvaraju et al. 2017): guided backprop ⊙ the upsampled Grad-CAM (input-shaped);
// bilinear as pytorch-grad-cam, or nearest as Captum's GuidedGradCam.
#include <string>

#include "attribution/cam.h"
#include "engine/enum_table.h"
#include "engine/error.h"
#include "engine/resample.h"

namespace gradlens {

namespace {

// The upsamplings of the Grad-CAM factor: pytorch-grad-cam's and Captum's.
const EnumName<Resample> kUpsampling[] = {{"bilinear", Resample::bilinear}, {"nearest", Resample::nearest}};

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

  Explanation explain_rows(const Request& r) const override {
    r.options.check_known(info_);
    GL_CHECK(r.input.rank() == 4, info_.name, " needs image inputs [N,C,H,W]");
    const std::string upsample = r.options.text(info_, "upsample");
    GL_CHECK(enum_find(kUpsampling, upsample), info_.name, ": --upsample must be ", enum_choices(kUpsampling),
             ", got '", upsample, "'");
    Request cam_request = r, guided_request = r;
    cam_request.options.set("upsample", upsample);
    guided_request.options = Options();
    Explanation cam = method("grad-cam").explain(cam_request);
    Explanation guided = method("guided-backprop").explain(guided_request);
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
  register_method(std::make_unique<GuidedGradCam>());
  return true;
}();

}  // namespace
}  // namespace gradlens
