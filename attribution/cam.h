// Shared pieces of the CAM family: choosing the layer, reading a GAP→linear head, combining
// channel maps, upsampling.
#pragma once
#include <string>
#include <vector>

#include "attribution/method.h"
#include "engine/resample.h"

namespace gradlens {

// The default CAM layer for inputs of this shape: the input of the last node that takes a 4-D
// activation with spatial extent to one without (global pooling, Flatten, a spatial reduction:
// the last 4-D activation before the head); failing that, the last 4-D activation.
std::string default_cam_layer(const Model& model, const Shape& input);

// Every 4-D activation with its shape, in execution order (candidate CAM layers).
std::vector<std::pair<std::string, Shape>> cam_candidates(const Model& model, const Shape& input);

// The layer the request asks for (option "layer", "auto" = default), checked to exist and be 4-D.
std::string cam_layer(const MethodInfo& info, const Request& request);

// For a GAP → (Flatten/Reshape) → linear head after `layer`: the class weights [C, K].
// Error when the layer is not followed by such a head.
Tensor cam_head_weights(const Model& model, const std::string& layer);

// map[n] = Σ_k w[n,k] · A[n,k]  ([N,K] weights, [N,K,h,w] activations → [N,1,h,w]).
Tensor weighted_channel_sum(const Tensor& weights, const Tensor& activations);
// In place max(·, 0).
void relu_inplace(Tensor& t);
// [N,1,h,w] → [N,1,H,W] of the input when the request asks for it (option "upsample").
Tensor finish_layer_map(const MethodInfo& info, const Request& request, Tensor map);

// Parameters every CAM method takes.
std::vector<Parameter> cam_parameters(std::vector<Parameter> extra = {});

// A CAM method's MethodInfo: family "cam", layer maps, cam_parameters() + extra.
MethodInfo cam_info(const char* name, const char* paper, const char* cost, const char* summary,
                    std::vector<Parameter> extra = {});

// The request's CAM layer: its activations A [N,K,h,w] and, with gradients, G = ∂score/∂A (one
// backward); without, a forward-only pass (no backward runs, G is empty).
struct LayerPass {
  std::string layer;
  Tensor A, G;
  std::vector<double> scores;
  std::vector<int64_t> targets;  // the classes explained (the row's argmax when the request gave none)
  Tensor logits;                 // [N, C] the function's scores
};
LayerPass layer_pass(const MethodInfo& info, const Request& r, bool gradients = true);

// The explanation of a CAM map: finish_layer_map, the scores, targets and logits, the layer and
// the pass counts.
Explanation finish_cam(const MethodInfo& info, const Request& r, const LayerPass& p, Tensor map, int64_t forwards,
                       int64_t backwards);

// Grad-CAM++ weights (Chattopadhyay et al. 2018, eq. 19): α = D2 / (2·D2 + Σ_ab A_ab·D3) with
// D2 = G², D3 = G³ of G_for_powers (or the given D2, D3: Smooth Grad-CAM++'s noisy means),
// w = Σ α·relu(D1); [N, K].
Tensor grad_cam_pp_weights(const Tensor& A, const Tensor& D1, const Tensor& G_for_powers, const Tensor* D2 = nullptr,
                           const Tensor* D3 = nullptr);

}  // namespace gradlens
