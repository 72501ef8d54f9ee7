// The differentiable free functions: closed-form derivatives and finite differences.
#include <cmath>

#include "engine/error.h"
#include "engine/gradcheck.h"
#include "engine/ops.h"
#include "support.h"

using namespace gradlens;
using gradlens::test::check_equal;
using gradlens::test::random_tensor;

namespace {
// Runs f on one input and returns (value, gradient) for a unit seed.
std::pair<Tensor, Tensor> value_and_grad(const Tensor& x, Var (*f)(Var)) {
  Tape tape;
  Var v = tape.input(x);
  Var y = f(v);
  tape.backward(y, Tensor(y.shape(), 1.f));
  return {y.value().clone(), tape.grad(v)};
}

void expect_gradcheck(const GraphFn& f, const std::vector<Tensor>& inputs, double tol = 1e-3) {
  GradCheckResult r = check_gradients(f, inputs);
  INFO("worst: " << r.worst);
  CHECK(r.relative_error < tol);
}
}  // namespace

TEST_CASE("closed form: f(x) = x0·x1 + sin(x2)") {
  Tensor x(Shape{3}, {1.5f, -2.f, 0.7f});
  auto [y, g] = value_and_grad(x, [](Var v) { return column(v, 0) * column(v, 1) + sin(column(v, 2)); });
  CHECK(y[0] == doctest::Approx(1.5 * -2.0 + std::sin(0.7)).epsilon(1e-6));
  check_equal(g, Tensor(Shape{3}, {-2.f, 1.5f, std::cos(0.7f)}), 1e-6);
}

TEST_CASE("closed form: f(x) = 1 − relu(1 − x), the IG paper's saturating example") {
  Tensor x(Shape{4}, {-1.f, 0.5f, 0.99f, 2.f});
  auto [y, g] = value_and_grad(x, [](Var v) { return 1.f - relu(1.f - v); });
  check_equal(y, Tensor(Shape{4}, {-1.f, 0.5f, 0.99f, 1.f}), 1e-6);
  check_equal(g, Tensor(Shape{4}, {1.f, 1.f, 1.f, 0.f}));
}

TEST_CASE("closed form: elementwise derivatives") {
  Tensor x(Shape{5}, {0.3f, 0.9f, 1.7f, 2.5f, 3.1f});
  struct Case {
    const char* name;
    Var (*f)(Var);
    double (*df)(double);
  } cases[] = {
      {"exp", [](Var v) { return exp(v); }, [](double t) { return std::exp(t); }},
      {"log", [](Var v) { return log(v); }, [](double t) { return 1 / t; }},
      {"sqrt", [](Var v) { return sqrt(v); }, [](double t) { return 0.5 / std::sqrt(t); }},
      {"sin", [](Var v) { return sin(v); }, [](double t) { return std::cos(t); }},
      {"cos", [](Var v) { return cos(v); }, [](double t) { return -std::sin(t); }},
      {"tanh", [](Var v) { return tanh(v); }, [](double t) { return 1 - std::tanh(t) * std::tanh(t); }},
      {"sigmoid", [](Var v) { return sigmoid(v); },
       [](double t) { double s = 1 / (1 + std::exp(-t)); return s * (1 - s); }},
      {"softplus", [](Var v) { return softplus(v); }, [](double t) { return 1 / (1 + std::exp(-t)); }},
      {"neg", [](Var v) { return neg(v); }, [](double) { return -1.0; }},
      {"abs", [](Var v) { return abs(v - 2.f); }, [](double t) { return t > 2 ? 1.0 : -1.0; }},
      {"pow 3", [](Var v) { return pow(v, 3.f); }, [](double t) { return 3 * t * t; }},
      {"x^x", [](Var v) { return pow(v, v); },
       [](double t) { return std::pow(t, t) * (std::log(t) + 1); }},
      {"1/x", [](Var v) { return 1.f / v; }, [](double t) { return -1 / (t * t); }},
      {"x·x", [](Var v) { return v * v; }, [](double t) { return 2 * t; }},
      {"x + x", [](Var v) { return v + v; }, [](double) { return 2.0; }},
      {"max(x, 2)", [](Var v) { return maximum(v, scalar(*v.tape, 2.f)); },
       [](double t) { return t > 2 ? 1.0 : 0.0; }},
      {"min(x, 2)", [](Var v) { return minimum(v, scalar(*v.tape, 2.f)); },
       [](double t) { return t < 2 ? 1.0 : 0.0; }},
  };
  for (const Case& c : cases) {
    INFO(c.name);
    auto [y, g] = value_and_grad(x, c.f);
    for (int64_t i = 0; i < x.numel(); ++i)
      CHECK(g[i] == doctest::Approx(c.df(x[i])).epsilon(1e-5));
  }
}

