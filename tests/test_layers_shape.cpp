// Shape layers (Flatten, Reshape, Concat), Softmax in both opset regimes, Dropout: forwards
// against hand-computed or plain-loop values, gradients, attribute defaults and opset variants.
#include <cmath>

#include "engine/error.h"
#include "layer_testing.h"

using namespace gradlens;
using namespace gradlens::test;

// ---- Flatten ----------------------------------------------------------------------------------

TEST_CASE("Flatten: default axis 1, ends, negative axes from opset 11") {
  Tensor x = random_tensor(Shape{2, 3, 4, 5}, 1);
  struct Case { int64_t axis; int64_t opset; Shape want; };
  const Case cases[] = {{1, 13, Shape{2, 60}}, {0, 13, Shape{1, 120}}, {4, 13, Shape{120, 1}},
                        {-1, 13, Shape{24, 5}}, {-4, 11, Shape{1, 120}}, {2, 9, Shape{6, 20}}};
  for (const Case& c : cases) {
    INFO("axis " << c.axis << " opset " << c.opset);
    auto layer = load_layer(NodeBuilder("Flatten", {"x"}).attr("axis", Attribute::of(c.axis)).opset(c.opset));
    Tensor y = evaluate(*layer, {x});
    CHECK(y.shape() == c.want);
    CHECK(layer->infer({x.shape()})[0] == c.want);
    check_equal(y.reshaped(x.shape()), x);  // row-major order is kept
  }
  auto dflt = load_layer(NodeBuilder("Flatten", {"x"}));
  CHECK(evaluate(*dflt, {x}).shape() == Shape{2, 60});
  CHECK_GRADIENTS(gradcheck_layer(*dflt, {x}));
  CHECK_THROWS_WITH_AS(load_layer(NodeBuilder("Flatten", {"x"}, "fl").attr("axis", Attribute::of(-1)).opset(9)),
                       doctest::Contains("node 'fl' (Flatten): axis -1 is negative, which opset 9 does not allow"), Error);
  auto far = load_layer(NodeBuilder("Flatten", {"x"}, "fl").attr("axis", Attribute::of(5)));
  CHECK_THROWS_WITH_AS(evaluate(*far, {x}), doctest::Contains("node 'fl' (Flatten): axis 5 is out of range for rank 4"), Error);
  auto neg = load_layer(NodeBuilder("Flatten", {"x"}, "fl").attr("axis", Attribute::of(-5)));
  CHECK_THROWS_WITH_AS(neg->infer({x.shape()}), doctest::Contains("node 'fl' (Flatten): axis -5 is out of range"), Error);
}

// ---- Reshape ----------------------------------------------------------------------------------

namespace {
Initializer shape_init(std::vector<int64_t> dims) {
  const int64_t n = int64_t(dims.size());
  return Initializer::from_ints(Shape{n}, std::move(dims));
}
Shape reshaped(const std::vector<int64_t>& target, const Tensor& x, int64_t opset = 14,
               int64_t allowzero = -1) {
  Initializer s = shape_init(target);
  NodeBuilder n("Reshape", {"x", "shape"}, "rs");
  n.opset(opset);
  if (allowzero >= 0) n.attr("allowzero", Attribute::of(allowzero));
  auto layer = load_layer(n, {nullptr, &s});
  Tensor y = evaluate(*layer, {x}, {nullptr, &s});
  check_equal(y.reshaped(x.shape()), x);
  CHECK(layer->infer({x.shape(), s.value.shape()})[0] == y.shape());
  return y.shape();
}
}  // namespace

