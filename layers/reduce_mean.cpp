// ReduceMean (ONNX operators §ReduceMean, opsets 1/11/13/18): y = mean of x over the axes; ∂x = g / |R| broadcast back.
// Axes, keepdims, noop_with_empty_axes, backward and opset rules: layers/reduce_layer.h.
#include "layers/reduce_layer.h"

GRADLENS_REGISTER_LAYER(ReduceMean, gradlens::ReduceLayer<gradlens::Reduction::mean>)
