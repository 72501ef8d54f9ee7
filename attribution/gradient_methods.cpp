// Gradient and rule-modified backprop methods: one forward and one backward per example.
//   gradient          ∇ₓ y_c                                   (Simonyan et al. 2014)
//   saliency          |∇ₓ y_c|                                  (Simonyan et al. 2014; Captum's Saliency)
//   input-x-gradient  x ⊙ ∇ₓ y_c                               (Shrikumar et al. 2016)
//   deconvnet         ∇ₓ y_c with ReLU backward max(g, 0)       (Zeiler & Fergus 2014)
//   guided-backprop   ∇ₓ y_c with ReLU backward max(g,0)·[x>0]  (Springenberg et al. 2015)
//   rectgrad          ∇ₓ y_c with ReLU backward g·[a·g > τ]     (Kim et al. 2019)
// With a contrast class c', the score is y_c − y_c' (contrastive gradients, Yin & Neubig 2022).
#include <cmath>

#include "attribution/gradients.h"
#include "attribution/method.h"

namespace gradlens {

namespace {

enum class Post { none, absolute, times_input };

class GradientMethod : public Method {
 public:
  GradientMethod(MethodInfo info, ReluRule rule, Post post)
      : info_(std::move(info)), rule_(rule), post_(post) {}
  const MethodInfo& info() const override { return info_; }

  Explanation explain_rows(const Request& r) const override {
    r.options.check_known(info_);
    PassOptions pass;
    pass.batch = r.batch;
    pass.rules.relu = rule_;
    if (rule_ == ReluRule::rectgrad)
      pass.rules.rectgrad_percentile = float(r.options.number(info_, "percentile", 0, 100));
    PassResult p = gradient_pass(*r.function, r.input, r.targets, r.contrast, pass);
    Explanation e;
    e.attribution = std::move(p.input_grad);
    float* a = e.attribution.data();
    const float* x = r.input.data();
    const int64_t n = e.attribution.numel();
    if (post_ == Post::absolute)
      for (int64_t i = 0; i < n; ++i) a[i] = std::fabs(a[i]);
    if (post_ == Post::times_input)
      for (int64_t i = 0; i < n; ++i) a[i] *= x[i];
    e.scores = std::move(p.scores);
    e.targets = std::move(p.targets);
    e.logits = std::move(p.logits);
    e.forward_passes = e.backward_passes = r.input.dim(0);
    return e;
  }

 private:
  MethodInfo info_;
  ReluRule rule_;
  Post post_;
};

MethodInfo describe(const char* name, const char* family, const char* paper, const char* summary,
                    std::vector<Parameter> parameters = {}) {
  MethodInfo m;
  m.name = name;
  m.family = family;
  m.paper = paper;
  m.cost = "1F + 1B";
  m.summary = summary;
  m.parameters = std::move(parameters);
  m.targets_from_forward = true;  // one gradient pass over the input itself
  return m;
}

const bool registered = [] {
  register_method(std::make_unique<GradientMethod>(
      describe("gradient", "gradient", "Simonyan et al. 2014", "signed input gradient of the score"),
      ReluRule::standard, Post::none));
  register_method(std::make_unique<GradientMethod>(
      describe("saliency", "gradient", "Simonyan et al. 2014", "absolute input gradient (Captum Saliency)"),
      ReluRule::standard, Post::absolute));
  register_method(std::make_unique<GradientMethod>(
      describe("input-x-gradient", "gradient", "Shrikumar et al. 2016", "input times its gradient"),
      ReluRule::standard, Post::times_input));
  register_method(std::make_unique<GradientMethod>(
      describe("deconvnet", "rule", "Zeiler & Fergus 2014", "ReLU backward passes max(g, 0)"),
      ReluRule::deconvnet, Post::none));
  register_method(std::make_unique<GradientMethod>(
      describe("guided-backprop", "rule", "Springenberg et al. 2015",
               "ReLU backward passes max(g, 0) where the input was positive"),
      ReluRule::guided, Post::none));
  register_method(std::make_unique<GradientMethod>(
      describe("rectgrad", "rule", "Kim et al. 2019",
               "ReLU backward passes g where a·g exceeds the layer's q-th percentile",
               {{"percentile", "98", "q: percentile of a·g per layer and sample used as threshold"}}),
      ReluRule::rectgrad, Post::none));
  return true;
}();

}  // namespace
}  // namespace gradlens
