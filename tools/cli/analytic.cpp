#include "tools/cli/analytic.h"

#include <algorithm>
#include <cmath>
#include <cstdio>

#include "attribution/baselines.h"
#include "attribution/gradients.h"
#include "engine/error.h"
#include "io/npy.h"
#include "tools/cli/inputs.h"
#include "tools/cli/json.h"
#include "tools/cli/text_table.h"

namespace gradlens::cli {

std::string format_values(const std::vector<float>& v) {
  std::string s = "(";
  for (size_t i = 0; i < v.size(); ++i) {
    char buf[32];
    std::snprintf(buf, sizeof buf, "%g", double(v[i]));
    s += (i ? ", " : "") + std::string(buf);
  }
  return s + ")";
}

void print_analytic_catalogue() {
  TextTable table({"NAME", "FEATURES", "CLASSES", "INPUT", "BASELINE", "SYMMETRIC", "DUMMY", "CLOSED FORMS"});
  table.align_right(1);
  table.align_right(2);
  for (const AnalyticModel& m : analytic_models()) {
    std::string forms;
    for (const auto& [method, form] : m.closed_forms) forms += (forms.empty() ? "" : ",") + method;
    const std::string symmetric =
        m.symmetric.empty() ? "-" : std::to_string(m.symmetric[0]) + "," + std::to_string(m.symmetric[1]);
    table.add_row({m.name, std::to_string(m.features), std::to_string(m.classes), format_values(m.input),
                   format_values(m.baseline), symmetric, m.dummy < 0 ? "-" : std::to_string(m.dummy), forms});
  }
  std::printf("%s\n", table.render().c_str());
  for (const AnalyticModel& m : analytic_models())
    std::printf("%s: %s\n    %s\n", m.name.c_str(), m.formula.c_str(), m.description.c_str());
}

Tensor analytic_input(const AnalyticModel& m, const std::vector<std::string>& positional) {
  GL_CHECK(positional.size() <= 1, "--analytic ", m.name, " takes at most one INPUT.npy, got ", positional.size(),
           " inputs");
  if (positional.empty()) {
    Tensor x(Shape{1, m.features});
    for (int64_t i = 0; i < m.features; ++i) x[i] = m.input[size_t(i)];
    return x;
  }
  Tensor x = load_tensor(positional[0]);
  if (x.rank() == 1) x = x.reshaped(Shape{1, x.dim(0)});
  GL_CHECK(x.rank() == 2 && x.dim(1) == m.features && x.dim(0) > 0, positional[0], ": shape ", x.shape().str(),
           " does not fit analytic model '", m.name, "', which takes [", m.features, "] or [N, ", m.features, "]");
  return x;
}

std::vector<double> example_row(const Tensor& x, int64_t n) {
  const int64_t per = x.numel() / x.dim(0);
  std::vector<double> row(static_cast<size_t>(per));
  for (int64_t i = 0; i < per; ++i) row[size_t(i)] = x[n * per + i];
  return row;
}

}  // namespace gradlens::cli

// ---- explain --analytic ---------------------------------------------------------------------

