// Evaluation metrics: each registers itself by its CLI name with what `gradlens evaluate --list`
// shows (group, paper, formula, cost in forward passes, parameters) and scores a batch of
// attributions, one value per example. Metrics depend only on the public attribution API
// (Function, evaluate_scores, method(name).explain) so they work on maps made anywhere.
#pragma once
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "attribution/function.h"
#include "attribution/method.h"

namespace gradlens {

// An axis-aligned pixel box [x0, x1) × [y0, y1) (columns x, rows y).
struct Box {
  int64_t x0 = 0, y0 = 0, x1 = 0, y1 = 0;
  int64_t area() const { return (x1 - x0) * (y1 - y0); }
};
double box_iou(const Box& a, const Box& b);

struct MetricInfo {
  std::string name;     // kebab-case CLI name
  std::string group;    // "localisation", "complexity", "faithfulness", ...
  std::string paper;    // "Zhang et al. 2018"
  std::string formula;  // one line of math
  std::string cost;     // model passes per example, e.g. "0", "steps+1 F"
  bool higher_is_better = true;
  bool needs_region = false;  // a mask or a box per example
  bool needs_model = false;   // runs the model (a Function)
  std::vector<Parameter> parameters;
  std::vector<std::string> summarised;  // per_example keys also reported as means (e.g. "localised")
};

struct MetricInput {
  const Function* function = nullptr;  // for the model-in-the-loop metrics
  Tensor input;                        // [N, C, H, W] (or [N, D] for the complexity metrics)
  Tensor attribution;                  // input-shaped, or [N, 1, H, W]
  std::vector<int64_t> targets;        // class per example (the explained one)
  std::vector<int64_t> labels;         // true class per example; empty = not known
  Tensor masks;                        // [N, H, W] of 0/1, or empty
  std::vector<Box> boxes;              // one per example, or empty
  int64_t batch = 32;                  // rows per forward
  uint64_t seed = 0;
  std::vector<int64_t> example_ids;    // each row's index in the whole data set (--shard); empty = 0..N-1
  Options options;                     // metric parameters by name, as text
  // For the metrics that recompute maps (robustness, randomisation): the method that made them,
  // its options, and the function it explained (nullptr = `function`). The CLI explains the logits
  // while the metrics read --score, so recomputed maps must use this one.
  const Method* method = nullptr;
  Options method_options;
  const Function* map_function = nullptr;
};
// The seed of example n's draws: seed·1000003 + its index in the whole data set, so a shard draws
// what one run over every example draws.
uint64_t example_seed(const MetricInput& in, int64_t n);
// The function the maps explain: in.map_function, else in.function.
const Function& explained_function(const MetricInput& in);

struct MetricResult {
  std::vector<double> values;  // the metric, one per example
  std::map<std::string, std::vector<double>> per_example;  // further per-example numbers
  std::vector<double> curve_x;                             // x of the curves (fractions), if any
  std::vector<std::vector<double>> curves;                 // one curve per example, if any
  int64_t forward_passes = 0;                              // rows run through the model
  // Maps for pictures, by name (model-randomization: "cascading", the first example's pooled |a|
  // of the original and of each cascading step, [steps + 1, H, W]).
  std::map<std::string, Tensor> maps;
};

class Metric {
 public:
  virtual ~Metric() = default;
  virtual const MetricInfo& info() const = 0;
  virtual MetricResult evaluate(const MetricInput& in) const = 0;
};

// The metric's parameters in the form Options reads (name + declared parameters).
MethodInfo parameter_owner(const MetricInfo& info);

bool register_metric(std::unique_ptr<Metric> metric);
const Metric* find_metric(const std::string& name);  // nullptr when unknown
const Metric& metric(const std::string& name);       // Error listing the known names
std::vector<const Metric*> metrics();                // sorted by group then name

// Checks what every metric needs (shapes, targets, regions, a function); Error naming the metric.
void check_metric_input(const MetricInfo& info, const MetricInput& in);

}  // namespace gradlens

#define GRADLENS_REGISTER_METRIC(ID, CLASS) \
  namespace {                               \
  const bool metric_##ID = ::gradlens::register_metric(std::make_unique<CLASS>()); \
  }
