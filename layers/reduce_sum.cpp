// ReduceSum (ONNX operators §ReduceSum, opsets 1/11/13): y = Σ x over the axes; ∂x = g broadcast back.
// Axes, keepdims, noop_with_empty_axes, backward and opset rules: layers/reduce_layer.h.
#include "layers/reduce_layer.h"

GRADLENS_REGISTER_LAYER(ReduceSum, gradlens::ReduceLayer<gradlens::Reduction::sum>)
