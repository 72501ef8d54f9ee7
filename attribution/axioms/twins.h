// Functionally equivalent twins of a graph, for implementation invariance (Sundararajan et al.
// 2017 §2.2: two networks computing the same function must get the same attributions). Between
// two linear layers A and B (Conv with group 1, or Gemm) joined by a chain of single-consumer
// channelwise ops (Relu, LeakyRelu, MaxPool, AveragePool, GlobalAveragePool, BatchNormalization):
//   permute    A's output channels by a seeded permutation π (weights, bias, the BatchNorm
//              parameters on the way), B's input channels by the same π;
//   rescale    A's output channel c × α_c (α seeded in [0.5, 2], weights and bias) and B's input
//              channel c × 1/α_c — exact for positively homogeneous chains (no BatchNorm);
//   split      A's last output channel duplicated with halved weights and bias, B's weights for
//              it copied: relu(z) = relu(z/2) + relu(z/2) (no BatchNorm);
// and, on A's output, the identities Identity, Mul by 1 and Add 0 inserted.
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