TEST_CASE("Reshape: 0 copies, -1 infers, allowzero keeps zeros") {
  Tensor x = random_tensor(Shape{2, 3, 4}, 2);
  CHECK(reshaped({0, -1}, x) == Shape{2, 12});
  CHECK(reshaped({-1, 0, 2}, x) == Shape{4, 3, 2});
  CHECK(reshaped({0, 0, 2, 2}, x) == Shape{2, 3, 2, 2});
  CHECK(reshaped({24}, x) == Shape{24});
  CHECK(reshaped({0, 12}, x, 14, 0) == Shape{2, 12});
  // With allowzero = 1, 0 is a real zero extent: [0,12] holds no elements, not 24.
  CHECK_THROWS_WITH_AS(reshaped({0, 12}, x, 14, 1),
                       doctest::Contains("node 'rs' (Reshape): cannot reshape [2,3,4] (24 elements) to [0,12] (0 elements)"), Error);
  CHECK_THROWS_WITH_AS(reshaped({0, -1}, x, 14, 1),
                       doctest::Contains("node 'rs' (Reshape): shape has both 0 and -1"), Error);
  CHECK_THROWS_WITH_AS(reshaped({-1, -1}, x), doctest::Contains("node 'rs' (Reshape): shape has 2 entries of -1"), Error);
  CHECK_THROWS_WITH_AS(reshaped({-2, 12}, x), doctest::Contains("node 'rs' (Reshape): shape entry -2 is invalid"), Error);
  CHECK_THROWS_WITH_AS(reshaped({-1, 5}, x), doctest::Contains("node 'rs' (Reshape): cannot infer the -1 extent"), Error);
  CHECK_THROWS_WITH_AS(reshaped({2, 3, 4, 0}, x),
                       doctest::Contains("node 'rs' (Reshape): shape entry 3 is 0 (copy the input's extent) but the input [2,3,4] has rank 3"), Error);
  CHECK_THROWS_WITH_AS(reshaped({5, 5}, x), doctest::Contains("node 'rs' (Reshape): cannot reshape [2,3,4]"), Error);
  // allowzero exists from opset 14 only.
  CHECK_THROWS_WITH_AS(reshaped({0, -1}, x, 13, 0), doctest::Contains("node 'rs' (Reshape): unsupported attribute 'allowzero'"), Error);
}

TEST_CASE("Reshape: opset 1-4 shape attribute, runtime shape input, gradient") {
  Tensor x = random_tensor(Shape{2, 3, 4}, 3);
  auto old = load_layer(NodeBuilder("Reshape", {"x"}, "rs").attr("shape", Attribute::of(std::vector<int64_t>{0, -1})).opset(4));
  CHECK(evaluate(*old, {x}).shape() == Shape{2, 12});
  CHECK_THROWS_WITH_AS(load_layer(NodeBuilder("Reshape", {"x"}, "rs").opset(4)),
                       doctest::Contains("node 'rs' (Reshape): attribute 'shape' is required"), Error);
  CHECK_THROWS_WITH_AS(load_layer(NodeBuilder("Reshape", {"x", "s"}, "rs").attr("shape", Attribute::of(std::vector<int64_t>{24}))),
                       doctest::Contains("node 'rs' (Reshape): unsupported attribute 'shape'"), Error);
  auto runtime = load_layer(NodeBuilder("Reshape", {"x", "s"}, "rs"));
  CHECK(evaluate(*runtime, {x, Tensor(Shape{3}, {4.f, -1.f, 2.f})}).shape() == Shape{4, 3, 2});
  CHECK_THROWS_WITH_AS(evaluate(*runtime, {x, Tensor(Shape{2}, {-1.f, -1.f})}),
                       doctest::Contains("node 'rs' (Reshape): shape has 2 entries of -1"), Error);
  Initializer s = shape_init({-1, 6});
  Initializer s2d = Initializer::from_ints(Shape{1, 2}, {-1, 6});
  CHECK_THROWS_WITH_AS(load_layer(NodeBuilder("Reshape", {"x", "s"}, "rs"), {nullptr, &s2d}),
                       doctest::Contains("node 'rs' (Reshape): shape must be 1-D"), Error);
  auto layer = load_layer(NodeBuilder("Reshape", {"x", "s"}), {nullptr, &s});
  CHECK_GRADIENTS(gradcheck_layer(*layer, {x}, {nullptr, &s}));
}

