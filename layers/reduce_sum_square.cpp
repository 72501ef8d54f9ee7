// ReduceSumSquare (ONNX operators §ReduceSumSquare, opsets 1/11/13/18): y = Σ x² over the axes; ∂x = 2x·g.
// Axes, keepdims, noop_with_empty_axes, backward and opset rules: layers/reduce_layer.h.
#include "layers/reduce_layer.h"

GRADLENS_REGISTER_LAYER(ReduceSumSquare, gradlens::ReduceLayer<gradlens::Reduction::sum_square>)
