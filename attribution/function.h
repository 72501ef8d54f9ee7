// What an attribution method explains: a differentiable map from a batch of inputs [N, ...] to
// class scores [N, C]. Either an ONNX Model (the scores are its logits, or probabilities or
// log-probabilities on request) or any function written with the engine's ops (analytic models).
#pragma once
#include <functional>
#include <string>
#include <vector>

#include "engine/tape.h"
#include "layers/model.h"

namespace gradlens {

enum class ScoreKind { logit, prob, log_prob };
ScoreKind parse_score_kind(const std::string& name);  // "logit", "prob", "log-prob"
const char* score_kind_name(ScoreKind kind);

class Function {
 public:
  virtual ~Function() = default;
  // Records the class scores [N, C] of the batch x on the tape.
  Var scores(Tape& tape, Var x) const { return scores_and(tape, x, {}).front(); }
  // Scores followed by the named intermediate tensors (for the CAM family).
  virtual std::vector<Var> scores_and(Tape& tape, Var x, const std::vector<std::string>& names) const = 0;
  // The model, when the function is one (CAM methods need its layers); nullptr otherwise.
  virtual const Model* model() const { return nullptr; }
};

class ModelFunction : public Function {
 public:
  explicit ModelFunction(const Model& model, ScoreKind kind = ScoreKind::logit);
  std::vector<Var> scores_and(Tape& tape, Var x, const std::vector<std::string>& names) const override;
  const Model* model() const override { return &model_; }
  ScoreKind kind() const { return kind_; }
  const std::string& logits_name() const { return logits_; }

 private:
  const Model& model_;
  ScoreKind kind_;
  std::string logits_;
};

// f(tape, x) -> scores [N, C] (or [N], taken as one class).
class LambdaFunction : public Function {
 public:
  using Fn = std::function<Var(Tape&, Var)>;
  explicit LambdaFunction(Fn f) : f_(std::move(f)) {}
  std::vector<Var> scores_and(Tape& tape, Var x, const std::vector<std::string>& names) const override;

 private:
  Fn f_;
};

}  // namespace gradlens
