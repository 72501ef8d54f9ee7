// Max (ONNX operators §Max, opsets 1/6/8/12/13): elementwise max of one or more inputs
// with numpy broadcasting (opset >= 8). Forward, backward and opset rules: layers/variadic_layer.h.
#include "layers/variadic_layer.h"

GRADLENS_REGISTER_LAYER(Max, gradlens::VariadicLayer<gradlens::Variadic::max>)
