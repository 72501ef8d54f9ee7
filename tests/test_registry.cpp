// The foundation op set must be registered (Conv and pooling come from their own layer files).
#include <string>

#include "layers/layer.h"
#include "support.h"

using namespace gradlens;

TEST_CASE("every op of the foundation set is registered") {
  const char* ops[] = {"Conv", "Gemm", "MatMul", "Add", "Sub", "Mul", "Div", "Relu", "LeakyRelu",
                       "Clip", "Sigmoid", "Tanh", "Softplus", "HardSigmoid", "HardSwish",
                       "MaxPool", "AveragePool", "GlobalAveragePool", "GlobalMaxPool",
                       "BatchNormalization", "Flatten", "Reshape", "Concat", "Softmax",
                       "Identity", "Dropout"};
  for (const char* op : ops) {
    INFO("op " << std::string(op));
    CHECK(layer_registered(op));
    if (layer_registered(op)) CHECK(create_layer(op) != nullptr);
  }
}

TEST_CASE("unknown ops are not registered") {
  CHECK_FALSE(layer_registered("NotAnOnnxOp"));
  CHECK(create_layer("NotAnOnnxOp") == nullptr);
}
