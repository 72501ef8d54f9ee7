#include "attribution/method.h"

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstdlib>

#include "attribution/gradients.h"
#include "engine/error.h"
#include "engine/number_text.h"
#include "engine/suggest.h"

namespace gradlens {

namespace {
const Parameter& declared(const MethodInfo& m, const std::string& name) {
  for (const Parameter& p : m.parameters)
    if (p.name == name) return p;
  fail("method '", m.name, "' has no parameter '", name, "'");
}
}  // namespace

std::string Options::text(const MethodInfo& m, const std::string& name) const {
  const Parameter& p = declared(m, name);
  auto it = values_.find(name);
  return it == values_.end() ? p.fallback : it->second;
}

double Options::number(const MethodInfo& m, const std::string& name, double min, double max) const {
  const std::string v = text(m, name);
  double d = 0;
  GL_CHECK(parse_real(v, d), m.name, ": --", name, " expects a number, got '", v, "'");
  GL_CHECK(d >= min && d <= max, m.name, ": --", name, " must be in [", min, ", ", max, "], got ", d);
  return d;
}

int64_t Options::integer(const MethodInfo& m, const std::string& name, int64_t min, int64_t max) const {
  const std::string v = text(m, name);
  int64_t i = 0;
  GL_CHECK(parse_integer(v, i), m.name, ": --", name, " expects an integer, got '", v, "'");
  GL_CHECK(i >= min && i <= max, m.name, ": --", name, " must be in [", min, ", ", max, "], got ", i);
  return i;
}

bool Options::boolean(const MethodInfo& m, const std::string& name) const {
  const std::string v = text(m, name);
  if (v == "1" || v == "true" || v == "yes" || v == "on") return true;
  if (v == "0" || v == "false" || v == "no" || v == "off" || v.empty()) return false;
  fail(m.name, ": --", name, " expects true or false, got '", v, "'");
}

void Options::check_known(const MethodInfo& m) const {
  for (const auto& entry : values_) declared(m, entry.first);
}

std::vector<int64_t> predicted_classes(const Tensor& scores) {
  GL_CHECK(scores.rank() == 2 && scores.dim(1) >= 1, "predicted classes need scores [N, C], got ",
           scores.shape().str());
  const int64_t N = scores.dim(0), C = scores.dim(1);
  std::vector<int64_t> out;
  for (int64_t n = 0; n < N; ++n)
    out.push_back(std::max_element(scores.data() + n * C, scores.data() + (n + 1) * C) - (scores.data() + n * C));
  return out;
}

std::vector<int64_t> predicted_classes(const Function& function, const Tensor& inputs, int64_t batch) {
  return predicted_classes(evaluate_scores(function, inputs, batch));
}

Explanation Method::explain(const Request& request) const {
  const std::string& name = info().name;
  GL_CHECK(request.function, name, ": the request has no function");
  GL_CHECK(request.input.rank() >= 1, name, ": the input needs a batch axis, got shape ", request.input.shape().str());
  if (const Model* model = request.function->model())
    if (model->graph().inputs.size() == 1) model->check_input_shape(0, request.input.shape(), name + ": the input");
  const size_t N = size_t(request.input.dim(0));
  // The classes explained, whoever chose them.
  auto explained = [&](Explanation e, const std::vector<int64_t>& given) {
    if (e.targets.empty()) e.targets = given;
    GL_CHECK(e.targets.size() == N, name, ": explained ", e.targets.size(), " targets for ", N, " examples");
    return e;
  };
  const bool ready = request.targets.size() == N && (request.contrast.empty() || request.contrast.size() == N);
  if (ready) return explained(explain_rows(request), request.targets);
  Request r = request;
  // One class for all, or none: each example's predicted class.
  auto spread = [&](std::vector<int64_t>& classes, const char* what) {
    GL_CHECK(classes.size() <= 1 || classes.size() == N, name, ": ", classes.size(), " ", what, " for ", N,
             " examples (give one per example, one for all", std::string(what) == "targets" ? ", or none for each "
             "example's predicted class)" : ")");
    if (classes.size() == 1) classes.assign(N, classes[0]);
  };
  spread(r.targets, "targets");
  if (!r.contrast.empty()) spread(r.contrast, "contrast classes");
  if (!r.targets.empty() || info().targets_from_forward) return explained(explain_rows(r), r.targets);
  // The method's passes do not run the input itself first: one forward chooses the targets.
  const Tensor scores = evaluate_scores(*r.function, r.input, std::max<int64_t>(r.batch, 1));
  r.targets = predicted_classes(scores);
  Explanation e = explain_rows(r);
  if (e.logits.empty()) e.logits = scores;
  return explained(std::move(e), r.targets);
}

namespace {
std::vector<std::unique_ptr<Method>>& registry() {
  static std::vector<std::unique_ptr<Method>> r;
  return r;
}
}  // namespace

bool register_method(std::unique_ptr<Method> m) {
  registry().push_back(std::move(m));
  return true;
}

const Method* find_method(const std::string& name) {
  for (const auto& m : registry())
    if (m->info().name == name) return m.get();
  return nullptr;
}

const Method& method(const std::string& name) {
  if (const Method* m = find_method(name)) return *m;
  std::vector<std::string> names;
  for (const Method* m : methods()) names.push_back(m->info().name);
  const std::string close = did_you_mean(name, names);
  if (!close.empty()) fail("unknown method '", name, "'", close);
  std::string known;
  for (const std::string& n : names) known += (known.empty() ? "" : ", ") + n;
  fail("unknown method '", name, "' (available: ", known, ")");
}

std::vector<const Method*> methods() {
  std::vector<const Method*> out;
  for (const auto& m : registry()) out.push_back(m.get());
  std::sort(out.begin(), out.end(), [](const Method* a, const Method* b) {
    return std::tie(a->info().family, a->info().name) < std::tie(b->info().family, b->info().name);
  });
  return out;
}

}  // namespace gradlens