namespace gradlens::cli {

int run_explain_analytic(const Args& args, const Method& m, const Options& options) {
  const MethodInfo& info = m.info();
  const AnalyticModel& model = analytic_model(args.get("analytic"));
  for (const char* flag : {"noise", "noise-file", "out-png", "score", "contrast"})
    GL_CHECK(!args.has(flag), "--", flag, " does not apply to an analytic model");
  GL_CHECK(!info.layer_map && info.output.empty(), "method '", info.name,
           "' does not give input attributions, which is what an analytic model is explained by");
  Request r;
  r.function = &model.function;
  r.input = analytic_input(model, args.positional());
  r.batch = args.get_int("batch", 1, 1 << 20);
  r.targets = parse_targets(args.get("target"), evaluate_scores(model.function, r.input, r.batch), "target");
  r.options = options;
  const Explanation e = m.explain(r);
  // The baseline the method used, or the model's default for the closed forms that take one.
  Tensor baseline;
  const bool has_baseline = std::any_of(info.parameters.begin(), info.parameters.end(),
                                        [](const Parameter& p) { return p.name == "baseline"; });
  if (has_baseline) {
    baseline = parse_baseline(info, r);
  } else {
    baseline = Tensor(r.input.shape());
    for (int64_t k = 0; k < baseline.numel(); ++k) baseline[k] = model.baseline[size_t(k % model.features)];
  }
  const auto form = model.closed_forms.find(info.name);
  const bool closed = form != model.closed_forms.end();
  const std::vector<int64_t> zero_targets(r.targets.size(), 0);
  const Tensor fx = evaluate_scores(model.function, r.input, r.batch);
  const Tensor fb = evaluate_scores(model.function, baseline, r.batch);

  if (args.has("out-npy")) write_npy(args.get("out-npy"), e.attribution);
  const int64_t N = r.input.dim(0), d = model.features;
  double worst = 0;
  std::vector<std::vector<double>> forms;
  for (int64_t n = 0; n < N; ++n) {
    if (!closed) continue;
    forms.push_back(form->second.value(example_row(r.input, n), example_row(baseline, n), r.targets[size_t(n)]));
    for (int64_t i = 0; i < d; ++i)
      worst = std::max(worst, std::fabs(forms.back()[size_t(i)] - double(e.attribution[n * d + i])));
  }
  const int64_t C = fx.dim(1);
  if (args.flag("json")) {
    Json j;
    j.begin_object().key("analytic").value(model.name).key("formula").value(model.formula);
    j.key("method").value(info.name).key("parameters").begin_object();
    for (const Parameter& p : info.parameters) j.key(p.name).value(r.options.text(info, p.name));
    j.end_object().key("targets").array(r.targets);
    j.key("examples").begin_array();
    for (int64_t n = 0; n < N; ++n) {
      j.begin_object().key("x").array(example_row(r.input, n)).key("baseline").array(example_row(baseline, n));
      j.key("score").value(double(fx[n * C + r.targets[size_t(n)]]));
      j.key("baseline_score").value(double(fb[n * C + r.targets[size_t(n)]]));
      j.key("attribution").array(example_row(e.attribution, n));
      if (closed) j.key("closed_form").array(forms[size_t(n)]);
      j.end_object();
    }
    j.end_array();
    if (closed) j.key("closed_form_formula").value(form->second.formula).key("max_abs_difference").value(worst);
    for (const auto& [k, v] : e.per_example) j.key(k).array(v);
    j.end_object();
    std::printf("%s\n", j.str().c_str());
    return 0;
  }
  std::printf("analytic %s: %s\nmethod %s", model.name.c_str(), model.formula.c_str(), info.name.c_str());
  if (has_baseline) std::printf(" (baseline %s)", r.options.text(info, "baseline").c_str());
  std::printf("\n");
  for (int64_t n = 0; n < N; ++n) {
    const int64_t t = r.targets[size_t(n)];
    std::printf("\nexample %lld, class %lld: f(x) = %.6g, f(x′) = %.6g\n", (long long)n, (long long)t,
                double(fx[n * C + t]), double(fb[n * C + t]));
    TextTable table(closed ? std::vector<std::string>{"FEATURE", "X", "BASELINE", "ATTRIBUTION", "CLOSED FORM", "DIFFERENCE"}
                           : std::vector<std::string>{"FEATURE", "X", "BASELINE", "ATTRIBUTION"});
    for (size_t k = 0; k < (closed ? 6u : 4u); ++k) table.align_right(k);
    double total = 0;
    for (int64_t i = 0; i < d; ++i) {
      char x[32], b[32], a[32], c[32], diff[32];
      const double ai = e.attribution[n * d + i];
      total += ai;
      std::snprintf(x, sizeof x, "%.6g", double(r.input[n * d + i]));
      std::snprintf(b, sizeof b, "%.6g", double(baseline[n * d + i]));
      std::snprintf(a, sizeof a, "%.6g", ai);
      std::vector<std::string> row = {std::to_string(i), x, b, a};
      if (closed) {
        std::snprintf(c, sizeof c, "%.6g", forms[size_t(n)][size_t(i)]);
        std::snprintf(diff, sizeof diff, "%.2g", ai - forms[size_t(n)][size_t(i)]);
        row.push_back(c);
        row.push_back(diff);
      }
      table.add_row(row);
    }
    std::printf("%s\nsum of attributions %.6g\n", table.render().c_str(), total);
  }
  if (closed)
    std::printf("\nclosed form: %s\nlargest |attribution − closed form| %.3g\n", form->second.formula.c_str(), worst);
  else
    std::printf("\nno closed form of %s on %s (closed forms: gradient, saliency, input-x-gradient%s)\n",
                info.name.c_str(), model.name.c_str(),
                model.closed_forms.count("integrated-gradients") ? ", integrated-gradients" : "");
  return 0;
}

}  // namespace gradlens::cli
