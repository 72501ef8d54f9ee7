#include "attribution/function.h"

#include "engine/error.h"
#include "engine/enum_table.h"
#include "engine/ops.h"

namespace gradlens {

namespace {
const EnumName<ScoreKind> kScoreKinds[] = {
    {"logit", ScoreKind::logit}, {"prob", ScoreKind::prob}, {"log-prob", ScoreKind::log_prob}};
}  // namespace

ScoreKind parse_score_kind(const std::string& name) { return enum_value(kScoreKinds, name, "score"); }
const char* score_kind_name(ScoreKind kind) { return enum_name(kScoreKinds, kind); }

namespace {
// Scores as [N, C]: a rank-1 output is one score per example.
Var as_matrix(Var y, const std::string& what) {
  const Shape& s = y.shape();
  if (s.rank() == 2) return y;
  if (s.rank() == 1) return reshape(y, Shape{s[0], 1});
  GL_CHECK(s.rank() > 2 && s.numel() == s[0] * s.dim(-1) , what, " has shape ", s.str(),
           "; expected class scores [N, C]");
  return reshape(y, Shape{s[0], s.dim(-1)});
}
}  // namespace

ModelFunction::ModelFunction(const Model& model, ScoreKind kind)
    : model_(model), kind_(kind), logits_(model.logits_name()) {}

std::vector<Var> ModelFunction::scores_and(Tape& tape, Var x,
                                           const std::vector<std::string>& names) const {
  std::vector<std::string> wanted = {logits_};
  wanted.insert(wanted.end(), names.begin(), names.end());
  std::vector<Var> v = model_.forward_named(tape, {x}, wanted);
  Var logits = as_matrix(v[0], "model output '" + logits_ + "'");
  if (kind_ == ScoreKind::prob) logits = softmax(logits, -1, {"scores.prob", "Softmax"});
  if (kind_ == ScoreKind::log_prob) logits = log_softmax(logits, -1, {"scores.log_prob", "LogSoftmax"});
  v[0] = logits;
  return v;
}

std::vector<Var> LambdaFunction::scores_and(Tape& tape, Var x,
                                            const std::vector<std::string>& names) const {
  GL_CHECK(names.empty(), "an analytic function has no named layers");
  return {as_matrix(f_(tape, x), "function output")};
}

}  // namespace gradlens
