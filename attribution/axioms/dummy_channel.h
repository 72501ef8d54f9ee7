// A dummy input feature for a loaded ONNX graph (sensitivity (b)): one more input channel
// (axis 1) whose weights in the layer reading the input are zero, so the model computes the same
// function and does not depend on the new channel.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "layers/model.h"

namespace gradlens {

// The graph with the extra channel, when its single input is read by exactly one node that is a
// Conv (group 1), a Gemm or a MatMul with a weight initializer; otherwise returns false and says
// why in `why`.
bool add_dummy_input_channel(const Graph& graph, Graph& out, std::string& why);
// x [N, C, ...] → [N, C + 1, ...], the new last channel a copy of channel 0 (values that are not
// zero, so input-times-gradient methods are tested too).
Tensor with_dummy_channel(const Tensor& x);
// Flat indices within one example of channel C of an example shaped `example` = [C + 1, ...].
std::vector<int64_t> dummy_channel_features(const std::vector<int64_t>& example);

}  // namespace gradlens
