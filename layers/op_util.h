// Small helpers shared by the layer files (attribute history across opsets, constant scalars).
#pragma once
#include <string>
#include <vector>

#include "layers/layer.h"

namespace gradlens {

// Opsets 1-5 of many elementwise ops (Add, Sigmoid, LeakyRelu, Clip, BatchNormalization, ...)
// carried a `consumed_inputs` attribute (a legacy in-place hint); it changes nothing here.
inline void accept_consumed_inputs(AttributeReader& attributes, const NodeDef& node) {
  if (node.opset < 6) attributes.ignore("consumed_inputs");
}

// A one-element tensor's value, or nothing when t is not one element.
inline bool single_value(const Tensor& t, float& value) {
  if (t.numel() != 1) return false;
  value = t[0];
  return true;
}

}  // namespace gradlens
