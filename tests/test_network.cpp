// Whole networks built in C++ from the layers: vector-Jacobian check, FullGrad's exact bias
// decomposition, taps by tensor name, determinism across thread counts.
#include <omp.h>

#include <cmath>

#include "engine/gradcheck.h"
#include "engine/taps.h"
#include "graph_builder.h"
#include "support.h"

using namespace gradlens;
using gradlens::test::GraphBuilder;
using gradlens::test::random_tensor;

namespace {
Attribute ints(std::vector<int64_t> v) { return Attribute::of(v); }

// A smooth CNN (no kinks) for finite differences: Conv-BN-Tanh-AvgPool-grouped strided
// Conv-Sigmoid-GlobalAveragePool-Flatten-Gemm-LogSoftmax.
Graph smooth_cnn() {
  GraphBuilder b(11);
  b.input("x", {-1, 3, 9, 9});
  std::string t = b.conv("x", 3, 4, 3, {{"pads", ints({1, 1, 1, 1})}});
  t = b.batch_norm(t, 4);
  t = b.node("Tanh", {t});
  t = b.node("AveragePool", {t}, {{"kernel_shape", ints({2, 2})}, {"strides", ints({1, 1})}});
  t = b.conv(t, 4, 6, 3, {{"strides", ints({2, 2})}, {"dilations", ints({1, 1})}}, 2);
  t = b.node("Sigmoid", {t});
  t = b.node("GlobalAveragePool", {t});
  t = b.node("Flatten", {t});
  t = b.linear(t, 6, 5);
  t = b.node("LogSoftmax", {t}, {{"axis", Attribute::of(int64_t(-1))}}, "log_probs");
  b.output(t);
  return b.build();
}

// Piecewise linear with a bias in every linear layer: Conv, BN, ReLU, MaxPool, AvgPool, Linear.
Graph piecewise_linear_cnn(int64_t size) {
  GraphBuilder b(5);
  b.input("x", {-1, 3, size, size});
  std::string t = b.conv("x", 3, 8, 3, {{"pads", ints({1, 1, 1, 1})}});
  t = b.batch_norm(t, 8);
  t = b.node("Relu", {t}, {}, "relu1");
  t = b.node("MaxPool", {t}, {{"kernel_shape", ints({2, 2})}, {"strides", ints({2, 2})}});
  t = b.conv(t, 8, 8, 3, {{"pads", ints({1, 1, 1, 1})}, {"strides", ints({1, 1})}}, 2);
  t = b.batch_norm(t, 8);
  t = b.node("Relu", {t}, {}, "relu2");
  t = b.node("AveragePool", {t}, {{"kernel_shape", ints({2, 2})}, {"strides", ints({2, 2})}});
  t = b.node("Flatten", {t});
  const int64_t features = 8 * (size / 4) * (size / 4);
  t = b.linear(t, features, 16);
  t = b.node("Relu", {t});
  t = b.linear(t, 16, 10);
  b.output(t);
  return b.build();
}
}  // namespace

TEST_CASE("whole-network vector-Jacobian product matches finite differences") {
  Model model(smooth_cnn());
  GradCheckResult r = check_gradients(
      [&](Tape& tape, const std::vector<Var>& v) { return model.forward(tape, v)[0]; },
      {random_tensor(Shape{2, 3, 9, 9}, 3)}, 1, 0.1f);  // error ∝ 1/h here: float roundoff dominates
  INFO("worst: " << r.worst << ", relative error " << r.relative_error);
  CHECK(r.relative_error < 1e-3);
  MESSAGE("whole-network VJP relative error " << r.relative_error);
}

TEST_CASE("bias decomposition: f(x) = Σ x⊙∇f + Σ bias maps on a piecewise-linear network") {
  Model model(piecewise_linear_cnn(16));
  const Tensor x = random_tensor(Shape{3, 3, 16, 16}, 9);
  Tape tape;
  BiasTap biases;
  tape.observe(&biases);
  Var input = tape.input(x);
  Var logits = model.forward(tape, {input})[0];
  // Explain class 3 of every example: seed = one-hot.
  Tensor seed(logits.shape());
  for (int64_t n = 0; n < 3; ++n) seed[n * 10 + 3] = 1.f;
  tape.backward(logits, seed);
  const Tensor grad = tape.grad(input);
  const std::vector<double> bias_totals = biases.totals_per_sample();
  // Every biased layer reports: 2 convs, 2 batch norms, 2 linears.
  CHECK(biases.entries().size() == 6);
  const int64_t per = x.numel() / 3;
  for (int64_t n = 0; n < 3; ++n) {
    double input_term = 0;
    for (int64_t i = 0; i < per; ++i) input_term += double(x[n * per + i]) * grad[n * per + i];
    const double f = logits.value()[n * 10 + 3];
    const double total = input_term + bias_totals[size_t(n)];
    INFO("example " << n << ": f = " << f << ", input term " << input_term << ", bias terms "
                    << bias_totals[size_t(n)]);
    CHECK(std::fabs(total - f) <= 1e-4 * std::max(1.0, std::fabs(f)));
    CHECK(std::fabs(bias_totals[size_t(n)]) > 1e-3);  // the bias term is not negligible here
  }
}

TEST_CASE("a tap reads any named tensor of a model without touching its layer") {
  Model model(piecewise_linear_cnn(8));
  Tape tape;
  LayerTap tap({"relu2"});
  tape.observe(&tap);
  Var logits = model.forward(tape, random_tensor(Shape{1, 3, 8, 8}, 4), false);
  Tensor seed(logits.shape());
  seed[2] = 1.f;
  tape.backward(logits, seed);
  CHECK(tap.activation("relu2").shape() == Shape{1, 8, 4, 4});
  CHECK(tap.gradient("relu2").shape() == Shape{1, 8, 4, 4});
  double norm = 0;
  for (int64_t i = 0; i < tap.gradient("relu2").numel(); ++i) norm += std::fabs(tap.gradient("relu2")[i]);
  CHECK(norm > 0);
}

TEST_CASE("a CNN's outputs and input gradients are bitwise identical for 1 and 2 threads") {
  Model model(piecewise_linear_cnn(36));  // 36x36: several GEMM blocks per convolution
  const Tensor x = random_tensor(Shape{4, 3, 36, 36}, 12);
  auto run = [&](int threads) {
    omp_set_num_threads(threads);
    Tape tape;
    Var input = tape.input(x);
    Var logits = model.forward(tape, {input})[0];
    tape.backward(logits, random_tensor(logits.shape(), 13));
    std::vector<Tensor> r = {logits.value().clone(), tape.grad(input)};
    GradRules guided;
    guided.relu = ReluRule::guided;
    tape.backward(logits, random_tensor(logits.shape(), 13), guided);
    r.push_back(tape.grad(input));
    return r;
  };
  auto one = run(1), two = run(2);
  omp_set_num_threads(omp_get_num_procs());
  for (size_t i = 0; i < one.size(); ++i) CHECK(gradlens::test::bitwise_equal(one[i], two[i]));
}
