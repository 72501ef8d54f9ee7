#include "attribution/gradients.h"

#include <algorithm>
#include <cstring>

#include "engine/error.h"

namespace gradlens {

Tensor rows(const Tensor& X, int64_t begin, int64_t end) {
  GL_CHECK(X.rank() >= 1 && begin >= 0 && end <= X.dim(0) && begin <= end, "rows [", begin, ", ",
           end, ") of a tensor of shape ", X.shape().str());
  Shape s = X.shape();
  const int64_t per = s[0] ? X.numel() / s[0] : 0;
  s[0] = end - begin;
  return Tensor::view(s, const_cast<float*>(X.data()) + begin * per);
}

namespace {
// Copies `chunk` ([k, ...]) into rows [offset, offset + k) of `all`, allocating `all` as
// [M, ...] on first use.
// Rows [offset, offset + rows) of `all` (M rows in total) from `chunk`, whose leading axis is the
// chunk's batch of `rows`. A captured tensor whose leading axis is not the batch (a transformer's
// [T, N, D] or [T·N, D] after a Reshape) cannot be split per example: with one row per chunk it is
// that example's whole ([1, numel]); with more it is an Error, never a copy past `all`.
void place_rows(Tensor& all, const Tensor& chunk, int64_t M, int64_t offset, int64_t rows) {
  const bool batch_first = chunk.rank() >= 1 && chunk.dim(0) == rows;
  GL_CHECK(batch_first || rows == 1, "captured tensor of shape ", chunk.shape().str(),
           " has no leading batch axis of ", rows, " rows (run with --batch 1 to capture it per example)");
  const int64_t per = chunk.numel() / rows;
  if (all.empty()) {
    Shape s = chunk.shape();
    if (batch_first) s[0] = M;
    else s = Shape{M, per};
    all = Tensor(s);
  }
  GL_CHECK(per * M == all.numel() && offset + rows <= M, "captured tensor changed shape between chunks: ",
           chunk.shape().str(), " vs ", all.shape().str());
  std::memcpy(all.data() + offset * per, chunk.data(), sizeof(float) * size_t(chunk.numel()));
}
}  // namespace

Tensor score_seed(const Shape& scores, const std::vector<int64_t>& targets, const std::vector<int64_t>& contrast,
                  int64_t begin) {
  GL_CHECK(scores.rank() == 2, "the function's scores must be [rows, classes], got ", scores.str());
  const int64_t k = scores[0], C = scores[1];
  GL_CHECK(begin >= 0 && begin + k <= int64_t(targets.size()), "score seed: rows [", begin, ", ", begin + k,
           ") for ", targets.size(), " targets");
  Tensor seed(scores);
  for (int64_t r = 0; r < k; ++r) {
    const int64_t t = targets[size_t(begin + r)];
    GL_CHECK(t >= 0 && t < C, "target class ", t, " is out of range for ", C, " classes");
    seed[r * C + t] += 1.f;
    if (!contrast.empty()) {
      const int64_t c = contrast[size_t(begin + r)];
      GL_CHECK(c >= 0 && c < C, "contrast class ", c, " is out of range for ", C, " classes");
      seed[r * C + c] -= 1.f;
    }
  }
  return seed;
}

PassResult gradient_pass(const Function& f, const Tensor& X, const std::vector<int64_t>& targets,
                         const std::vector<int64_t>& contrast, const PassOptions& options) {
  GL_CHECK(X.rank() >= 1, "input must have a batch axis, got shape ", X.shape().str());
  const int64_t M = X.dim(0);
  GL_CHECK(int64_t(targets.size()) == M, targets.size(), " targets for ", M, " rows");
  GL_CHECK(contrast.empty() || int64_t(contrast.size()) == M, contrast.size(),
           " contrast classes for ", M, " rows");
  GL_CHECK(options.batch >= 1, "batch size must be at least 1");
  PassResult result;
  result.scores.resize(size_t(M));
  result.layers.resize(options.layers.size());
  for (size_t k = 0; k < options.layers.size(); ++k) result.layers[k].name = options.layers[k];

  Tape tape;
  LayerTap layer_tap(options.layers);
  BiasTap bias_tap;
  if (!options.layers.empty()) tape.observe(&layer_tap);
  if (options.bias_maps) tape.observe(&bias_tap);
  for (int64_t begin = 0; begin < M; begin += options.batch) {
    const int64_t end = std::min(M, begin + options.batch), k = end - begin;
    tape.reset();
    layer_tap.clear();
    bias_tap.clear();
    Var x = tape.input(rows(X, begin, end), options.input_gradient, "input");
    std::vector<Var> out = f.scores_and(tape, x, options.layers);
    Var scores = out[0];
    const int64_t C = scores.shape()[1];
    const Tensor seed = score_seed(scores.shape(), targets, contrast, begin);
    for (int64_t r = 0; r < k; ++r) {
      double s = scores.value()[r * C + targets[size_t(begin + r)]];
      if (!contrast.empty()) s -= scores.value()[r * C + contrast[size_t(begin + r)]];
      result.scores[size_t(begin + r)] = s;
    }
    place_rows(result.logits, scores.value(), M, begin, k);
    tape.backward(scores, seed, options.rules);
    if (options.input_gradient) place_rows(result.input_grad, tape.grad(x), M, begin, k);
    for (size_t j = 0; j < options.layers.size(); ++j) {
      place_rows(result.layers[j].activation, layer_tap.activation(options.layers[j]), M, begin, k);
      place_rows(result.layers[j].gradient, layer_tap.gradient(options.layers[j]), M, begin, k);
    }
    if (options.bias_maps) {
      const auto& entries = bias_tap.entries();
      if (begin == 0) {
        for (const auto& e : entries) result.biases.push_back({e.name, e.op, Tensor()});
      }
      GL_CHECK(entries.size() == result.biases.size(), "bias layers differ between chunks");
      for (size_t j = 0; j < entries.size(); ++j) place_rows(result.biases[j].map, entries[j].map, M, begin, k);
    }
  }
  result.arena_floats = tape.arena().capacity_floats();
  return result;
}

Tensor evaluate_scores(const Function& f, const Tensor& X, int64_t batch) {
  GL_CHECK(X.rank() >= 1, "input must have a batch axis, got shape ", X.shape().str());
  const int64_t M = X.dim(0);
  Tensor all;
  Tape tape;
  for (int64_t begin = 0; begin < M; begin += batch) {
    const int64_t end = std::min(M, begin + batch);
    tape.reset();
    Var x = tape.input(rows(X, begin, end), false, "input");
    place_rows(all, f.scores(tape, x).value(), M, begin, end - begin);
  }
  return all;
}

}  // namespace gradlens
