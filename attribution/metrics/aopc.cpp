// AOPC (Samek et al. 2017, "Evaluating the visualization of what a deep neural network has
// learned", §III): the image is cut into non-overlapping p×p patches (edge patches smaller),
// ranked by the summed attribution Σ_{patch} Σ_c a_c, most relevant first; step k = 1..L replaces
// the k-th patch by the removal image (default: uniform noise U(min x, max x), as the paper), and
// AOPC = 1/(L+1) Σ_{k=0}^{L} (f_c(x⁽⁰⁾) − f_c(x⁽ᵏ⁾)). L is capped at the number of patches.
#include <algorithm>

#include "attribution/metrics/perturbation.h"

namespace gradlens {
namespace {

class Aopc : public Metric {
 public:
  const MetricInfo& info() const override {
    static const MetricInfo i = {
        "aopc", "faithfulness", "Samek et al. 2017", "1/(L+1) Σ_{k=0}^{L} (f_c(x) − f_c(x with the top k patches removed))",
        "L+1 F", true, false, true,
        {{"patch", "9", "patch side p in pixels (Samek et al.: 9)"},
         {"regions", "100", "L: patches removed one by one (at most the number of patches)"},
         {"removal", "uniform", "removed patches become uniform noise, zero, mean, blur or a .npy image"}}, {}};
    return i;
  }
  MetricResult evaluate(const MetricInput& in) const override {
    check_metric_input(info(), in);
    const MethodInfo owner = parameter_owner(info());
    const int64_t p = in.options.integer(owner, "patch", 1, 1 << 20);
    const int64_t regions = in.options.integer(owner, "regions", 1, 1 << 30);
    const std::string removal = in.options.text(owner, "removal");
    const Grid g = image_grid(in);
    // Patches in row-major order of their top-left corners.
    std::vector<std::vector<int64_t>> patches;
    for (int64_t y0 = 0; y0 < g.height; y0 += p)
      for (int64_t x0 = 0; x0 < g.width; x0 += p) {
        std::vector<int64_t> pix;
        for (int64_t y = y0; y < std::min(y0 + p, g.height); ++y)
          for (int64_t x = x0; x < std::min(x0 + p, g.width); ++x) pix.push_back(y * g.width + x);
        patches.push_back(pix);
      }
    const int64_t L = std::min<int64_t>(regions, int64_t(patches.size()));
    MetricResult out;
    out.curve_x.clear();
    for (int64_t k = 0; k <= L; ++k) out.curve_x.push_back(double(k));
    for (int64_t n = 0; n < in.input.dim(0); ++n) {
      const std::vector<double> m = pixel_map(in, n);
      std::vector<double> relevance;
      for (const auto& patch : patches) {
        double s = 0;
        for (int64_t q : patch) s += m[size_t(q)];
        relevance.push_back(s);
      }
      std::vector<std::vector<int64_t>> ranked;
      for (int64_t r : pixel_order(relevance, false)) {
        if (int64_t(ranked.size()) == L) break;
        ranked.push_back(patches[size_t(r)]);
      }
      const std::vector<double> y = perturbation_curve(in, n, example(in.input, n),
                                                       removal_image(in, n, removal, info().name), ranked, L,
                                                       out.forward_passes);
      double s = 0;
      for (double v : y) s += y[0] - v;
      out.values.push_back(s / double(L + 1));
      out.curves.push_back(y);
    }
    return out;
  }
};

}  // namespace
}  // namespace gradlens

GRADLENS_REGISTER_METRIC(aopc, gradlens::Aopc)
