// Mean (ONNX operators §Mean, opsets 1/6/8/13): elementwise mean of one or more inputs
// with numpy broadcasting (opset >= 8). Forward, backward and opset rules: layers/variadic_layer.h.
#include "layers/variadic_layer.h"

GRADLENS_REGISTER_LAYER(Mean, gradlens::VariadicLayer<gradlens::Variadic::mean>)
