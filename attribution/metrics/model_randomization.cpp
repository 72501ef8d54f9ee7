// Model-parameter randomisation test (Adebayo et al. 2018, "Sanity checks for saliency maps",
// §3.1 and Fig. 2): an explanation that depends on what the model learned must change when the
// learned weights are replaced by random ones. The parametrised layers (randomized_model.h) are
// re-drawn from the output side down, w′ = μ + σ·z per weight tensor (the trained tensor's mean
// and standard deviation, z ~ N(0, 1) seeded by (seed, layer, tensor)):
//   cascading    step l re-draws layers 0..l (all layers up to l, output side first);
//   independent  step l re-draws layer l only.
// The randomised model's maps are made exactly as the given ones (same method, options, targets,
// explained function: maps.h's recomputed_maps) and compared with them per example, on the
// channel-pooled maps A = Σ_c |a_c| and S = Σ_c a_c (Adebayo et al.'s absolute and diverging maps):
//   spearman_abs = ρ_s(A, A′), spearman = ρ_s(S, S′), ssim = SSIM(A/max A, A′/max A′),
//   hog = pearson(HOG(A/max A), HOG(A′/max A′)), top_k = |top-k(A) ∩ top-k(A′)| / k with
//   k = ⌈fraction · pixels⌉ (similarity.h). Lower similarity = the map depends more on the weights.
// The metric's value is spearman_abs of the last cascading step (every chosen layer re-drawn), or
// with --randomization independent the mean of spearman_abs over the layers; "spearman", "ssim",
// "hog" and "top_k" are summarised the same way. Per step the results hold
// "<mode>:<step>:<measure>:<layer>" (step 000 = the layer nearest the output).
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <sstream>

#include "attribution/metrics/maps.h"
#include "attribution/metrics/randomized_model.h"
#include "attribution/metrics/similarity.h"
#include "attribution/metrics/ssim.h"
#include "engine/error.h"

namespace gradlens {
namespace {

const char* const kMeasures[] = {"spearman_abs", "spearman", "ssim", "hog", "top_k"};

// A = Σ_c |a_c| of example n (H·W values).
std::vector<double> absolute_map(const Tensor& attribution, int64_t n, const Grid& g) {
  const int64_t per = attribution.numel() / attribution.dim(0);
  const float* a = attribution.data() + n * per;
  std::vector<double> out(size_t(g.size()), 0.0);
  for (int64_t c = 0; c < per / g.size(); ++c)
    for (int64_t i = 0; i < g.size(); ++i) out[size_t(i)] += std::fabs(double(a[c * g.size() + i]));
  return out;
}

std::vector<double> scaled_to_max(std::vector<double> v) {
  const double m = *std::max_element(v.begin(), v.end());
  if (m > 0)
    for (double& e : v) e /= m;
  return v;
}

// Per-example key text: layer names go into CSV fields, so commas and line breaks become '_'.
std::string key(const std::string& mode, size_t step, const std::string& measure, std::string layer) {
  for (char& c : layer)
    if (c == ',' || c == '\n' || c == '\r' || c == '"') c = '_';
  char buf[16];
  std::snprintf(buf, sizeof buf, "%03zu", step);
  return mode + ":" + buf + ":" + measure + ":" + layer;
}

class ModelRandomization : public Metric {
 public:
  const MetricInfo& info() const override {
    static const MetricInfo i = {
        "model-randomization", "randomisation", "Adebayo et al. 2018",
        "ρ_s(|m|, |m'_l|), ρ_s(m, m'_l), SSIM, HOG, top-k of m'_l = the map after re-drawing layer l (w' = μ + σz)",
        "L × method per mode (L layers)", false, false, true,
        {{"randomization", "both", "cascading (re-draw from the output down, cumulatively), independent (one layer at a time) or both"},
         {"layers", "", "parametrised layers to re-draw, by ONNX node name, comma-separated (default: every layer with weights)"},
         {"top-k", "0.1", "fraction of pixels in the top-k intersection, in (0, 1]"},
         {"hog-cell", "8", "HOG cell size in pixels (9 orientation bins, 2x2-cell blocks, L2-Hys)"}},
        {"spearman", "ssim", "hog", "top_k"}};
    return i;
  }

