#include "engine/gradcheck.h"

#include <cmath>

#include "engine/random.h"

namespace gradlens {

namespace {
double weighted_output(const GraphFn& f, const std::vector<Tensor>& inputs, const Tensor& u,
                       Tape& tape) {
  tape.reset();
  std::vector<Var> vars;
  for (const Tensor& x : inputs) vars.push_back(tape.input(x, false));
  const Tensor& y = f(tape, vars).value();
  double s = 0;
  for (int64_t i = 0; i < y.numel(); ++i) s += double(u[i]) * double(y[i]);
  return s;
}
}  // namespace

GradCheckResult check_gradients(const GraphFn& f, const std::vector<Tensor>& inputs,
                                uint64_t seed, float h, const GradRules& rules) {
  Tape tape;
  std::vector<Var> vars;
  for (const Tensor& x : inputs) vars.push_back(tape.input(x, true));
  Var out = f(tape, vars);
  Tensor u(out.shape());
  Rng rng(seed);
  rng.fill_uniform(u, -1.f, 1.f);
  tape.backward(out, u, rules);
  std::vector<Tensor> analytic;
  for (const Var& v : vars) analytic.push_back(tape.grad(v));

  GradCheckResult r;
  double err2 = 0, ref2 = 0;
  std::vector<Tensor> xs;
  for (const Tensor& x : inputs) xs.push_back(x.clone());
  for (size_t k = 0; k < xs.size(); ++k) {
    for (int64_t i = 0; i < xs[k].numel(); ++i) {
      const float x0 = xs[k][i];
      double phi[4];
      const float offsets[4] = {2.f * h, h, -h, -2.f * h};
      for (int j = 0; j < 4; ++j) {
        xs[k][i] = x0 + offsets[j];
        phi[j] = weighted_output(f, xs, u, tape);
      }
      xs[k][i] = x0;
      const double numeric = (-phi[0] + 8 * phi[1] - 8 * phi[2] + phi[3]) / (12.0 * double(h));
      const double a = analytic[k][i];
      const double e = std::fabs(a - numeric);
      err2 += e * e;
      ref2 += numeric * numeric;
      if (e > r.max_abs_error) {
        r.max_abs_error = e;
        r.worst = "input " + std::to_string(k) + ", element " + std::to_string(i) +
                  ": analytic " + std::to_string(a) + ", numeric " + std::to_string(numeric);
      }
    }
  }
  r.relative_error = std::sqrt(err2) / std::max(std::sqrt(ref2), 1e-6);
  return r;
}

}  // namespace gradlens
