// Sum (ONNX operators §Sum, opsets 1/6/8/13): elementwise sum of one or more inputs
// with numpy broadcasting (opset >= 8). Forward, backward and opset rules: layers/variadic_layer.h.
#include "layers/variadic_layer.h"

GRADLENS_REGISTER_LAYER(Sum, gradlens::VariadicLayer<gradlens::Variadic::sum>)
