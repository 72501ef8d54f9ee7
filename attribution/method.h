// Attribution methods: each registers itself by its CLI name with what `gradlens methods` shows
// (family, paper, parameters, cost) and explains a batch of examples through a Function.
#pragma once
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "attribution/function.h"

namespace gradlens {

struct Parameter {
  std::string name;      // as the CLI flag, without dashes
  std::string fallback;  // default value as text
  std::string help;
};

struct MethodInfo {
  std::string name;    // kebab-case CLI name
  std::string family;  // "gradient", "rule", "cam", "bias", "path", ...
  std::string paper;   // "Simonyan et al. 2014"
  std::string cost;    // forward/backward passes per example, e.g. "1F + 1B"
  std::string summary;
  std::vector<Parameter> parameters;
  bool layer_map = false;  // output at a layer's resolution [N,1,h,w] (CAMs), else input-shaped
  // Non-empty when the attribution is neither input-shaped nor a layer map (e.g. an interaction
  // matrix [N,d_sel,d]): what it is. Such outputs are written as .npy, never rendered.
  std::string output;
  // The method's first pass is a forward of the request's input itself (a gradient or CAM pass):
  // given no targets it explains each example's predicted class taken from that forward
  // (gradient_pass), so Method::explain runs no extra forward to choose them.
  bool targets_from_forward = false;
};

// Method parameters by name, as text; typed access validates and names the parameter.
class Options {
 public:
  void set(const std::string& name, const std::string& value) { values_[name] = value; }
  bool has(const std::string& name) const { return values_.count(name) > 0; }
  const std::map<std::string, std::string>& values() const { return values_; }
  // Value or the method's default (the parameter must be declared by the method).
  std::string text(const MethodInfo& m, const std::string& name) const;
  double number(const MethodInfo& m, const std::string& name, double min, double max) const;
  int64_t integer(const MethodInfo& m, const std::string& name, int64_t min, int64_t max) const;
  bool boolean(const MethodInfo& m, const std::string& name) const;
  // Throws when a value is given for a parameter the method does not have.
  void check_known(const MethodInfo& m) const;

 private:
  std::map<std::string, std::string> values_;
};

struct Request {
  const Function* function = nullptr;
  Tensor input;                   // [N, ...]; a model's declared input shape but the batch
  // One class per example; or one class for every example; or empty: each example's predicted
  // class (predicted_classes below), as the CLI's --target auto.
  std::vector<int64_t> targets;
  std::vector<int64_t> contrast;  // empty, one per example or one for all (contrastive gradients)
  int64_t batch = 32;             // rows per forward/backward
  Options options;
};

struct Explanation {
  Tensor attribution;  // input-shaped, or [N,1,h,w] for layer maps
  std::vector<double> scores;  // per example: the explained score f(x)
  // Extra per-example numbers reported in JSON ("completeness_gap", "bias_total", ...).
  std::map<std::string, std::vector<double>> per_example;
  std::map<std::string, std::string> notes;  // e.g. {"layer", "relu4"}
  // Further tensors a method produces besides the raw attribution (e.g. FullGrad's
  // post-processed saliency map), keyed by a short name.
  std::map<std::string, Tensor> extras;
  int64_t forward_passes = 0;   // rows that went through a forward, all examples together
  int64_t backward_passes = 0;
  std::vector<int64_t> targets;  // per example: the class explained (the predicted one when none was given)
  // [N, C]: the function's scores of the request's input, from the method's own forward or from the
  // forward that chose the targets; empty when neither ran (explicit targets, a method whose
  // passes never see the input itself, such as integrated gradients').
  Tensor logits;
};

class Method {
 public:
  virtual ~Method() = default;
  virtual const MethodInfo& info() const = 0;
  // Checks the input against the model's declared input shape (an Error naming both shapes),
  // spreads a single target (or contrast class) over every example, fills empty targets with the
  // predicted classes (from the method's own first forward when info().targets_from_forward, else
  // from one forward before it, whose scores become Explanation::logits), then runs the method.
  // The result's `targets` are the classes explained.
  Explanation explain(const Request& request) const;

 protected:
  // The method itself, on a request with one target (and, if any, one contrast class) per example;
  // with info().targets_from_forward also on a request without targets, then filling
  // Explanation::targets and ::logits from its first forward.
  virtual Explanation explain_rows(const Request& request) const = 0;
};

// Each row's predicted class: the index of its largest score in [N, C] (the first of equal ones).
std::vector<int64_t> predicted_classes(const Tensor& scores);
// The same after a forward pass of `function` over `inputs` [N, ...], `batch` rows at a time.
std::vector<int64_t> predicted_classes(const Function& function, const Tensor& inputs, int64_t batch = 32);

bool register_method(std::unique_ptr<Method> method);
const Method* find_method(const std::string& name);  // nullptr when unknown
const Method& method(const std::string& name);       // Error listing the known names
std::vector<const Method*> methods();                // sorted by family then name

}  // namespace gradlens

#define GRADLENS_REGISTER_METHOD(ID, CLASS) \
  namespace {                               \
  const bool method_##ID = ::gradlens::register_method(std::make_unique<CLASS>()); \
  }
