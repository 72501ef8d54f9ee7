// The gradient pass of the gradient and CAM methods, on the chunked pass (chunked_pass.h): rows of X
// in chunks of at most `batch` rows (as many as the run's --max-memory allows, chunked_pass.h), each one forward and one backward whose seed selects, for every row,
// its target score (minus its contrast class's score when one is given). Taps collect named
// activations/gradients and bias maps along the way. When nothing asks for a gradient (no input
// gradient, no layer gradient, no bias maps) the pass is forward only.
#pragma once
#include <string>
#include <vector>

#include "attribution/chunked_pass.h"

namespace gradlens {

struct PassOptions {
  GradRules rules;
  int64_t batch = 32;                 // rows per forward/backward
  bool input_gradient = true;         // ∂score/∂x (false for CAM-only passes)
  std::vector<std::string> layers;    // tensors whose activation (and gradient) are collected
  bool layer_gradients = true;        // false: the layers' activations only
  bool bias_maps = false;             // collect grad ⊙ bias maps (FullGrad)
};

struct LayerCapture {
  std::string name;
  Tensor activation;  // [M, ...]
  Tensor gradient;    // [M, ...]
};

struct BiasCapture {
  std::string name;
  std::string op;
  Tensor map;  // [M, ...] grad ⊙ bias, shaped like the layer's output
};

struct PassResult {
  std::vector<int64_t> targets;  // per row: the class explained (the given one, or the row's argmax)
  std::vector<double> scores;  // per row: y_target (− y_contrast)
  Tensor logits;               // [M, C] the function's scores
  Tensor input_grad;           // [M, ...] when requested
  std::vector<LayerCapture> layers;
  std::vector<BiasCapture> biases;
  int64_t tape_bytes = 0;      // the largest chunk's tape (ChunkStats::tape_bytes)
};

// targets[m] (and contrast[m] when contrast is non-empty) for each row m of X; with no targets,
// each row's predicted class, the argmax of the scores of this very forward (the first of equal
// ones, as predicted_classes), chosen before the row's backward seed is written.
PassResult gradient_pass(const Function& f, const Tensor& X, const std::vector<int64_t>& targets,
                         const std::vector<int64_t>& contrast, const PassOptions& options);

// The backward seed [k, C] for rows [begin, begin + k) of a chunk whose scores are [k, C]: row r
// selects y_target (− y_contrast) with targets[begin + r] (and contrast[begin + r] when contrast is
// non-empty); classes out of range are an Error.
Tensor score_seed(const Shape& scores, const std::vector<int64_t>& targets, const std::vector<int64_t>& contrast,
                  int64_t begin);

// Scores only (no backward), in chunks: [M, C].
Tensor evaluate_scores(const Function& f, const Tensor& X, int64_t batch);

}  // namespace gradlens
