#include "engine/rules.h"

#include <algorithm>

#include "engine/error.h"
#include "engine/enum_table.h"
#include "engine/parallel.h"

namespace gradlens {

namespace {
const EnumName<ReluRule> kReluRules[] = {
    {"standard", ReluRule::standard}, {"deconvnet", ReluRule::deconvnet},
    {"guided", ReluRule::guided}, {"rectgrad", ReluRule::rectgrad}};
}  // namespace

ReluRule parse_relu_rule(const std::string& name) { return enum_value(kReluRules, name, "ReLU rule"); }
const char* relu_rule_name(ReluRule rule) { return enum_name(kReluRules, rule); }

float percentile_inplace(float* v, int64_t n, float q) {
  GL_CHECK(n > 0, "percentile of an empty set");
  GL_CHECK(q >= 0.f && q <= 100.f, "percentile ", q, " is outside [0, 100]");
  double pos = double(q) / 100.0 * double(n - 1);
  int64_t lo = int64_t(pos);
  double frac = pos - double(lo);
  std::nth_element(v, v + lo, v + n);
  float a = v[lo];
  if (frac == 0.0 || lo + 1 >= n) return a;
  float b = *std::min_element(v + lo + 1, v + n);
  return float(double(a) + frac * (double(b) - double(a)));
}

void rectifier_backward(const GradRules& rules, const Tensor& x, const Tensor& a, const Tensor& g,
                        float hi, Tensor& dx, float* scratch) {
  GL_CHECK(x.shape() == g.shape() && a.shape() == g.shape() && dx.shape() == g.shape(),
           "rectifier backward: shapes ", x.shape().str(), ", ", g.shape().str(), " differ");
  const int64_t n = g.numel();
  const float* xp = x.data();
  const float* ap = a.data();
  const float* gp = g.data();
  float* d = dx.data();
  switch (rules.relu) {
    case ReluRule::standard:
      for (int64_t i = 0; i < n; ++i) d[i] = (xp[i] > 0.f && xp[i] < hi) ? gp[i] : 0.f;
      break;
    case ReluRule::deconvnet:
      for (int64_t i = 0; i < n; ++i) d[i] = std::max(gp[i], 0.f);
      break;
    case ReluRule::guided:
      for (int64_t i = 0; i < n; ++i) d[i] = (xp[i] > 0.f && xp[i] < hi) ? std::max(gp[i], 0.f) : 0.f;
      break;
    case ReluRule::rectgrad: {
      const int64_t batch = g.rank() ? g.dim(0) : 1;
      const int64_t per = batch ? n / batch : 0;
      parallel_for(batch, [&](int64_t b) {
        const int64_t o = b * per;
        float* s = scratch + o;
        for (int64_t i = 0; i < per; ++i) s[i] = ap[o + i] * gp[o + i];
        float tau = per ? percentile_inplace(s, per, rules.rectgrad_percentile) : 0.f;
        for (int64_t i = o; i < o + per; ++i)
          d[i] = (ap[i] * gp[i] > tau && xp[i] < hi) ? gp[i] : 0.f;
      });
      break;
    }
  }
}

}  // namespace gradlens
