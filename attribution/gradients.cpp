#include "attribution/gradients.h"

#include <algorithm>

#include "engine/error.h"

namespace gradlens {

Tensor score_seed(const Shape& scores, const std::vector<int64_t>& targets, const std::vector<int64_t>& contrast,
                  int64_t begin) {
  GL_CHECK(scores.rank() == 2, "the function's scores must be [rows, classes], got ", scores.str());
  const int64_t k = scores[0], C = scores[1];
  GL_CHECK(begin >= 0 && begin + k <= int64_t(targets.size()), "score seed: rows [", begin, ", ", begin + k,
           ") for ", targets.size(), " targets");
  Tensor seed(scores);
  const SeedWriter write = class_seed(targets, contrast);
  for (int64_t r = 0; r < k; ++r) write(begin + r, nullptr, C, seed.data() + r * C);
  return seed;
}

PassResult gradient_pass(const Function& f, const Tensor& X, const std::vector<int64_t>& targets,
                         const std::vector<int64_t>& contrast, const PassOptions& options) {
  GL_CHECK(X.rank() >= 1, "input must have a batch axis, got shape ", X.shape().str());
  const int64_t M = X.dim(0);
  const bool predicted = targets.empty();  // each row's argmax of this forward
  GL_CHECK(predicted || int64_t(targets.size()) == M, targets.size(), " targets for ", M, " rows");
  GL_CHECK(contrast.empty() || int64_t(contrast.size()) == M, contrast.size(),
           " contrast classes for ", M, " rows");
  GL_CHECK(options.batch >= 1, "batch size must be at least 1");
  ChunkTaps taps;
  taps.rules = options.rules;
  taps.input_gradient = options.input_gradient;
  taps.layers = options.layers;
  taps.layer_gradients = options.layer_gradients;
  taps.bias_maps = options.bias_maps;
  const bool any_gradient =
      options.input_gradient || options.bias_maps || (options.layer_gradients && !options.layers.empty());
  PassResult result;
  result.targets = predicted ? std::vector<int64_t>(size_t(M), -1) : targets;
  std::vector<int64_t>& used = result.targets;
  // The row's predicted class, from the scores of the forward the pass runs anyway.
  auto choose = [&](int64_t m, const float* scores, int64_t C) {
    if (predicted && used[size_t(m)] < 0) used[size_t(m)] = std::max_element(scores, scores + C) - scores;
  };
  std::vector<SeedWriter> seeds;
  if (any_gradient) {
    const SeedWriter seed = class_seed(used, contrast);
    seeds.push_back([&, seed](int64_t m, const float* scores, int64_t C, float* row) {
      choose(m, scores, C);
      seed(m, scores, C, row);
    });
  }

  result.scores.resize(size_t(M));
  result.layers.resize(options.layers.size());
  for (size_t k = 0; k < options.layers.size(); ++k) result.layers[k].name = options.layers[k];
  ChunkBudget budget(options.batch);
  const ChunkStats stats = run_chunks(
      f, M, budget, [&](int64_t begin, int64_t k) { return rows(X, begin, begin + k); }, seeds, taps,
      [&](const Chunk& c, int) {
        for (int64_t r = 0; r < c.rows; ++r) {
          choose(c.begin + r, c.score_row(r), c.classes());
          result.scores[size_t(c.begin + r)] = class_score(c.score_row(r), c.classes(), used, contrast, c.begin + r);
        }
        place_rows(result.logits, c.scores.value(), M, c.begin, c.rows);
        if (options.input_gradient) place_rows(result.input_grad, c.input_gradient(), M, c.begin, c.rows);
        for (size_t j = 0; j < options.layers.size(); ++j) {
          place_rows(result.layers[j].activation, c.own_rows(c.layers->activation(options.layers[j])), M, c.begin, c.rows);
          if (options.layer_gradients)
            place_rows(result.layers[j].gradient, c.own_rows(c.layers->gradient(options.layers[j])), M, c.begin, c.rows);
        }
        if (options.bias_maps) {
          const auto& entries = c.biases->entries();
          if (c.begin == 0)
            for (const auto& e : entries) result.biases.push_back({e.name, e.op, Tensor()});
          GL_CHECK(entries.size() == result.biases.size(), "bias layers differ between chunks");
          for (size_t j = 0; j < entries.size(); ++j) place_rows(result.biases[j].map, c.own_rows(entries[j].map), M, c.begin, c.rows);
        }
      });
  result.tape_bytes = stats.tape_bytes;
  return result;
}

Tensor evaluate_scores(const Function& f, const Tensor& X, int64_t batch) {
  GL_CHECK(X.rank() >= 1, "input must have a batch axis, got shape ", X.shape().str());
  const int64_t M = X.dim(0);
  Tensor all;
  ChunkBudget budget(batch);
  run_chunks(
      f, M, budget, [&](int64_t begin, int64_t k) { return rows(X, begin, begin + k); }, {}, ChunkTaps(),
      [&](const Chunk& c, int) { place_rows(all, c.scores.value(), M, c.begin, c.rows); });
  return all;
}

}  // namespace gradlens