// ---- Concat -----------------------------------------------------------------------------------

TEST_CASE("Concat: values, negative axis from opset 11, required axis from opset 4") {
  Tensor a(Shape{2, 1, 2}, {1, 2, 3, 4});
  Tensor b(Shape{2, 2, 2}, {5, 6, 7, 8, 9, 10, 11, 12});
  const Tensor want(Shape{2, 3, 2}, {1, 2, 5, 6, 7, 8, 3, 4, 9, 10, 11, 12});
  auto c1 = load_layer(NodeBuilder("Concat", {"a", "b"}).attr("axis", Attribute::of(1)));
  check_equal(evaluate(*c1, {a, b}), want);
  auto neg = load_layer(NodeBuilder("Concat", {"a", "b"}).attr("axis", Attribute::of(-2)).opset(11));
  check_equal(evaluate(*neg, {a, b}), want);
  auto legacy = load_layer(NodeBuilder("Concat", {"a", "b"}).opset(1));  // default axis 1
  check_equal(evaluate(*legacy, {a, b}), want);
  CHECK(c1->infer({a.shape(), b.shape()})[0] == Shape{2, 3, 2});
  // A constant input is a tape constant; the runtime one still gets its gradient slice.
  Initializer cb(b);
  auto mixed = load_layer(NodeBuilder("Concat", {"a", "b"}).attr("axis", Attribute::of(1)), {nullptr, &cb});
  check_equal(evaluate(*mixed, {a}, {nullptr, &cb}), want);
  CHECK_GRADIENTS(gradcheck_layer(*mixed, {a}, {nullptr, &cb}));
  CHECK_GRADIENTS(gradcheck_layer(*c1, {a, b}));
  auto three = load_layer(NodeBuilder("Concat", {"a", "b", "c"}).attr("axis", Attribute::of(0)));
  Tensor c = random_tensor(Shape{3, 2, 2}, 4);
  Tensor b0 = random_tensor(Shape{1, 2, 2}, 5), a0 = random_tensor(Shape{2, 2, 2}, 6);
  CHECK(evaluate(*three, {a0, b0, c}).shape() == Shape{6, 2, 2});
  CHECK_GRADIENTS(gradcheck_layer(*three, {a0, b0, c}));

  CHECK_THROWS_WITH_AS(load_layer(NodeBuilder("Concat", {"a", "b"}, "cat")),
                       doctest::Contains("node 'cat' (Concat): attribute 'axis' is required"), Error);
  CHECK_THROWS_WITH_AS(load_layer(NodeBuilder("Concat", {"a", "b"}, "cat").attr("axis", Attribute::of(-1)).opset(10)),
                       doctest::Contains("node 'cat' (Concat): axis -1 is negative, which opset 10 does not allow"), Error);
  CHECK_THROWS_WITH_AS(evaluate(*c1, {a, random_tensor(Shape{3, 2, 2}, 7)}),
                       doctest::Contains("(Concat): input 1 of shape [3,2,2] does not match input 0 of shape [2,1,2] outside axis 1"), Error);
  auto far = load_layer(NodeBuilder("Concat", {"a", "b"}, "cat").attr("axis", Attribute::of(3)));
  CHECK_THROWS_WITH_AS(evaluate(*far, {a, b}), doctest::Contains("node 'cat' (Concat): axis 3 is out of range for rank 3"), Error);
}

// ---- Softmax ----------------------------------------------------------------------------------

