// Min (ONNX operators §Min, opsets 1/6/8/12/13): elementwise min of one or more inputs
// with numpy broadcasting (opset >= 8). Forward, backward and opset rules: layers/variadic_layer.h.
#include "layers/variadic_layer.h"

GRADLENS_REGISTER_LAYER(Min, gradlens::VariadicLayer<gradlens::Variadic::min>)