  MetricResult evaluate(const MetricInput& in) const override {
    check_metric_input(info(), in);
    const std::string& name = info().name;
    const MethodInfo owner = parameter_owner(info());
    const std::string mode = in.options.text(owner, "randomization");
    GL_CHECK(mode == "both" || mode == "cascading" || mode == "independent", name,
             ": --randomization must be both, cascading or independent, got '", mode, "'");
    const double fraction = in.options.number(owner, "top-k", 0.0, 1.0);
    GL_CHECK(fraction > 0, name, ": --top-k must be in (0, 1], got ", fraction);
    const int64_t cell = in.options.integer(owner, "hog-cell", 1, 1 << 16);
    GL_CHECK(in.method, name, ": needs the method that made the maps (give --methods, not --attributions)");
    const auto* explained = dynamic_cast<const ModelFunction*>(&explained_function(in));
    GL_CHECK(explained, name, ": needs an ONNX model (a ModelFunction) whose weights it can re-draw");
    const Model& model = *explained->model();

    const std::vector<ParametrisedLayer> all = parametrised_layers(model);
    GL_CHECK(!all.empty(), name, ": the model has no layer with weights (graph initializers) to re-draw");
    const std::vector<int64_t> chosen = chosen_layers(all, in.options.text(owner, "layers"));

    const Grid g = image_grid(in);
    const int64_t N = in.input.dim(0);
    const int64_t k = std::max<int64_t>(1, int64_t(std::ceil(fraction * double(g.size()) - 1e-9)));
    std::vector<std::vector<double>> abs_maps, signed_maps;
    for (int64_t n = 0; n < N; ++n) {
      abs_maps.push_back(absolute_map(in.attribution, n, g));
      signed_maps.push_back(pixel_map(in, n));
    }
    MetricResult out;
    const bool with_hog = !hog(abs_maps[0], g.height, g.width, cell).empty();
    std::vector<std::string> modes;
    if (mode != "independent") modes.push_back("cascading");
    if (mode != "cascading") modes.push_back("independent");
    Tensor picture;
    for (const std::string& m : modes) {
      if (m == "cascading") picture = Tensor(Shape{int64_t(chosen.size()) + 1, g.height, g.width});
      for (size_t step = 0; step < chosen.size(); ++step) {
        std::vector<int64_t> redrawn;
        if (m == "cascading")
          redrawn.assign(chosen.begin(), chosen.begin() + long(step) + 1);
        else
          redrawn = {chosen[step]};
        const std::unique_ptr<Model> randomized = randomized_model(model, all, redrawn, in.seed);
        const ModelFunction f(*randomized, explained->kind());
        MetricInput random = in;
        random.attribution = recomputed_maps(in, name, f, in.input, in.targets);
        out.forward_passes += N;
        const std::string& layer = all[size_t(chosen[step])].name;
        for (int64_t n = 0; n < N; ++n) {
          const std::vector<double> a = absolute_map(random.attribution, n, g);
          const std::vector<double> as = scaled_to_max(abs_maps[size_t(n)]), bs = scaled_to_max(a);
          std::map<std::string, double> v = {
              {"spearman_abs", spearman(abs_maps[size_t(n)], a)},
              {"spearman", spearman(signed_maps[size_t(n)], pixel_map(random, n))},
              {"ssim", ssim(as, bs, g.height, g.width)},
              {"top_k", top_k_intersection(abs_maps[size_t(n)], a, k)}};
          if (with_hog) v["hog"] = hog_similarity(as, bs, g.height, g.width, cell);
          for (const auto& [measure, value] : v) out.per_example[key(m, step, measure, layer)].push_back(value);
          if (m == "cascading" && n == 0) std::copy(a.begin(), a.end(), picture.data() + int64_t(step + 1) * g.size());
        }
      }
      if (m == "cascading") {
        std::copy(abs_maps[0].begin(), abs_maps[0].end(), picture.data());
        out.maps["cascading"] = picture;
      }
    }
    // The summary: the last cascading step, else the mean over the independent steps.
    const bool cascading = modes.front() == "cascading";
    for (const char* measure : kMeasures) {
      if (std::string(measure) == "hog" && !with_hog) continue;
      std::vector<double> summary(size_t(N), 0.0);
      for (size_t step = 0; step < chosen.size(); ++step) {
        if (cascading && step + 1 != chosen.size()) continue;
        const auto& v = out.per_example.at(key(modes.front(), step, measure, all[size_t(chosen[step])].name));
        for (int64_t n = 0; n < N; ++n)
          summary[size_t(n)] += v[size_t(n)] / double(cascading ? 1 : chosen.size());
      }
      if (std::string(measure) == "spearman_abs")
        out.values = summary;
      else
        out.per_example[measure] = summary;
    }
    return out;
  }

 private:
  // --layers by name (every parametrised layer when empty), in the output-side-first order.
  std::vector<int64_t> chosen_layers(const std::vector<ParametrisedLayer>& all, const std::string& text) const {
    std::vector<int64_t> chosen;
    if (text.empty()) {
      for (size_t l = 0; l < all.size(); ++l) chosen.push_back(int64_t(l));
      return chosen;
    }
    std::stringstream ss(text);
    std::string item;
    while (std::getline(ss, item, ',')) {
      if (item.empty()) continue;
      const auto it = std::find_if(all.begin(), all.end(), [&](const ParametrisedLayer& p) { return p.name == item; });
      if (it == all.end()) {
        std::string known;
        for (const ParametrisedLayer& p : all) known += (known.empty() ? "" : ", ") + p.name;
        fail(info().name, ": --layers: no layer with weights named '", item, "' (output side first: ", known, ")");
      }
      chosen.push_back(int64_t(it - all.begin()));
    }
    GL_CHECK(!chosen.empty(), info().name, ": --layers names no layer");
    std::sort(chosen.begin(), chosen.end());
    chosen.erase(std::unique(chosen.begin(), chosen.end()), chosen.end());
    return chosen;
  }
};

}  // namespace
}  // namespace gradlens

GRADLENS_REGISTER_METRIC(model_randomization, gradlens::ModelRandomization)