namespace {
// Softmax of x viewed as [outer, n, inner] along the middle axis, by loops in double.
Tensor softmax_loop(const Tensor& x, int64_t outer, int64_t n, int64_t inner) {
  Tensor y(x.shape());
  for (int64_t o = 0; o < outer; ++o)
    for (int64_t i = 0; i < inner; ++i) {
      double mx = -1e30, s = 0;
      for (int64_t j = 0; j < n; ++j) mx = std::max(mx, double(x[(o * n + j) * inner + i]));
      for (int64_t j = 0; j < n; ++j) s += std::exp(double(x[(o * n + j) * inner + i]) - mx);
      for (int64_t j = 0; j < n; ++j)
        y[(o * n + j) * inner + i] = float(std::exp(double(x[(o * n + j) * inner + i]) - mx) / s);
    }
  return y;
}
}  // namespace

TEST_CASE("Softmax from opset 13: one axis, default -1") {
  Tensor x = random_tensor(Shape{2, 3, 4}, 8, -3.f, 3.f);
  auto dflt = load_layer(NodeBuilder("Softmax", {"x"}));
  check_equal(evaluate(*dflt, {x}), softmax_loop(x, 6, 4, 1), 1e-6);
  CHECK_GRADIENTS(gradcheck_layer(*dflt, {x}));
  auto axis1 = load_layer(NodeBuilder("Softmax", {"x"}).attr("axis", Attribute::of(1)));
  check_equal(evaluate(*axis1, {x}), softmax_loop(x, 2, 3, 4), 1e-6);
  CHECK_GRADIENTS(gradcheck_layer(*axis1, {x}));
  auto far = load_layer(NodeBuilder("Softmax", {"x"}, "sm").attr("axis", Attribute::of(3)));
  CHECK_THROWS_WITH_AS(evaluate(*far, {x}), doctest::Contains("node 'sm' (Softmax): axis 3 is out of range for rank 3"), Error);
}

TEST_CASE("Softmax before opset 13: coerced to 2-D at axis (default 1)") {
  Tensor x = random_tensor(Shape{2, 3, 4}, 9, -3.f, 3.f);
  // Default axis 1: each sample's 12 values are normalised together.
  auto dflt = load_layer(NodeBuilder("Softmax", {"x"}, "sm").opset(11));
  Tensor y = evaluate(*dflt, {x});
  check_equal(y, softmax_loop(x, 2, 12, 1), 1e-6);
  CHECK(y.shape() == x.shape());
  double first = 0;
  for (int i = 0; i < 12; ++i) first += y[i];
  CHECK(first == doctest::Approx(1.0).epsilon(1e-6));
  CHECK_GRADIENTS(gradcheck_layer(*dflt, {x}));
  {
    Tape tape;
    Var out = run(*dflt, tape, {tape.input(x)});
    CHECK(tape.info(out).name == "sm_out");
  }
  // axis 0: one softmax over everything; axis -1 (opset 11) = the last axis alone.
  auto all = load_layer(NodeBuilder("Softmax", {"x"}).attr("axis", Attribute::of(0)).opset(1));
  check_equal(evaluate(*all, {x}), softmax_loop(x, 1, 24, 1), 1e-6);
  auto last = load_layer(NodeBuilder("Softmax", {"x"}).attr("axis", Attribute::of(-1)).opset(11));
  check_equal(evaluate(*last, {x}), softmax_loop(x, 6, 4, 1), 1e-6);
  CHECK_THROWS_WITH_AS(load_layer(NodeBuilder("Softmax", {"x"}, "sm").attr("axis", Attribute::of(-1)).opset(9)),
                       doctest::Contains("node 'sm' (Softmax): axis -1 is negative, which opset 9 does not allow"), Error);
}

// ---- Identity, Dropout --------------------------------------------------------------------------

