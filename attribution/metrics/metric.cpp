#include "attribution/metrics/metric.h"

#include <algorithm>

#include "engine/error.h"
#include "engine/suggest.h"

namespace gradlens {

double box_iou(const Box& a, const Box& b) {
  const int64_t w = std::min(a.x1, b.x1) - std::max(a.x0, b.x0);
  const int64_t h = std::min(a.y1, b.y1) - std::max(a.y0, b.y0);
  const double inter = w > 0 && h > 0 ? double(w * h) : 0.0;
  const double uni = double(a.area() + b.area()) - inter;
  return uni > 0 ? inter / uni : 0.0;
}

uint64_t example_seed(const MetricInput& in, int64_t n) {
  return in.seed * 1000003u + uint64_t(in.example_ids.empty() ? n : in.example_ids[size_t(n)]);
}

const Function& explained_function(const MetricInput& in) {
  return in.map_function ? *in.map_function : *in.function;
}

MethodInfo parameter_owner(const MetricInfo& info) {
  MethodInfo m;
  m.name = info.name;
  m.parameters = info.parameters;
  return m;
}

namespace {
std::vector<std::unique_ptr<Metric>>& registry() {
  static std::vector<std::unique_ptr<Metric>> r;
  return r;
}
}  // namespace

bool register_metric(std::unique_ptr<Metric> metric) {
  GL_CHECK(!find_metric(metric->info().name), "metric '", metric->info().name, "' registered twice");
  registry().push_back(std::move(metric));
  return true;
}

const Metric* find_metric(const std::string& name) {
  for (const auto& m : registry())
    if (m->info().name == name) return m.get();
  return nullptr;
}

const Metric& metric(const std::string& name) {
  if (const Metric* m = find_metric(name)) return *m;
  std::vector<std::string> names;
  for (const Metric* m : metrics()) names.push_back(m->info().name);
  const std::string close = did_you_mean(name, names);
  if (!close.empty()) fail("unknown metric '", name, "'", close);
  std::string known;
  for (const std::string& n : names) known += (known.empty() ? "" : ", ") + n;
  fail("unknown metric '", name, "' (known: ", known, ")");
}

std::vector<const Metric*> metrics() {
  std::vector<const Metric*> out;
  for (const auto& m : registry()) out.push_back(m.get());
  std::sort(out.begin(), out.end(), [](const Metric* a, const Metric* b) {
    return std::make_pair(a->info().group, a->info().name) < std::make_pair(b->info().group, b->info().name);
  });
  return out;
}

void check_metric_input(const MetricInfo& info, const MetricInput& in) {
  const std::string& m = info.name;
  GL_CHECK(!in.input.empty() && in.input.rank() >= 2, m, ": needs a batch of inputs [N, ...]");
  const int64_t N = in.input.dim(0);
  const Shape& xs = in.input.shape();
  const Shape& as = in.attribution.shape();
  bool fits = as == xs;
  if (!fits && xs.rank() == 4 && as.rank() == 4)
    fits = as[0] == N && as[1] == 1 && as[2] == xs[2] && as[3] == xs[3];
  GL_CHECK(fits, m, ": attribution shape ", as.str(), " does not match the inputs ", xs.str(),
           " (expected the same shape, or [N, 1, H, W])");
  GL_CHECK(int64_t(in.targets.size()) == N, m, ": ", in.targets.size(), " targets for ", N, " examples");
  GL_CHECK(in.labels.empty() || int64_t(in.labels.size()) == N, m, ": ", in.labels.size(), " labels for ", N,
           " examples");
  for (const auto& option : in.options.values()) {
    const std::string& name = option.first;  // (a structured binding cannot be captured in C++17)
    const bool known = std::any_of(info.parameters.begin(), info.parameters.end(),
                                   [&](const Parameter& p) { return p.name == name; });
    GL_CHECK(known, "metric '", m, "' has no parameter '", name, "'");
  }
  if (info.needs_model) GL_CHECK(in.function, m, ": needs the model (a Function)");
  GL_CHECK(in.batch >= 1, m, ": batch must be at least 1");
  GL_CHECK(in.example_ids.empty() || int64_t(in.example_ids.size()) == N, m, ": ", in.example_ids.size(),
           " example ids for ", N, " examples");
  const int64_t H = xs.rank() == 4 ? xs[2] : 1, W = xs.rank() == 4 ? xs[3] : xs.numel() / N;
  if (!in.masks.empty()) {
    GL_CHECK(in.masks.rank() == 3 && in.masks.dim(0) == N && in.masks.dim(1) == H && in.masks.dim(2) == W, m,
             ": masks ", in.masks.shape().str(), " do not match the inputs (expected [", N, ", ", H, ", ", W, "])");
    for (int64_t n = 0; n < N; ++n) {
      bool any = false;
      for (int64_t i = 0; i < H * W && !any; ++i) any = in.masks[n * H * W + i] != 0.0f;
      GL_CHECK(any, m, ": the mask of example ", n, " is empty");
    }
  }
  if (!in.boxes.empty()) {
    GL_CHECK(int64_t(in.boxes.size()) == N, m, ": ", in.boxes.size(), " boxes for ", N, " examples");
    for (size_t n = 0; n < in.boxes.size(); ++n) {
      const Box& b = in.boxes[n];
      GL_CHECK(b.x0 >= 0 && b.y0 >= 0 && b.x1 <= W && b.y1 <= H && b.x0 < b.x1 && b.y0 < b.y1, m, ": box ", n,
               " [", b.x0, ", ", b.y0, ", ", b.x1, ", ", b.y1, ") is empty or outside the ", W, "x", H, " image");
    }
  }
  if (info.needs_region) GL_CHECK(!in.masks.empty() || !in.boxes.empty(), m, ": needs masks or boxes");
}

}  // namespace gradlens