TEST_CASE("min and max split the gradient at ties, as torch.minimum/maximum") {
  Tape tape;
  Var a = tape.input(Tensor(Shape{2}, {1.f, 3.f}));
  Var b = tape.input(Tensor(Shape{2}, {1.f, 2.f}));
  tape.backward(maximum(a, b), Tensor(Shape{2}, {1.f, 1.f}));
  check_equal(tape.grad(a), Tensor(Shape{2}, {0.5f, 1.f}));
  check_equal(tape.grad(b), Tensor(Shape{2}, {0.5f, 0.f}));
}

TEST_CASE("finite differences: broadcasting binary operations") {
  const Tensor a = random_tensor(Shape{2, 3, 4}, 1, 0.5f, 2.f);
  for (Shape bs : {Shape{2, 3, 4}, Shape{4}, Shape{3, 1}, Shape{2, 1, 4}, Shape{}, Shape{1, 1, 1}}) {
    INFO("b shape " << bs.str());
    const Tensor b = random_tensor(bs, 2, 0.5f, 2.f);
    expect_gradcheck([](Tape&, const std::vector<Var>& v) { return add(v[0], v[1]); }, {a, b});
    expect_gradcheck([](Tape&, const std::vector<Var>& v) { return sub(v[1], v[0]); }, {a, b});
    expect_gradcheck([](Tape&, const std::vector<Var>& v) { return mul(v[0], v[1]); }, {a, b});
    expect_gradcheck([](Tape&, const std::vector<Var>& v) { return div(v[0], v[1]); }, {a, b});
    expect_gradcheck([](Tape&, const std::vector<Var>& v) { return pow(v[0], v[1]); }, {a, b});
    // Max on values kept 0.1 apart (a on a grid offset by 0.05, b by 0.15) so no tie is crossed.
    Tensor qa = a.clone(), qb = b.clone();
    for (int64_t i = 0; i < qa.numel(); ++i) qa[i] = std::round(qa[i] * 5.f) / 5.f + 0.05f;
    for (int64_t i = 0; i < qb.numel(); ++i) qb[i] = std::round(qb[i] * 5.f) / 5.f + 0.15f;
    expect_gradcheck([](Tape&, const std::vector<Var>& v) { return maximum(v[0], v[1]); }, {qa, qb});
    expect_gradcheck([](Tape&, const std::vector<Var>& v) { return minimum(v[0], v[1]); }, {qa, qb});
  }
}

TEST_CASE("finite differences: reductions, softmax, shapes") {
  const Tensor x = random_tensor(Shape{2, 3, 5}, 3);
  expect_gradcheck([](Tape&, const std::vector<Var>& v) { return sum(v[0]); }, {x});
  expect_gradcheck([](Tape&, const std::vector<Var>& v) { return sum(v[0], {1}, true); }, {x});
  expect_gradcheck([](Tape&, const std::vector<Var>& v) { return mean(v[0], {0, 2}); }, {x});
  expect_gradcheck([](Tape&, const std::vector<Var>& v) { return mean(v[0], {-1}, false); }, {x});
  for (int axis : {0, 1, 2, -1}) {
    INFO("axis " << axis);
    expect_gradcheck([axis](Tape&, const std::vector<Var>& v) { return softmax(v[0], axis); }, {x});
    expect_gradcheck([axis](Tape&, const std::vector<Var>& v) { return log_softmax(v[0], axis); }, {x});
  }
  expect_gradcheck([](Tape&, const std::vector<Var>& v) { return reshape(v[0], Shape{6, 5}); }, {x});
  expect_gradcheck([](Tape&, const std::vector<Var>& v) { return slice(v[0], 2, 1, 5, 2); }, {x});
  expect_gradcheck([](Tape&, const std::vector<Var>& v) { return slice(v[0], 1, -2, 3); }, {x});
  expect_gradcheck([](Tape&, const std::vector<Var>& v) { return transpose(v[0], {2, 0, 1}); }, {x});
  expect_gradcheck([](Tape&, const std::vector<Var>& v) { return transpose(v[0], {}); }, {x});
  const Tensor y = random_tensor(Shape{2, 1, 5}, 4);
  expect_gradcheck([](Tape&, const std::vector<Var>& v) { return concat({v[0], v[1], v[0]}, 1); }, {x, y});
}

TEST_CASE("slice, concat and transpose move the right elements") {
  Tape tape;
  Tensor x(Shape{2, 3}, {0, 1, 2, 3, 4, 5});
  Var v = tape.input(x);
  check_equal(slice(v, 1, 1, 3).value(), Tensor(Shape{2, 2}, {1, 2, 4, 5}));
  check_equal(slice(v, 1, 0, 3, 2).value(), Tensor(Shape{2, 2}, {0, 2, 3, 5}));
  check_equal(transpose(v, {1, 0}).value(), Tensor(Shape{3, 2}, {0, 3, 1, 4, 2, 5}));
  check_equal(concat({v, v}, 0).value(), Tensor(Shape{4, 3}, {0, 1, 2, 3, 4, 5, 0, 1, 2, 3, 4, 5}));
  check_equal(concat({v, v}, 1).value(), Tensor(Shape{2, 6}, {0, 1, 2, 0, 1, 2, 3, 4, 5, 3, 4, 5}));
  check_equal(sum(v, {1}).value(), Tensor(Shape{2}, {3, 12}));
  check_equal(mean(v, {0}, true).value(), Tensor(Shape{1, 3}, {1.5f, 2.5f, 3.5f}));
}

