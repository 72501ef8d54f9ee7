// ReduceL2 (ONNX operators §ReduceL2, opsets 1/11/13/18): y = √(Σ x²) over the axes; ∂x = g·x / y (0 where y = 0).
// Axes, keepdims, noop_with_empty_axes, backward and opset rules: layers/reduce_layer.h.
#include "layers/reduce_layer.h"

GRADLENS_REGISTER_LAYER(ReduceL2, gradlens::ReduceLayer<gradlens::Reduction::l2>)
