// Functionally equivalent twins of a graph, for implementation invariance (Sundararajan et al.
// 2017 §2.2: two networks computing the same function must get the same attributions).
// A channel space is the set of tensors carrying the same C channels: entered through the output
// channels of linear layers (Conv — grouped too —, Gemm, MatMul with a constant weight), closed
// under per-channel ops (Relu, LeakyRelu, Max/Average/Global pooling, BatchNormalization, a
// depthwise Conv, a per-channel bias Add, Identity, Dropout, Flatten after a global pooling) and
// under residual Adds of two such tensors, and left through the input channels of linear layers.
// Every space that reaches no graph input or output and no channel-mixing op gives:
//   permute    its channels by a seeded permutation π everywhere: producers' outputs, per-channel
//              parameters, consumers' inputs (within blocks of the groups of grouped Convs);
//   rescale    channel c × α_c (α seeded in [0.5, 2]): producers' weights and biases and every
//              additive per-channel parameter (BatchNorm's β and mean, a depthwise bias) × α_c,
//              consumers' inputs × 1/α_c — exact because every op inside is positively
//              homogeneous once its additive parameters scale with it;
//   split      (ungrouped spaces) the last channel duplicated with halved producers and additive
//              parameters, the consumers reading both copies: relu(z) = relu(z/2) + relu(z/2);
// and, on the first space's first producer, the identities Identity, Mul by 1 and Add 0 inserted.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "layers/model.h"

namespace gradlens {

struct Twin {
  std::string description;  // "permute: 16 channels of 'conv1' → 'conv2'"
  Graph graph;
};

// Every twin the graph admits (possibly none); `skipped` gets a line for each linear layer that
// has no partner, saying why.
std::vector<Twin> functional_twins(const Graph& graph, uint64_t seed, std::vector<std::string>& skipped);

}  // namespace gradlens
