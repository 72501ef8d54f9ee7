// ReduceMax (ONNX operators §ReduceMax, opsets 1/11/12/13/18/20): y = max of x over the axes; ∂x = g·[x = y] / #ties.
// Axes, keepdims, noop_with_empty_axes, backward and opset rules: layers/reduce_layer.h.
#include "layers/reduce_layer.h"

GRADLENS_REGISTER_LAYER(ReduceMax, gradlens::ReduceLayer<gradlens::Reduction::max>)