TEST_CASE("finite differences: matmul with numpy semantics") {
  struct Case { Shape a, b; } cases[] = {
      {Shape{3, 4}, Shape{4, 5}},       {Shape{2, 3, 4}, Shape{4, 5}},
      {Shape{2, 3, 4}, Shape{2, 4, 5}}, {Shape{1, 3, 4}, Shape{2, 4, 5}},
      {Shape{4}, Shape{4, 5}},          {Shape{3, 4}, Shape{4}},
      {Shape{2, 1, 3, 4}, Shape{5, 4, 2}},
  };
  for (const Case& c : cases) {
    INFO(c.a.str() << " x " << c.b.str());
    expect_gradcheck([](Tape&, const std::vector<Var>& v) { return matmul(v[0], v[1]); },
                     {random_tensor(c.a, 5), random_tensor(c.b, 6)});
  }
}

TEST_CASE("matmul values and shapes") {
  Tape tape;
  Var a = tape.input(Tensor(Shape{2, 3}, {1, 2, 3, 4, 5, 6}));
  Var b = tape.input(Tensor(Shape{3, 2}, {1, 0, 0, 1, 1, 1}));
  check_equal(matmul(a, b).value(), Tensor(Shape{2, 2}, {4, 5, 10, 11}));
  Var v = tape.input(Tensor(Shape{3}, {1, 1, 1}));
  check_equal(matmul(a, v).value(), Tensor(Shape{2}, {6, 15}));
  CHECK(matmul(v, b).shape() == Shape{2});
}

TEST_CASE("finite differences: activations away from kinks") {
  Tensor x = random_tensor(Shape{2, 10}, 8, -4.f, 4.f);
  // Keep clear of every kink: 0, the clip bounds ±2, hard-sigmoid's ±2.5, hard-swish's ±3.
  const float kinks[] = {0.f, 2.f, -2.f, 2.5f, -2.5f, 3.f, -3.f};
  for (int64_t i = 0; i < x.numel(); ++i)
    for (bool near = true; near;) {
      near = false;
      for (float k : kinks) near |= std::fabs(x[i] - k) < 0.1f;
      if (near) x[i] += 0.13f;
    }
  expect_gradcheck([](Tape&, const std::vector<Var>& v) { return relu(v[0]); }, {x});
  expect_gradcheck([](Tape&, const std::vector<Var>& v) { return clip(v[0], -2.f, 2.f); }, {x});
  expect_gradcheck([](Tape&, const std::vector<Var>& v) { return clip(v[0], 0.f, 2.f); }, {x});
  expect_gradcheck([](Tape&, const std::vector<Var>& v) { return leaky_relu(v[0], 0.1f); }, {x});
  expect_gradcheck([](Tape&, const std::vector<Var>& v) { return hard_sigmoid(v[0], 0.2f, 0.5f); }, {x});
  expect_gradcheck([](Tape&, const std::vector<Var>& v) { return hard_swish(v[0]); }, {x});
  expect_gradcheck([](Tape&, const std::vector<Var>& v) { return softplus(v[0], 2.f); }, {x});
  expect_gradcheck([](Tape&, const std::vector<Var>& v) { return abs(v[0]); }, {x});
}

TEST_CASE("bad input to the ops throws one exception type naming the node") {
  Tape tape;
  Var a = tape.input(Tensor(Shape{2, 3}));
  Var b = tape.input(Tensor(Shape{4}));
  CHECK_THROWS_WITH_AS(add(a, b, {"fc1.add", "Add"}),
                       doctest::Contains("node 'fc1.add' (Add): shapes [2,3] and [4] cannot be broadcast"), Error);
  CHECK_THROWS_WITH_AS(matmul(a, a), doctest::Contains("inner dimensions"), Error);
  CHECK_THROWS_WITH_AS(reshape(a, Shape{5}), doctest::Contains("cannot reshape [2,3] to [5]"), Error);
  CHECK_THROWS_WITH_AS(softmax(a, 2), doctest::Contains("axis 2 is out of range"), Error);
  CHECK_THROWS_WITH_AS(transpose(a, {0, 0}), doctest::Contains("not a permutation"), Error);
  CHECK_THROWS_WITH_AS(concat({a, b}, 0), doctest::Contains("differ"), Error);
  CHECK_THROWS_AS(Shape({1, 2, 3, 4, 5, 6, 7, 8, 9}), Error);
  Var y = sum(a);
  CHECK_THROWS_WITH_AS(tape.backward(y, Tensor(Shape{2})), doctest::Contains("seed shape [2]"), Error);
}
