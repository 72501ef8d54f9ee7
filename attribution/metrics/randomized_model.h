// Weight-randomised copies of a Model for the model-randomisation test (Adebayo et al. 2018,
// "Sanity checks for saliency maps", §3.1): the original model is never touched; a copy of its
// graph gets re-drawn weight tensors and is loaded as a new Model.
//
// Parametrised layers are the nodes whose learned tensors are graph initializers (float):
//   Conv, ConvTranspose (W, B), Gemm (B, C), MatMul (the constant operand), BatchNormalization,
//   InstanceNormalization, LayerNormalization (scale, bias; not the running mean/variance, which
//   PyTorch keeps as buffers, not parameters), PRelu (slope).
// Named by their ONNX node name, ordered from the output side to the input side (the reverse of
// execution order); a tensor shared by several nodes belongs to the one nearest the output.
// Weights computed by nodes (Constant, folded subgraphs) are not randomised.
//
// Each tensor W of layer l (its index in that order) and tensor t (its input position among the
// layer's randomised tensors) is re-drawn as w′_i = μ + σ·z_i with μ and σ the mean and population
// standard deviation of W's trained values and z_i ~ N(0, 1) the normals of
// Rng(seed·1000003 + l·1009 + t) in row-major order (w′ in double, stored as float). A tensor with
// σ = 0 (e.g. an all-zero bias, a single value) keeps its values.
#pragma once
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "layers/model.h"

namespace gradlens {

struct ParametrisedLayer {
  std::string name;                  // the ONNX node name
  std::string op;                    // its op type
  std::vector<std::string> tensors;  // the initializers re-drawn with it
};
std::vector<ParametrisedLayer> parametrised_layers(const Model& model);  // output side first

// The re-drawn values of one tensor (layer l, tensor t as above).
Tensor redrawn_weights(const Tensor& trained, uint64_t seed, int64_t layer, int64_t tensor);

// A copy of `model` with the layers `chosen` (indices into `layers`) re-drawn.
std::unique_ptr<Model> randomized_model(const Model& model, const std::vector<ParametrisedLayer>& layers,
                                        const std::vector<int64_t>& chosen, uint64_t seed);

}  // namespace gradlens
