// ReduceMin (ONNX operators §ReduceMin, opsets 1/11/12/13/18/20): y = min of x over the axes; ∂x = g·[x = y] / #ties.
// Axes, keepdims, noop_with_empty_axes, backward and opset rules: layers/reduce_layer.h.
#include "layers/reduce_layer.h"

GRADLENS_REGISTER_LAYER(ReduceMin, gradlens::ReduceLayer<gradlens::Reduction::min>)