TEST_CASE("Dropout is the identity at inference; the mask output is all ones") {
  Tensor x = random_tensor(Shape{2, 5}, 10);
  auto drop = load_layer(NodeBuilder("Dropout", {"x"}, "dp").outputs({"y", "mask"}).attr("ratio", Attribute::of(0.3f)).opset(10));
  Tape tape;
  Var v = tape.input(x);
  std::vector<Var> out = run_all(*drop, tape, {v}, {});
  check_equal(out[0].value(), x);
  check_equal(out[1].value(), Tensor(Shape{2, 5}, 1.f));
  CHECK(tape.info(out[1]).name == "mask");
  CHECK(drop->infer({x.shape()}).size() == 2);
  CHECK_GRADIENTS(gradcheck_layer(*drop, {x}));

  // Opset 12+: ratio and training_mode inputs, seed attribute.
  Initializer ratio(Tensor(Shape{}, {0.5f})), off(Initializer::from_ints(Shape{}, {0})), on(Initializer::from_ints(Shape{}, {1}));
  auto d13 = load_layer(NodeBuilder("Dropout", {"x", "r", "t"}, "dp").attr("seed", Attribute::of(7)).opset(13),
                        {nullptr, &ratio, &off});
  check_equal(evaluate(*d13, {x}, {nullptr, &ratio, &off}), x);
  CHECK_THROWS_WITH_AS(load_layer(NodeBuilder("Dropout", {"x", "r", "t"}, "dp").opset(13), {nullptr, &ratio, &on}),
                       doctest::Contains("node 'dp' (Dropout): training_mode = true is not supported"), Error);
  auto runtime_mode = load_layer(NodeBuilder("Dropout", {"x", "", "t"}, "dp").opset(13));
  check_equal(evaluate(*runtime_mode, {x, Tensor(Shape{}, {0.f})}), x);
  CHECK_THROWS_WITH_AS(evaluate(*runtime_mode, {x, Tensor(Shape{}, {1.f})}),
                       doctest::Contains("node 'dp' (Dropout): training_mode = true is not supported"), Error);
  Initializer bad_ratio(Tensor(Shape{}, {1.5f}));
  CHECK_THROWS_WITH_AS(load_layer(NodeBuilder("Dropout", {"x", "r"}, "dp").opset(13), {nullptr, &bad_ratio}),
                       doctest::Contains("node 'dp' (Dropout): ratio must be in [0, 1), got 1.5"), Error);
  CHECK_THROWS_WITH_AS(load_layer(NodeBuilder("Dropout", {"x"}, "dp").attr("ratio", Attribute::of(0.5f)).opset(13)),
                       doctest::Contains("node 'dp' (Dropout): unsupported attribute 'ratio'"), Error);
  CHECK_THROWS_WITH_AS(load_layer(NodeBuilder("Dropout", {"x"}, "dp").attr("ratio", Attribute::of(-0.1f)).opset(7)),
                       doctest::Contains("node 'dp' (Dropout): ratio must be in [0, 1)"), Error);
  // Before opset 7: is_test = 1 fine, an explicit is_test = 0 asks for training.
  CHECK_NOTHROW(load_layer(NodeBuilder("Dropout", {"x"}).attr("is_test", Attribute::of(1)).opset(6)));
  CHECK_THROWS_WITH_AS(load_layer(NodeBuilder("Dropout", {"x"}, "dp").attr("is_test", Attribute::of(0)).opset(6)),
                       doctest::Contains("node 'dp' (Dropout): is_test = 0"), Error);
  CHECK_THROWS_WITH_AS(load_layer(NodeBuilder("Dropout", {"x"}, "dp").attr("is_test", Attribute::of(1)).opset(7)),
                       doctest::Contains("unsupported attribute 'is_test'"), Error);
}

TEST_CASE("Identity shares values and passes gradients unchanged") {
  Tensor x = random_tensor(Shape{3, 2}, 11);
  auto id = load_layer(NodeBuilder("Identity", {"x"}, "id"));
  Tape tape;
  Var v = tape.input(x);
  Var y = run(*id, tape, {v});
  check_equal(y.value(), x);
  Tensor g = random_tensor(x.shape(), 12);
  tape.backward(y, g);
  check_equal(tape.grad(v), g);
}
