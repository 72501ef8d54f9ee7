// Shape and data-movement layers (Shape, Gather, Unsqueeze, Squeeze, Cast, Slice, Constant,
// ConstantOfShape, Expand, Range, Split, Where, Equal/Less/Greater/Not, Transpose, Pad, Tile):
// forwards against hand-worked values, gradients against finite differences, opset variants,
// errors naming the node, exact int64 folding of the shape chains torch exports, and a runtime
// Shape chain run at two batch sizes.
#include <cmath>
#include <cstdint>
#include <limits>

#include "engine/error.h"
#include "engine/ops.h"
#include "graph_builder.h"
#include "layer_testing.h"
#include "layers/model.h"

using namespace gradlens;
using namespace gradlens::test;

namespace {
constexpr int64_t kI64Max = std::numeric_limits<int64_t>::max();
constexpr int64_t kI64Min = std::numeric_limits<int64_t>::min();

Initializer iv(std::vector<int64_t> v) {
  const int64_t n = int64_t(v.size());
  return Initializer::from_ints(Shape{n}, std::move(v));
}
Initializer scalar_int(int64_t v) { return Initializer::from_ints(Shape{}, {v}); }
Initializer scalar_float(float v) { return Initializer(Tensor(Shape{}, {v})); }
Tensor iota(const Shape& s, float start = 0.f) {
  Tensor t(s);
  for (int64_t i = 0; i < t.numel(); ++i) t[i] = start + float(i);
  return t;
}
Attribute attr_ints(std::vector<int64_t> v) { return Attribute::of(v); }
// Folds the layer on constant inputs (as the Model does).
Graph with_initializers(Graph g, const std::map<std::string, Initializer>& inits) {
  for (const auto& [name, c] : inits) g.initializers[name] = c;
  return g;
}
std::vector<Initializer> fold(const NodeDef& node, const std::vector<const Initializer*>& c) {
  auto layer = load_layer(node, c);
  REQUIRE(layer->foldable());
  return layer->fold(c);
}
}  // namespace

// ---- Shape ------------------------------------------------------------------------------------

TEST_CASE("Shape: runtime extents, opset 15 start/end, exact fold, no gradient") {
  Tensor x = random_tensor(Shape{2, 3, 4}, 1);
  auto all = load_layer(NodeBuilder("Shape", {"x"}));
  check_equal(evaluate(*all, {x}), Tensor(Shape{3}, {2, 3, 4}));
  CHECK(all->infer({x.shape()})[0] == Shape{3});
  struct Case { int64_t start; bool has_end; int64_t end; std::vector<float> want; };
  const Case cases[] = {{1, false, 0, {3, 4}}, {0, true, -1, {2, 3}}, {-10, true, 10, {2, 3, 4}},
                        {2, true, 1, {}}, {-1, false, 0, {4}}};
  for (const Case& c : cases) {
    INFO("start " << c.start << " end " << c.end);
    NodeBuilder n("Shape", {"x"});
    n.opset(15).attr("start", Attribute::of(c.start));
    if (c.has_end) n.attr("end", Attribute::of(c.end));
    auto layer = load_layer(n);
    Tensor y = evaluate(*layer, {x});
    REQUIRE(y.numel() == int64_t(c.want.size()));
    for (size_t i = 0; i < c.want.size(); ++i) CHECK(y[int64_t(i)] == c.want[i]);
    CHECK(layer->infer({x.shape()})[0] == Shape{int64_t(c.want.size())});
  }
  CHECK_THROWS_WITH_AS(load_layer(NodeBuilder("Shape", {"x"}, "sh").attr("start", Attribute::of(1)).opset(13)),
                       doctest::Contains("node 'sh' (Shape): unsupported attribute 'start'"), Error);
  CHECK_THROWS_WITH_AS(load_layer(NodeBuilder("Shape", {"x", "y"}, "sh")),
                       doctest::Contains("node 'sh' (Shape): expected 1 inputs, got 2"), Error);
  Initializer c(x);
  std::vector<Initializer> f = fold(NodeBuilder("Shape", {"c"}), {&c});
  CHECK(f[0].is_integer);
  CHECK(f[0].ints == std::vector<int64_t>{2, 3, 4});
  // The output is not differentiable: nothing flows back to x.
  Tape tape;
  Var v = tape.input(x);
  Var s = run(*all, tape, {v});
  CHECK_FALSE(tape.requires_grad(s));
}

// ---- Gather -----------------------------------------------------------------------------------

TEST_CASE("Gather: axes, index shapes, negative indices, gradient as scatter-add") {
  Tensor data = iota(Shape{3, 4});
  Initializer idx = Initializer::from_ints(Shape{2, 2}, {0, 2, -1, 1});
  auto g0 = load_layer(NodeBuilder("Gather", {"d", "i"}), {nullptr, &idx});
  Tensor y = evaluate(*g0, {data}, {nullptr, &idx});
  REQUIRE(y.shape() == Shape{2, 2, 4});
  const float want0[] = {0, 1, 2, 3, 8, 9, 10, 11, 8, 9, 10, 11, 4, 5, 6, 7};
  for (int i = 0; i < 16; ++i) CHECK(y[i] == want0[i]);
  CHECK(g0->infer({data.shape(), idx.value.shape()})[0] == Shape{2, 2, 4});

  // Axis 1 (and -1) with a scalar index removes the axis.
  Initializer one = scalar_int(3);
  for (int64_t axis : {1, -1}) {
    auto g1 = load_layer(NodeBuilder("Gather", {"d", "i"}).attr("axis", Attribute::of(axis)), {nullptr, &one});
    check_equal(evaluate(*g1, {data}, {nullptr, &one}), Tensor(Shape{3}, {3, 7, 11}));
  }
  // Axis 1 with a [2] index vector: [3, 2].
  Initializer cols = iv({-1, 0});
  auto g2 = load_layer(NodeBuilder("Gather", {"d", "i"}).attr("axis", Attribute::of(1)), {nullptr, &cols});
  check_equal(evaluate(*g2, {data}, {nullptr, &cols}), Tensor(Shape{3, 2}, {3, 0, 7, 4, 11, 8}));

  // Gradient: an embedding lookup with a repeated id sums both rows' gradients.
  Initializer ids = Initializer::from_ints(Shape{2, 3}, {1, 0, 1, 2, 1, -3});
  auto emb = load_layer(NodeBuilder("Gather", {"w", "ids"}), {nullptr, &ids});
  Tensor w = random_tensor(Shape{3, 5}, 2);
  CHECK_GRADIENTS(gradcheck_layer(*emb, {w}, {nullptr, &ids}));
  {
    Tape tape;
    Var vw = tape.input(w);
    Var out = run(*emb, tape, {vw}, {nullptr, &ids});
    tape.backward(out, Tensor(out.shape(), 1.f));
    Tensor gw = tape.grad(vw);
    for (int j = 0; j < 5; ++j) {
      CHECK(gw[0 * 5 + j] == 2.f);  // ids 0, -3
      CHECK(gw[1 * 5 + j] == 3.f);
      CHECK(gw[2 * 5 + j] == 1.f);
    }
  }
  // Runtime indices (floats on the tape), axis 1 of a rank-3 tensor.
  auto rt = load_layer(NodeBuilder("Gather", {"d", "i"}).attr("axis", Attribute::of(1)));
  Tensor d3 = random_tensor(Shape{2, 4, 3}, 3);
  Tensor ri(Shape{2}, {3.f, 1.f});
  Tensor yr = evaluate(*rt, {d3, ri});
  REQUIRE(yr.shape() == Shape{2, 2, 3});
  CHECK(yr.at({1, 0, 2}) == d3.at({1, 3, 2}));
  CHECK(yr.at({0, 1, 1}) == d3.at({0, 1, 1}));
  CHECK_GRADIENTS(check_gradients(
      [&](Tape& tape, const std::vector<Var>& v) {
        return run(*rt, tape, {v[0], tape.input(ri, false)});
      },
      {d3}));

  // Errors.
  Initializer far = iv({3});
  auto bad = load_layer(NodeBuilder("Gather", {"d", "i"}, "g"), {nullptr, &far});
  CHECK_THROWS_WITH_AS(evaluate(*bad, {data}, {nullptr, &far}),
                       doctest::Contains("node 'g' (Gather): index 3 is out of range for axis 0 of extent 3"), Error);
  Initializer neg = iv({-4});
  auto bad2 = load_layer(NodeBuilder("Gather", {"d", "i"}, "g"), {nullptr, &neg});
  CHECK_THROWS_WITH_AS(evaluate(*bad2, {data}, {nullptr, &neg}),
                       doctest::Contains("node 'g' (Gather): index -4 is out of range"), Error);
  Initializer neg1 = iv({-1});
  auto old = load_layer(NodeBuilder("Gather", {"d", "i"}, "g").opset(1), {nullptr, &neg1});
  CHECK_THROWS_WITH_AS(evaluate(*old, {data}, {nullptr, &neg1}),
                       doctest::Contains("node 'g' (Gather): index -1 is negative, which opset 1 does not allow"), Error);
  auto badaxis = load_layer(NodeBuilder("Gather", {"d", "i"}, "g").attr("axis", Attribute::of(2)), {nullptr, &neg1});
  CHECK_THROWS_WITH_AS(evaluate(*badaxis, {data}, {nullptr, &neg1}),
                       doctest::Contains("node 'g' (Gather): axis 2 is out of range for rank 2"), Error);
  CHECK_THROWS_WITH_AS(load_layer(NodeBuilder("Gather", {"d"}, "g")),
                       doctest::Contains("node 'g' (Gather): expected 2 inputs, got 1"), Error);
  CHECK_THROWS_WITH_AS(evaluate(*rt, {d3, Tensor(Shape{1}, {4.f})}),
                       doctest::Contains("(Gather): index 4 is out of range for axis 1 of extent 4"), Error);
}

TEST_CASE("Gather folds integer data exactly (beyond float precision)") {
  const int64_t big = (int64_t(1) << 40) + 1;  // not representable in float
  Initializer data = iv({7, big, -big});
  Initializer idx = iv({1, 2});
  std::vector<Initializer> f = fold(NodeBuilder("Gather", {"d", "i"}), {&data, &idx});
  CHECK(f[0].is_integer);
  CHECK(f[0].ints == std::vector<int64_t>{big, -big});
  Initializer s = scalar_int(0);
  f = fold(NodeBuilder("Gather", {"d", "i"}), {&data, &s});
  CHECK(f[0].value.shape() == Shape{});
  CHECK(f[0].ints == std::vector<int64_t>{7});
}

// ---- Unsqueeze, Squeeze -------------------------------------------------------------------------

TEST_CASE("Unsqueeze: attribute axes before 13, input from 13, negative from 11") {
  Tensor x = random_tensor(Shape{2, 3}, 4);
  auto a11 = load_layer(NodeBuilder("Unsqueeze", {"x"}).attr("axes", attr_ints({0, -1})).opset(11));
  Tensor y = evaluate(*a11, {x});
  CHECK(y.shape() == Shape{1, 2, 3, 1});
  check_equal(y.reshaped(x.shape()), x);
  auto a1 = load_layer(NodeBuilder("Unsqueeze", {"x"}).attr("axes", attr_ints({2, 1})).opset(1));
  CHECK(evaluate(*a1, {x}).shape() == Shape{2, 1, 1, 3});
  Initializer axes = iv({1});
  auto a13 = load_layer(NodeBuilder("Unsqueeze", {"x", "a"}), {nullptr, &axes});
  CHECK(evaluate(*a13, {x}, {nullptr, &axes}).shape() == Shape{2, 1, 3});
  CHECK(a13->infer({x.shape(), axes.value.shape()})[0] == Shape{2, 1, 3});
  CHECK_GRADIENTS(gradcheck_layer(*a13, {x}, {nullptr, &axes}));
  auto rt = load_layer(NodeBuilder("Unsqueeze", {"x", "a"}));
  CHECK(evaluate(*rt, {x, Tensor(Shape{1}, {0.f})}).shape() == Shape{1, 2, 3});
  // A scalar becomes a 1-element vector (folded exactly).
  const int64_t big = (int64_t(1) << 50) + 3;
  Initializer s = scalar_int(big), zero = iv({0});
  std::vector<Initializer> f = fold(NodeBuilder("Unsqueeze", {"s", "a"}), {&s, &zero});
  CHECK(f[0].value.shape() == Shape{1});
  CHECK(f[0].ints == std::vector<int64_t>{big});

  CHECK_THROWS_WITH_AS(load_layer(NodeBuilder("Unsqueeze", {"x"}, "u").opset(11)),
                       doctest::Contains("node 'u' (Unsqueeze): attribute 'axes' is required"), Error);
  CHECK_THROWS_WITH_AS(load_layer(NodeBuilder("Unsqueeze", {"x"}, "u").attr("axes", attr_ints({0})).opset(13)),
                       doctest::Contains("node 'u' (Unsqueeze): expected 2 inputs, got 1"), Error);
  auto rep = load_layer(NodeBuilder("Unsqueeze", {"x"}, "u").attr("axes", attr_ints({1, 1})).opset(11));
  CHECK_THROWS_WITH_AS(evaluate(*rep, {x}), doctest::Contains("node 'u' (Unsqueeze): axis 1 is repeated"), Error);
  auto far = load_layer(NodeBuilder("Unsqueeze", {"x"}, "u").attr("axes", attr_ints({3})).opset(11));
  CHECK_THROWS_WITH_AS(evaluate(*far, {x}), doctest::Contains("node 'u' (Unsqueeze): axis 3 is out of range for rank 3"), Error);
  auto neg1 = load_layer(NodeBuilder("Unsqueeze", {"x"}, "u").attr("axes", attr_ints({-1})).opset(1));
  CHECK_THROWS_WITH_AS(evaluate(*neg1, {x}), doctest::Contains("node 'u' (Unsqueeze): axis -1 is negative, which opset 1 does not allow"), Error);
}

TEST_CASE("Squeeze: all unit axes by default, listed axes, errors") {
  Tensor x = random_tensor(Shape{1, 3, 1, 2}, 5);
  auto all = load_layer(NodeBuilder("Squeeze", {"x"}));
  CHECK(evaluate(*all, {x}).shape() == Shape{3, 2});
  CHECK(all->infer({x.shape()})[0] == Shape{3, 2});
  auto a11 = load_layer(NodeBuilder("Squeeze", {"x"}).attr("axes", attr_ints({-2})).opset(11));
  CHECK(evaluate(*a11, {x}).shape() == Shape{1, 3, 2});
  Initializer axes = iv({0});
  auto a13 = load_layer(NodeBuilder("Squeeze", {"x", "a"}), {nullptr, &axes});
  Tensor y = evaluate(*a13, {x}, {nullptr, &axes});
  CHECK(y.shape() == Shape{3, 1, 2});
  check_equal(y.reshaped(x.shape()), x);
  CHECK_GRADIENTS(gradcheck_layer(*a13, {x}, {nullptr, &axes}));
  Initializer notone = iv({1});
  auto bad = load_layer(NodeBuilder("Squeeze", {"x", "a"}, "sq"), {nullptr, &notone});
  CHECK_THROWS_WITH_AS(evaluate(*bad, {x}, {nullptr, &notone}),
                       doctest::Contains("node 'sq' (Squeeze): axis 1 has extent 3, not 1, in [1,3,1,2]"), Error);
  CHECK_THROWS_WITH_AS(load_layer(NodeBuilder("Squeeze", {"x"}, "sq").attr("axes", attr_ints({0})).opset(13)),
                       doctest::Contains("node 'sq' (Squeeze): unsupported attribute 'axes'"), Error);
  Initializer s = Initializer::from_ints(Shape{1}, {9});
  std::vector<Initializer> f = fold(NodeBuilder("Squeeze", {"s"}), {&s});
  CHECK(f[0].value.shape() == Shape{});
  CHECK(f[0].ints == std::vector<int64_t>{9});
}

// ---- Cast -------------------------------------------------------------------------------------

TEST_CASE("Cast: integer truncation and wrapping, bool, float16/bfloat16 rounding, gradients") {
  Tensor x(Shape{6}, {-1.7f, 2.9f, 300.5f, -129.f, 0.f, 1e30f});
  auto to64 = load_layer(NodeBuilder("Cast", {"x"}).attr("to", Attribute::of(7)));
  check_equal(evaluate(*to64, {x}), Tensor(Shape{6}, {-1, 2, 300, -129, 0, 9.223372e18f}));
  auto to8 = load_layer(NodeBuilder("Cast", {"x"}).attr("to", Attribute::of(3)));  // INT8
  Tensor y8 = evaluate(*to8, {x});
  CHECK(y8[2] == 44.f);    // 300 mod 256
  CHECK(y8[3] == 127.f);   // -129 wraps
  auto tou8 = load_layer(NodeBuilder("Cast", {"x"}).attr("to", Attribute::of(2)));  // UINT8
  CHECK(evaluate(*tou8, {x})[0] == 255.f);  // -1 → 255
  auto tobool = load_layer(NodeBuilder("Cast", {"x"}).attr("to", Attribute::of(9)));
  check_equal(evaluate(*tobool, {x}), Tensor(Shape{6}, {1, 1, 1, 1, 0, 1}));
  auto legacy = load_layer(NodeBuilder("Cast", {"x"}).attr("to", Attribute::of("INT32")).opset(1));
  CHECK(evaluate(*legacy, {x})[1] == 2.f);

  // float16: 1 + 2^-11 is a tie → 1; 1 + 3·2^-11 → 1 + 2^-9; 70000 → inf; 2^-20 is subnormal.
  Tensor h(Shape{4}, {1.f + std::ldexp(1.f, -11), 1.f + 3 * std::ldexp(1.f, -11), 70000.f,
                      std::ldexp(1.f, -20) + std::ldexp(1.f, -27)});
  auto to16 = load_layer(NodeBuilder("Cast", {"x"}).attr("to", Attribute::of(10)));
  Tensor y16 = evaluate(*to16, {h});
  CHECK(y16[0] == 1.f);
  CHECK(y16[1] == 1.f + std::ldexp(1.f, -9));
  CHECK(std::isinf(y16[2]));
  CHECK(y16[3] == std::ldexp(1.f, -20));
  auto tobf = load_layer(NodeBuilder("Cast", {"x"}).attr("to", Attribute::of(16)));
  Tensor ybf = evaluate(*tobf, {Tensor(Shape{2}, {1.f + std::ldexp(1.f, -8), 1.f + 3 * std::ldexp(1.f, -8)})});
  CHECK(ybf[0] == 1.f);
  CHECK(ybf[1] == 1.f + std::ldexp(1.f, -6));

  // Float targets pass the gradient; integer targets stop it.
  Tensor z = random_tensor(Shape{3, 2}, 6);
  auto tof = load_layer(NodeBuilder("Cast", {"x"}).attr("to", Attribute::of(1)));
  auto tod = load_layer(NodeBuilder("Cast", {"x"}).attr("to", Attribute::of(11)));
  CHECK_GRADIENTS(gradcheck_layer(*tof, {z}));
  CHECK_GRADIENTS(gradcheck_layer(*tod, {z}));
  {
    Tape tape;
    Var v = tape.input(z);
    Var h16 = run(*to16, tape, {v});
    tape.backward(h16, Tensor(z.shape(), 2.f));
    check_equal(tape.grad(v), Tensor(z.shape(), 2.f));  // straight through the rounding
    CHECK_FALSE(tape.requires_grad(run(*to64, tape, {v})));
  }

  // Folding: integer constants stay exact, narrow types wrap.
  const int64_t big = (int64_t(1) << 40) + 3;
  Initializer c = iv({big, -5});
  CHECK(fold(NodeBuilder("Cast", {"c"}).attr("to", Attribute::of(7)), {&c})[0].ints == std::vector<int64_t>{big, -5});
  CHECK(fold(NodeBuilder("Cast", {"c"}).attr("to", Attribute::of(6)), {&c})[0].ints == std::vector<int64_t>{3, -5});
  std::vector<Initializer> f = fold(NodeBuilder("Cast", {"c"}).attr("to", Attribute::of(1)), {&c});
  CHECK_FALSE(f[0].is_integer);
  CHECK(f[0].value[1] == -5.f);
  Initializer fl(Tensor(Shape{2}, {2.5f, -2.5f}));
  CHECK(fold(NodeBuilder("Cast", {"c"}).attr("to", Attribute::of(7)), {&fl})[0].ints == std::vector<int64_t>{2, -2});

  CHECK_THROWS_WITH_AS(load_layer(NodeBuilder("Cast", {"x"}, "c")), doctest::Contains("node 'c' (Cast): attribute 'to' is required"), Error);
  CHECK_THROWS_WITH_AS(load_layer(NodeBuilder("Cast", {"x"}, "c").attr("to", Attribute::of(8))),
                       doctest::Contains("node 'c' (Cast): casting to data type 8 (string/complex) is not supported"), Error);
  CHECK_THROWS_WITH_AS(load_layer(NodeBuilder("Cast", {"x"}, "c").attr("to", Attribute::of("INT65")).opset(1)),
                       doctest::Contains("node 'c' (Cast): unknown data type 'INT65'"), Error);
  CHECK_THROWS_WITH_AS(load_layer(NodeBuilder("Cast", {"x"}, "c").attr("to", Attribute::of(1)).attr("saturate", Attribute::of(1)).opset(13)),
                       doctest::Contains("node 'c' (Cast): unsupported attribute 'saturate'"), Error);
  CHECK_NOTHROW(load_layer(NodeBuilder("Cast", {"x"}).attr("to", Attribute::of(1)).attr("saturate", Attribute::of(0)).opset(19)));
}

// ---- Slice ------------------------------------------------------------------------------------

TEST_CASE("Slice: inputs from opset 10, INT64 bounds, negative steps, attributes in opset 1") {
  Tensor x = iota(Shape{3, 4});
  // Rows 0 and 2 (step 2, end INT64_MAX), columns 1..2 (end -1).
  Initializer st = iv({0, 1}), en = iv({kI64Max, -1}), ax = iv({0, 1}), sp = iv({2, 1});
  auto s1 = load_layer(NodeBuilder("Slice", {"x", "s", "e", "a", "p"}), {nullptr, &st, &en, &ax, &sp});
  std::vector<const Initializer*> c1 = {nullptr, &st, &en, &ax, &sp};
  check_equal(evaluate(*s1, {x}, c1), Tensor(Shape{2, 2}, {1, 2, 9, 10}));
  CHECK(s1->infer({x.shape(), {}, {}, {}, {}})[0] == Shape{2, 2});
  CHECK_GRADIENTS(gradcheck_layer(*s1, {x}, c1));

  // Reversal: start -1, end INT64_MIN, step -1 along the last axis (axes given negative).
  Initializer st2 = iv({-1}), en2 = iv({kI64Min}), ax2 = iv({-1}), sp2 = iv({-1});
  std::vector<const Initializer*> c2 = {nullptr, &st2, &en2, &ax2, &sp2};
  auto rev = load_layer(NodeBuilder("Slice", {"x", "s", "e", "a", "p"}), c2);
  check_equal(evaluate(*rev, {x}, c2), Tensor(Shape{3, 4}, {3, 2, 1, 0, 7, 6, 5, 4, 11, 10, 9, 8}));
  CHECK_GRADIENTS(gradcheck_layer(*rev, {random_tensor(Shape{3, 4}, 7)}, c2));
  // Step -2 from 10 (clamped to 3) down to (but excluding) 0: elements 3, 1.
  Initializer st3 = iv({10}), en3 = iv({0}), ax3 = iv({1}), sp3 = iv({-2});
  std::vector<const Initializer*> c3 = {nullptr, &st3, &en3, &ax3, &sp3};
  auto s3 = load_layer(NodeBuilder("Slice", {"x", "s", "e", "a", "p"}), c3);
  check_equal(evaluate(*s3, {x}, c3), Tensor(Shape{3, 2}, {3, 1, 7, 5, 11, 9}));
  // Empty result: start past end with a positive step.
  Initializer st4 = iv({3}), en4 = iv({1});
  auto s4 = load_layer(NodeBuilder("Slice", {"x", "s", "e"}), {nullptr, &st4, &en4});
  CHECK(evaluate(*s4, {x}, {nullptr, &st4, &en4}).shape() == Shape{0, 4});

  // Runtime bounds (floats; a huge end saturates).
  auto rt = load_layer(NodeBuilder("Slice", {"x", "s", "e", "a"}));
  Tensor y = evaluate(*rt, {x, Tensor(Shape{1}, {2.f}), Tensor(Shape{1}, {9.2e18f}), Tensor(Shape{1}, {1.f})});
  check_equal(y, Tensor(Shape{3, 2}, {2, 3, 6, 7, 10, 11}));

  // Opset 1: attributes, no steps.
  auto old = load_layer(NodeBuilder("Slice", {"x"}).attr("starts", attr_ints({1})).attr("ends", attr_ints({1000})).opset(1));
  check_equal(evaluate(*old, {x}), Tensor(Shape{2, 4}, {4, 5, 6, 7, 8, 9, 10, 11}));
  auto old_axes = load_layer(NodeBuilder("Slice", {"x"}).attr("starts", attr_ints({0})).attr("ends", attr_ints({-3})).attr("axes", attr_ints({1})).opset(1));
  check_equal(evaluate(*old_axes, {x}), Tensor(Shape{3, 1}, {0, 4, 8}));

  // Folding keeps integer data exact.
  const int64_t big = (int64_t(1) << 41) + 1;
  Initializer data = iv({1, big, 3, 4});
  Initializer fs = iv({-1}), fe = iv({-kI64Max}), fa = iv({0}), fp = iv({-2});
  std::vector<Initializer> f = fold(NodeBuilder("Slice", {"d", "s", "e", "a", "p"}), {&data, &fs, &fe, &fa, &fp});
  CHECK(f[0].ints == std::vector<int64_t>{4, big});

  // Errors.
  Initializer zero = iv({0});
  std::vector<const Initializer*> cz = {nullptr, &st2, &en2, &ax2, &zero};
  auto z = load_layer(NodeBuilder("Slice", {"x", "s", "e", "a", "p"}, "sl"), cz);
  CHECK_THROWS_WITH_AS(evaluate(*z, {x}, cz), doctest::Contains("node 'sl' (Slice): step on axis -1 is 0"), Error);
  Initializer rep = iv({1, -1}), two = iv({0, 0});
  std::vector<const Initializer*> cr = {nullptr, &two, &two, &rep};
  auto r = load_layer(NodeBuilder("Slice", {"x", "s", "e", "a"}, "sl"), cr);
  CHECK_THROWS_WITH_AS(evaluate(*r, {x}, cr), doctest::Contains("node 'sl' (Slice): axis -1 is repeated"), Error);
  std::vector<const Initializer*> cm = {nullptr, &two, &en2};
  auto mism = load_layer(NodeBuilder("Slice", {"x", "s", "e"}, "sl"), cm);
  CHECK_THROWS_WITH_AS(evaluate(*mism, {x}, cm), doctest::Contains("node 'sl' (Slice): starts has 2 entries but ends has 1"), Error);
  std::vector<const Initializer*> cn = {nullptr, &st2, &en2, &ax2};
  auto neg10 = load_layer(NodeBuilder("Slice", {"x", "s", "e", "a"}, "sl").opset(10), cn);
  CHECK_THROWS_WITH_AS(evaluate(*neg10, {x}, cn), doctest::Contains("node 'sl' (Slice): axis -1 is negative, which opset 10 does not allow"), Error);
  CHECK_THROWS_WITH_AS(load_layer(NodeBuilder("Slice", {"x", "s"}, "sl")),
                       doctest::Contains("node 'sl' (Slice): expected 3 to 5 inputs, got 2"), Error);
  CHECK_THROWS_WITH_AS(load_layer(NodeBuilder("Slice", {"x"}, "sl").attr("starts", attr_ints({0})).opset(9)),
                       doctest::Contains("node 'sl' (Slice): attribute 'ends' is required"), Error);
}

// ---- Constant, ConstantOfShape, Range ---------------------------------------------------------------

TEST_CASE("Constant: value tensor (integer-typed when the file's is), value_* from opset 12") {
  Attribute t = Attribute::of(Tensor(Shape{2}, {1.f, 9.2233720e18f}));
  t.ints = {1, kI64Max};  // as the ONNX reader stores an int64 tensor attribute
  std::vector<Initializer> f = fold(NodeBuilder("Constant", {}).attr("value", t), {});
  CHECK(f[0].is_integer);
  CHECK(f[0].ints == std::vector<int64_t>{1, kI64Max});
  f = fold(NodeBuilder("Constant", {}).attr("value", Attribute::of(Tensor(Shape{2, 1}, {0.5f, 2.f}))), {});
  CHECK_FALSE(f[0].is_integer);
  check_equal(f[0].value, Tensor(Shape{2, 1}, {0.5f, 2.f}));
  f = fold(NodeBuilder("Constant", {}).attr("value_int", Attribute::of(int64_t(-3))).opset(13), {});
  CHECK(f[0].value.shape() == Shape{});
  CHECK(f[0].ints == std::vector<int64_t>{-3});
  f = fold(NodeBuilder("Constant", {}).attr("value_ints", attr_ints({4, kI64Min})).opset(12), {});
  CHECK(f[0].ints == std::vector<int64_t>{4, kI64Min});
  f = fold(NodeBuilder("Constant", {}).attr("value_float", Attribute::of(2.5f)), {});
  CHECK(f[0].value.shape() == Shape{});
  CHECK(f[0].value[0] == 2.5f);
  f = fold(NodeBuilder("Constant", {}).attr("value_floats", Attribute::of(std::vector<float>{1.f, 2.f})), {});
  check_equal(f[0].value, Tensor(Shape{2}, {1.f, 2.f}));
  auto layer = load_layer(NodeBuilder("Constant", {}).attr("value_ints", attr_ints({1, 2, 3})));
  CHECK(layer->infer({})[0] == Shape{3});
  check_equal(evaluate(*layer, {}), Tensor(Shape{3}, {1, 2, 3}));

  CHECK_THROWS_WITH_AS(load_layer(NodeBuilder("Constant", {}, "k")),
                       doctest::Contains("node 'k' (Constant): exactly one value attribute must be given, got 0"), Error);
  CHECK_THROWS_WITH_AS(load_layer(NodeBuilder("Constant", {}, "k").attr("value_int", Attribute::of(1)).attr("value_float", Attribute::of(1.f))),
                       doctest::Contains("node 'k' (Constant): exactly one value attribute must be given, got 2"), Error);
  CHECK_THROWS_WITH_AS(load_layer(NodeBuilder("Constant", {}, "k").attr("value_int", Attribute::of(1)).opset(11)),
                       doctest::Contains("node 'k' (Constant): attribute 'value_int' needs opset 12, the node has 11"), Error);
  CHECK_THROWS_WITH_AS(load_layer(NodeBuilder("Constant", {}, "k").attr("value_string", Attribute::of("a"))),
                       doctest::Contains("node 'k' (Constant): attribute 'value_string' is not supported"), Error);
  CHECK_THROWS_WITH_AS(load_layer(NodeBuilder("Constant", {"x"}, "k").attr("value_int", Attribute::of(1))),
                       doctest::Contains("node 'k' (Constant): expected 0 inputs, got 1"), Error);
}

TEST_CASE("ConstantOfShape: shape input, value attribute, runtime shape") {
  Initializer shape = iv({2, 3});
  Attribute seven = Attribute::of(Tensor(Shape{1}, {7.f}));
  seven.ints = {7};
  std::vector<Initializer> f = fold(NodeBuilder("ConstantOfShape", {"s"}).attr("value", seven), {&shape});
  CHECK(f[0].is_integer);
  CHECK(f[0].value.shape() == Shape{2, 3});
  CHECK(f[0].ints == std::vector<int64_t>(6, 7));
  f = fold(NodeBuilder("ConstantOfShape", {"s"}), {&shape});
  CHECK_FALSE(f[0].is_integer);
  check_equal(f[0].value, Tensor(Shape{2, 3}, 0.f));
  Initializer empty = iv({});
  f = fold(NodeBuilder("ConstantOfShape", {"s"}).attr("value", Attribute::of(Tensor(Shape{1}, {1.5f}))), {&empty});
  CHECK(f[0].value.shape() == Shape{});
  CHECK(f[0].value[0] == 1.5f);
  auto rt = load_layer(NodeBuilder("ConstantOfShape", {"s"}).attr("value", Attribute::of(Tensor(Shape{1}, {2.f}))));
  check_equal(evaluate(*rt, {Tensor(Shape{2}, {1.f, 2.f})}), Tensor(Shape{1, 2}, 2.f));
  Initializer neg = iv({2, -1});
  auto bad = load_layer(NodeBuilder("ConstantOfShape", {"s"}, "cs"), {&neg});
  CHECK_THROWS_WITH_AS(bad->fold({&neg}), doctest::Contains("node 'cs' (ConstantOfShape): extent -1 is negative"), Error);
  CHECK_THROWS_WITH_AS(load_layer(NodeBuilder("ConstantOfShape", {"s"}, "cs").attr("value", Attribute::of(Tensor(Shape{2}, {1.f, 2.f}))), {&shape}),
                       doctest::Contains("node 'cs' (ConstantOfShape): attribute 'value' must hold one element"), Error);
}

TEST_CASE("Range: integer and float ranges, negative delta, runtime inputs, no gradient") {
  Initializer a = scalar_int(1), b = scalar_int(10), d = scalar_int(3);
  std::vector<Initializer> f = fold(NodeBuilder("Range", {"a", "b", "d"}), {&a, &b, &d});
  CHECK(f[0].is_integer);
  CHECK(f[0].ints == std::vector<int64_t>{1, 4, 7});
  Initializer a2 = scalar_int(10), b2 = scalar_int(1), d2 = scalar_int(-3);
  CHECK(fold(NodeBuilder("Range", {"a", "b", "d"}), {&a2, &b2, &d2})[0].ints == std::vector<int64_t>{10, 7, 4});
  CHECK(fold(NodeBuilder("Range", {"a", "b", "d"}), {&b2, &a2, &d2})[0].ints.empty());
  Initializer big = scalar_int((int64_t(1) << 40) + 1), big2 = scalar_int((int64_t(1) << 40) + 4), one = scalar_int(1);
  CHECK(fold(NodeBuilder("Range", {"a", "b", "d"}), {&big, &big2, &one})[0].ints ==
        std::vector<int64_t>{(int64_t(1) << 40) + 1, (int64_t(1) << 40) + 2, (int64_t(1) << 40) + 3});
  Initializer fa = scalar_float(0.f), fb = scalar_float(1.f), fd = scalar_float(0.3f);
  f = fold(NodeBuilder("Range", {"a", "b", "d"}), {&fa, &fb, &fd});
  CHECK_FALSE(f[0].is_integer);
  REQUIRE(f[0].value.numel() == 4);
  CHECK(f[0].value[3] == doctest::Approx(0.9f));
  auto rt = load_layer(NodeBuilder("Range", {"a", "b", "d"}));
  Tape tape;
  Var out = run(*rt, tape, {tape.input(Tensor(Shape{}, {5.f})), tape.input(Tensor(Shape{}, {2.f})),
                            tape.input(Tensor(Shape{}, {-1.f}))});
  check_equal(out.value(), Tensor(Shape{3}, {5, 4, 3}));
  CHECK_FALSE(tape.requires_grad(out));
  Initializer z = scalar_int(0);
  CHECK_THROWS_WITH_AS(load_layer(NodeBuilder("Range", {"a", "b", "d"}, "r"), {&a, &b, &z}),
                       doctest::Contains("node 'r' (Range): delta is 0"), Error);
  Initializer v2 = iv({1, 2});
  CHECK_THROWS_WITH_AS(load_layer(NodeBuilder("Range", {"a", "b", "d"}, "r"), {&v2, &b, &d}),
                       doctest::Contains("node 'r' (Range): start, limit and delta must be scalars"), Error);
}

// ---- Expand, Tile, Transpose ------------------------------------------------------------------

TEST_CASE("Expand: bidirectional broadcast, backward sums") {
  Tensor x(Shape{3, 1}, {1, 2, 3});
  Initializer shape = iv({2, 1, 4});
  auto e = load_layer(NodeBuilder("Expand", {"x", "s"}), {nullptr, &shape});
  Tensor y = evaluate(*e, {x}, {nullptr, &shape});
  REQUIRE(y.shape() == Shape{2, 3, 4});
  CHECK(y.at({1, 2, 3}) == 3.f);
  CHECK(y.at({0, 1, 0}) == 2.f);
  CHECK(e->infer({x.shape(), shape.value.shape()})[0] == Shape{2, 3, 4});
  Initializer smaller = iv({1});  // the output keeps x's shape
  auto e2 = load_layer(NodeBuilder("Expand", {"x", "s"}), {nullptr, &smaller});
  CHECK(evaluate(*e2, {x}, {nullptr, &smaller}).shape() == Shape{3, 1});
  CHECK_GRADIENTS(gradcheck_layer(*e, {random_tensor(Shape{3, 1}, 8)}, {nullptr, &shape}));
  {
    Tape tape;
    Var v = tape.input(x);
    Var out = run(*e, tape, {v}, {nullptr, &shape});
    tape.backward(out, Tensor(out.shape(), 1.f));
    check_equal(tape.grad(v), Tensor(Shape{3, 1}, 8.f));
  }
  auto rt = load_layer(NodeBuilder("Expand", {"x", "s"}));
  CHECK(evaluate(*rt, {x, Tensor(Shape{2}, {3.f, 5.f})}).shape() == Shape{3, 5});
  Initializer bad = iv({2, 4});
  auto eb = load_layer(NodeBuilder("Expand", {"x", "s"}, "ex"), {nullptr, &bad});
  CHECK_THROWS_WITH_AS(evaluate(*eb, {x}, {nullptr, &bad}),
                       doctest::Contains("node 'ex' (Expand): shapes [3,1] and [2,4] cannot be broadcast together"), Error);
  Initializer c = iv({5, 6});
  Initializer s2 = iv({2, 2});
  CHECK(fold(NodeBuilder("Expand", {"x", "s"}), {&c, &s2})[0].ints == std::vector<int64_t>{5, 6, 5, 6});
}

TEST_CASE("Tile: repeats input from opset 6, tiles/axis in opset 1, gradient") {
  Tensor x(Shape{2, 2}, {1, 2, 3, 4});
  Initializer r = iv({2, 3});
  auto t = load_layer(NodeBuilder("Tile", {"x", "r"}), {nullptr, &r});
  Tensor y = evaluate(*t, {x}, {nullptr, &r});
  REQUIRE(y.shape() == Shape{4, 6});
  const float row0[] = {1, 2, 1, 2, 1, 2}, row3[] = {3, 4, 3, 4, 3, 4};
  for (int j = 0; j < 6; ++j) {
    CHECK(y.at({0, j}) == row0[j]);
    CHECK(y.at({3, j}) == row3[j]);
  }
  CHECK(t->infer({x.shape(), r.value.shape()})[0] == Shape{4, 6});
  CHECK_GRADIENTS(gradcheck_layer(*t, {random_tensor(Shape{2, 2}, 9)}, {nullptr, &r}));
  Initializer tiles = scalar_int(2), axis = scalar_int(1);
  auto old = load_layer(NodeBuilder("Tile", {"x", "t", "a"}).opset(1), {nullptr, &tiles, &axis});
  check_equal(evaluate(*old, {x}, {nullptr, &tiles, &axis}), Tensor(Shape{2, 4}, {1, 2, 1, 2, 3, 4, 3, 4}));
  Initializer wrong = iv({2});
  auto bad = load_layer(NodeBuilder("Tile", {"x", "r"}, "tl"), {nullptr, &wrong});
  CHECK_THROWS_WITH_AS(evaluate(*bad, {x}, {nullptr, &wrong}),
                       doctest::Contains("node 'tl' (Tile): repeats has 1 entries for input rank 2"), Error);
  Initializer negr = iv({1, -1});
  auto bad2 = load_layer(NodeBuilder("Tile", {"x", "r"}, "tl"), {nullptr, &negr});
  CHECK_THROWS_WITH_AS(evaluate(*bad2, {x}, {nullptr, &negr}),
                       doctest::Contains("node 'tl' (Tile): repeat -1 on axis 1 is negative"), Error);
}

TEST_CASE("Transpose: perm, default reversal, gradient, exact fold") {
  Tensor x = iota(Shape{2, 3, 4});
  auto t = load_layer(NodeBuilder("Transpose", {"x"}).attr("perm", attr_ints({1, 2, 0})));
  Tensor y = evaluate(*t, {x});
  REQUIRE(y.shape() == Shape{3, 4, 2});
  CHECK(y.at({2, 1, 1}) == x.at({1, 2, 1}));
  CHECK(t->infer({x.shape()})[0] == Shape{3, 4, 2});
  auto rev = load_layer(NodeBuilder("Transpose", {"x"}));
  Tensor yr = evaluate(*rev, {x});
  REQUIRE(yr.shape() == Shape{4, 3, 2});
  CHECK(yr.at({3, 1, 0}) == x.at({0, 1, 3}));
  CHECK_GRADIENTS(gradcheck_layer(*t, {random_tensor(x.shape(), 10)}));
  Initializer m = Initializer::from_ints(Shape{2, 2}, {1, (int64_t(1) << 45) + 1, 3, 4});
  CHECK(fold(NodeBuilder("Transpose", {"m"}), {&m})[0].ints == std::vector<int64_t>{1, 3, (int64_t(1) << 45) + 1, 4});
  auto bad = load_layer(NodeBuilder("Transpose", {"x"}, "tr").attr("perm", attr_ints({0, 0, 1})));
  CHECK_THROWS_WITH_AS(evaluate(*bad, {x}), doctest::Contains("node 'tr' (Transpose): perm is not a permutation of 0..2"), Error);
  auto bad2 = load_layer(NodeBuilder("Transpose", {"x"}, "tr").attr("perm", attr_ints({1, 0})));
  CHECK_THROWS_WITH_AS(evaluate(*bad2, {x}), doctest::Contains("node 'tr' (Transpose): perm has 2 entries for rank 3"), Error);
}

// ---- Split ------------------------------------------------------------------------------------

namespace {
std::vector<Tensor> split_values(const Layer& layer, const Tensor& x,
                                 const std::vector<const Initializer*>& c = {}) {
  Tape tape;
  std::vector<Var> out = run_all(layer, tape, {tape.input(x, false)}, c);
  std::vector<Tensor> v;
  for (const Var& o : out) v.push_back(o.value().clone());
  return v;
}
}  // namespace

TEST_CASE("Split: equal pieces, split input/attribute, num_outputs (opset 18), gradients") {
  Tensor x = iota(Shape{2, 6});
  auto eq = load_layer(NodeBuilder("Split", {"x"}).outputs({"a", "b", "c"}).attr("axis", Attribute::of(1)));
  std::vector<Tensor> v = split_values(*eq, x);
  REQUIRE(v.size() == 3);
  check_equal(v[1], Tensor(Shape{2, 2}, {2, 3, 8, 9}));
  Initializer sp = iv({1, 5});
  auto in13 = load_layer(NodeBuilder("Split", {"x", "s"}).outputs({"a", "b"}).attr("axis", Attribute::of(-1)), {nullptr, &sp});
  v = split_values(*in13, x, {nullptr, &sp});
  check_equal(v[0], Tensor(Shape{2, 1}, {0, 6}));
  check_equal(v[1], Tensor(Shape{2, 5}, {1, 2, 3, 4, 5, 7, 8, 9, 10, 11}));
  std::vector<Shape> shapes = in13->infer({x.shape(), sp.value.shape()});
  CHECK(shapes[1] == Shape{2, 5});
  auto attr11 = load_layer(NodeBuilder("Split", {"x"}).outputs({"a", "b"}).attr("axis", Attribute::of(1)).attr("split", attr_ints({4, 2})).opset(11));
  CHECK(split_values(*attr11, x)[0].shape() == Shape{2, 4});
  auto n18 = load_layer(NodeBuilder("Split", {"x"}).outputs({"a", "b", "c"}).attr("axis", Attribute::of(1)).attr("num_outputs", Attribute::of(3)).opset(18));
  Tensor x7 = iota(Shape{7});
  auto n18b = load_layer(NodeBuilder("Split", {"x"}).outputs({"a", "b", "c"}).attr("num_outputs", Attribute::of(3)).opset(18));
  v = split_values(*n18b, x7);
  check_equal(v[0], Tensor(Shape{3}, {0, 1, 2}));
  check_equal(v[2], Tensor(Shape{1}, {6}));
  CHECK(split_values(*n18, x)[2].shape() == Shape{2, 2});
  // Gradient of both outputs (joined again so the checker sees one function).
  CHECK_GRADIENTS(check_gradients(
      [&](Tape& tape, const std::vector<Var>& in) {
        std::vector<Var> out = run_all(*in13, tape, in, {nullptr, &sp});
        return concat({out[1], scale(out[0], 3.f)}, 1);
      },
      {random_tensor(Shape{2, 6}, 11)}));
  // Runtime split lengths.
  auto rt = load_layer(NodeBuilder("Split", {"x", "s"}).outputs({"a", "b"}));
  Tape tape;
  std::vector<Var> out = run_all(*rt, tape, {tape.input(iota(Shape{5})), tape.input(Tensor(Shape{2}, {2.f, 3.f}))}, {});
  check_equal(out[1].value(), Tensor(Shape{3}, {2, 3, 4}));
  // Exact fold.
  Initializer c = iv({1, (int64_t(1) << 40) + 7, 3});
  Initializer s12 = iv({1, 2});
  std::vector<Initializer> f = fold(NodeBuilder("Split", {"c", "s"}).outputs({"a", "b"}), {&c, &s12});
  CHECK(f[1].ints == std::vector<int64_t>{(int64_t(1) << 40) + 7, 3});

  auto uneven = load_layer(NodeBuilder("Split", {"x"}, "sp").outputs({"a", "b", "c", "d"}).attr("axis", Attribute::of(1)));
  CHECK_THROWS_WITH_AS(split_values(*uneven, x), doctest::Contains("node 'sp' (Split): cannot split an axis of 6 into 4 equal pieces"), Error);
  Initializer badsum = iv({2, 2});
  auto bs = load_layer(NodeBuilder("Split", {"x", "s"}, "sp").outputs({"a", "b"}).attr("axis", Attribute::of(1)), {nullptr, &badsum});
  CHECK_THROWS_WITH_AS(split_values(*bs, x, {nullptr, &badsum}),
                       doctest::Contains("node 'sp' (Split): split lengths sum to 4, the axis has 6 elements"), Error);
  CHECK_THROWS_WITH_AS(load_layer(NodeBuilder("Split", {"x"}, "sp").outputs({"a", "b"}).opset(18)),
                       doctest::Contains("node 'sp' (Split): either the split input or the attribute 'num_outputs' is required"), Error);
  CHECK_THROWS_WITH_AS(load_layer(NodeBuilder("Split", {"x"}, "sp").outputs({"a", "b"}).attr("num_outputs", Attribute::of(3)).opset(18)),
                       doctest::Contains("node 'sp' (Split): num_outputs is 3 but the node has 2 outputs"), Error);
  CHECK_THROWS_WITH_AS(load_layer(NodeBuilder("Split", {"x"}, "sp").outputs({"a", "b"}).attr("split", attr_ints({3, 3}))),
                       doctest::Contains("node 'sp' (Split): unsupported attribute 'split'"), Error);
  CHECK_THROWS_WITH_AS(load_layer(NodeBuilder("Split", {"x"}, "sp").outputs({"a", "b"}).attr("axis", Attribute::of(-1)).opset(2)),
                       doctest::Contains("node 'sp' (Split): axis -1 is negative, which opset 2 does not allow"), Error);
}

// ---- Where, comparisons -----------------------------------------------------------------------

TEST_CASE("Where: broadcast select, gradients to the chosen branch only") {
  Initializer cond = Initializer::from_ints(Shape{3}, {1, 0, 1});
  Tensor x = iota(Shape{2, 3}, 1.f);
  Tensor y(Shape{}, {-1.f});
  auto w = load_layer(NodeBuilder("Where", {"c", "x", "y"}), {&cond, nullptr, nullptr});
  check_equal(evaluate(*w, {x, y}, {&cond, nullptr, nullptr}), Tensor(Shape{2, 3}, {1, -1, 3, 4, -1, 6}));
  CHECK(w->infer({cond.value.shape(), x.shape(), y.shape()})[0] == Shape{2, 3});
  CHECK_GRADIENTS(gradcheck_layer(*w, {random_tensor(Shape{2, 3}, 12), random_tensor(Shape{1, 1}, 13)},
                                  {&cond, nullptr, nullptr}));
  {
    Tape tape;
    Var vx = tape.input(x), vy = tape.input(y);
    Var out = run(*w, tape, {vx, vy}, {&cond, nullptr, nullptr});
    tape.backward(out, Tensor(out.shape(), 1.f));
    check_equal(tape.grad(vx), Tensor(Shape{2, 3}, {1, 0, 1, 1, 0, 1}));
    CHECK(tape.grad(vy)[0] == 2.f);
  }
  // Runtime condition (float, nonzero = true).
  auto rt = load_layer(NodeBuilder("Where", {"c", "x", "y"}));
  check_equal(evaluate(*rt, {Tensor(Shape{2, 1}, {0.f, 2.f}), x, y}), Tensor(Shape{2, 3}, {-1, -1, -1, 4, 5, 6}));
  const int64_t big = (int64_t(1) << 42) + 1;
  Initializer a = iv({big, 2, 5}), b = iv({3, -big, 4});
  std::vector<Initializer> f = fold(NodeBuilder("Where", {"c", "a", "b"}), {&cond, &a, &b});
  CHECK(f[0].value.shape() == Shape{3});
  CHECK(f[0].ints == std::vector<int64_t>{big, -big, 5});
  CHECK_THROWS_WITH_AS(evaluate(*rt, {Tensor(Shape{4}), x, y}),
                       doctest::Contains("(Where): shapes [4] and [2,3] cannot be broadcast together"), Error);
  CHECK_THROWS_WITH_AS(load_layer(NodeBuilder("Where", {"c", "x"}, "wh")), doctest::Contains("node 'wh' (Where): expected 3 inputs, got 2"), Error);
}

TEST_CASE("Equal, Less, Greater, Not: broadcasting, legacy broadcast, exact integer folding") {
  Tensor a(Shape{2, 3}, {1, 2, 3, 4, 5, 6});
  Tensor b(Shape{3}, {2, 2, 7});
  auto eq = load_layer(NodeBuilder("Equal", {"a", "b"}));
  auto lt = load_layer(NodeBuilder("Less", {"a", "b"}));
  auto gt = load_layer(NodeBuilder("Greater", {"a", "b"}));
  check_equal(evaluate(*eq, {a, b}), Tensor(Shape{2, 3}, {0, 1, 0, 0, 0, 0}));
  check_equal(evaluate(*lt, {a, b}), Tensor(Shape{2, 3}, {1, 0, 1, 0, 0, 1}));
  check_equal(evaluate(*gt, {a, b}), Tensor(Shape{2, 3}, {0, 0, 0, 1, 1, 0}));
  CHECK(eq->infer({a.shape(), b.shape()})[0] == Shape{2, 3});
  auto no = load_layer(NodeBuilder("Not", {"x"}));
  check_equal(evaluate(*no, {Tensor(Shape{3}, {0, 1, 0})}), Tensor(Shape{3}, {1, 0, 1}));
  {
    Tape tape;
    Var va = tape.input(a);
    CHECK_FALSE(tape.requires_grad(run(*gt, tape, {va, tape.input(b)})));
  }
  // Legacy broadcasting (opset 1-6): B aligned with A's axis 0.
  auto legacy = load_layer(NodeBuilder("Greater", {"a", "b"}).attr("broadcast", Attribute::of(1)).attr("axis", Attribute::of(0)).opset(1));
  check_equal(evaluate(*legacy, {a, Tensor(Shape{2}, {2, 5})}), Tensor(Shape{2, 3}, {0, 0, 1, 0, 0, 1}));
  auto strict = load_layer(NodeBuilder("Equal", {"a", "b"}, "eq").opset(1));
  CHECK_THROWS_WITH_AS(evaluate(*strict, {a, b}), doctest::Contains("node 'eq' (Equal): shapes [2,3] and [3] differ and broadcast = 0"), Error);
  CHECK_THROWS_WITH_AS(load_layer(NodeBuilder("Equal", {"a", "b"}, "eq").attr("broadcast", Attribute::of(1))),
                       doctest::Contains("node 'eq' (Equal): unsupported attribute 'broadcast'"), Error);
  CHECK_THROWS_WITH_AS(evaluate(*eq, {a, Tensor(Shape{2})}),
                       doctest::Contains("(Equal): shapes [2,3] and [2] cannot be broadcast together"), Error);
  // Integers that float cannot tell apart stay distinct when folded.
  const int64_t big = int64_t(1) << 40;
  Initializer x = iv({big, big + 1}), y = scalar_int(big + 1);
  std::vector<Initializer> f = fold(NodeBuilder("Equal", {"x", "y"}), {&x, &y});
  CHECK(f[0].is_integer);
  CHECK(f[0].ints == std::vector<int64_t>{0, 1});
  CHECK(fold(NodeBuilder("Less", {"x", "y"}), {&x, &y})[0].ints == std::vector<int64_t>{1, 0});
  CHECK(fold(NodeBuilder("Not", {"f"}), {&f[0]})[0].ints == std::vector<int64_t>{1, 0});
}

// ---- Pad --------------------------------------------------------------------------------------

TEST_CASE("Pad: constant, reflect, edge, wrap against the spec's examples") {
  const Tensor x(Shape{3, 2}, {1.0f, 1.2f, 2.3f, 3.4f, 4.5f, 5.7f});
  Initializer pads = iv({0, 2, 0, 0});
  auto pad = [&](const std::string& mode, int64_t opset = 19) {
    return load_layer(NodeBuilder("Pad", {"x", "p"}).attr("mode", Attribute::of(mode)).opset(opset), {nullptr, &pads});
  };
  check_equal(evaluate(*pad("constant"), {x}, {nullptr, &pads}),
              Tensor(Shape{3, 4}, {0, 0, 1.0f, 1.2f, 0, 0, 2.3f, 3.4f, 0, 0, 4.5f, 5.7f}));
  check_equal(evaluate(*pad("reflect"), {x}, {nullptr, &pads}),
              Tensor(Shape{3, 4}, {1.0f, 1.2f, 1.0f, 1.2f, 2.3f, 3.4f, 2.3f, 3.4f, 4.5f, 5.7f, 4.5f, 5.7f}));
  check_equal(evaluate(*pad("edge"), {x}, {nullptr, &pads}),
              Tensor(Shape{3, 4}, {1.0f, 1.0f, 1.0f, 1.2f, 2.3f, 2.3f, 2.3f, 3.4f, 4.5f, 4.5f, 4.5f, 5.7f}));
  check_equal(evaluate(*pad("wrap"), {x}, {nullptr, &pads}),
              Tensor(Shape{3, 4}, {1.0f, 1.2f, 1.0f, 1.2f, 2.3f, 3.4f, 2.3f, 3.4f, 4.5f, 5.7f, 4.5f, 5.7f}));
  CHECK(pad("edge")->infer({x.shape(), pads.value.shape()})[0] == Shape{3, 4});

  // Reflect wider than the axis repeats (numpy): [1 2 3] padded by 4 before and 3 after.
  const Tensor r(Shape{3}, {1, 2, 3});
  Initializer wide = iv({4, 3});
  auto refl = load_layer(NodeBuilder("Pad", {"x", "p"}).attr("mode", Attribute::of("reflect")), {nullptr, &wide});
  check_equal(evaluate(*refl, {r}, {nullptr, &wide}), Tensor(Shape{10}, {1, 2, 3, 2, 1, 2, 3, 2, 1, 2}));
  auto wrap = load_layer(NodeBuilder("Pad", {"x", "p"}).attr("mode", Attribute::of("wrap")).opset(19), {nullptr, &wide});
  check_equal(evaluate(*wrap, {r}, {nullptr, &wide}), Tensor(Shape{10}, {3, 1, 2, 3, 1, 2, 3, 1, 2, 3}));

  // Negative pads crop; the constant value input (opset 11).
  Initializer crop = iv({-1, 0, 1, 1});
  Initializer value = scalar_float(9.f);
  auto c11 = load_layer(NodeBuilder("Pad", {"x", "p", "v"}).opset(11), {nullptr, &crop, &value});
  check_equal(evaluate(*c11, {x}, {nullptr, &crop, &value}),
              Tensor(Shape{3, 3}, {2.3f, 3.4f, 9, 4.5f, 5.7f, 9, 9, 9, 9}));
  // Runtime constant value and runtime pads.
  auto rt = load_layer(NodeBuilder("Pad", {"x", "p", "v"}).opset(13));
  check_equal(evaluate(*rt, {r, Tensor(Shape{2}, {1.f, 0.f}), Tensor(Shape{}, {-5.f})}), Tensor(Shape{4}, {-5, 1, 2, 3}));
  // Opset 2: `pads` and `value` attributes; opset 1: `paddings`.
  auto o2 = load_layer(NodeBuilder("Pad", {"x"}).attr("pads", attr_ints({0, 1, 0, 0})).attr("value", Attribute::of(7.f)).opset(2));
  check_equal(evaluate(*o2, {x}), Tensor(Shape{3, 3}, {7, 1.0f, 1.2f, 7, 2.3f, 3.4f, 7, 4.5f, 5.7f}));
  auto o1 = load_layer(NodeBuilder("Pad", {"x"}).attr("paddings", attr_ints({1, 0, 0, 0})).attr("mode", Attribute::of("edge")).opset(1));
  check_equal(evaluate(*o1, {x}), Tensor(Shape{4, 2}, {1.0f, 1.2f, 1.0f, 1.2f, 2.3f, 3.4f, 4.5f, 5.7f}));
  // Opset 18 axes: pads for the listed axes only (negative axis).
  Initializer p18 = iv({1, 2}), ax = iv({-1});
  auto a18 = load_layer(NodeBuilder("Pad", {"x", "p", "", "a"}).attr("mode", Attribute::of("edge")).opset(18), {nullptr, &p18, nullptr, &ax});
  check_equal(evaluate(*a18, {x}, {nullptr, &p18, nullptr, &ax}),
              Tensor(Shape{3, 5}, {1.0f, 1.0f, 1.2f, 1.2f, 1.2f, 2.3f, 2.3f, 3.4f, 3.4f, 3.4f, 4.5f, 4.5f, 5.7f, 5.7f, 5.7f}));
}

TEST_CASE("Pad: gradients route reflected, edge and wrapped copies back") {
  Tensor x = random_tensor(Shape{2, 3, 4}, 14);
  Initializer pads = iv({0, 2, 3, 0, 1, 2});
  for (const char* mode : {"constant", "reflect", "edge", "wrap"}) {
    INFO("mode " << mode);
    auto layer = load_layer(NodeBuilder("Pad", {"x", "p"}).attr("mode", Attribute::of(mode)).opset(19), {nullptr, &pads});
    CHECK_GRADIENTS(gradcheck_layer(*layer, {x}, {nullptr, &pads}));
  }
  // Hand-worked: edge pad of [a b c] by 2 before and 1 after is [a a a b c c]: ∂a = 3, ∂c = 2.
  Initializer p = iv({2, 1});
  auto edge = load_layer(NodeBuilder("Pad", {"x", "p"}).attr("mode", Attribute::of("edge")), {nullptr, &p});
  auto refl = load_layer(NodeBuilder("Pad", {"x", "p"}).attr("mode", Attribute::of("reflect")), {nullptr, &p});
  Tape t2;
  Var v2 = t2.input(Tensor(Shape{3}, {1, 2, 3}));
  Var y2 = run(*edge, t2, {v2}, {nullptr, &p});
  t2.backward(y2, Tensor(Shape{6}, 1.f));
  check_equal(t2.grad(v2), Tensor(Shape{3}, {3, 1, 2}));
  // Reflect: [c b a b c b] → ∂a = 1, ∂b = 3, ∂c = 2.
  Tape t3;
  Var v3 = t3.input(Tensor(Shape{3}, {1, 2, 3}));
  Var y3 = run(*refl, t3, {v3}, {nullptr, &p});
  check_equal(y3.value(), Tensor(Shape{6}, {3, 2, 1, 2, 3, 2}));
  t3.backward(y3, Tensor(Shape{6}, 1.f));
  check_equal(t3.grad(v3), Tensor(Shape{3}, {1, 3, 2}));
}

TEST_CASE("Pad: errors name the node") {
  Tensor x = random_tensor(Shape{2, 3}, 15);
  Initializer pads = iv({0, 1});
  auto short_pads = load_layer(NodeBuilder("Pad", {"x", "p"}, "pd"), {nullptr, &pads});
  CHECK_THROWS_WITH_AS(evaluate(*short_pads, {x}, {nullptr, &pads}),
                       doctest::Contains("node 'pd' (Pad): pads has 2 entries, expected 4 for rank 2"), Error);
  CHECK_THROWS_WITH_AS(load_layer(NodeBuilder("Pad", {"x", "p"}, "pd").attr("mode", Attribute::of("wrap")).opset(18), {nullptr, &pads}),
                       doctest::Contains("node 'pd' (Pad): mode 'wrap' is not supported"), Error);
  CHECK_THROWS_WITH_AS(load_layer(NodeBuilder("Pad", {"x", "p"}, "pd").attr("mode", Attribute::of("symmetric")), {nullptr, &pads}),
                       doctest::Contains("node 'pd' (Pad): mode 'symmetric' is not supported"), Error);
  Initializer crop = iv({-3, 0, 0, 0});
  auto over = load_layer(NodeBuilder("Pad", {"x", "p"}, "pd"), {nullptr, &crop});
  CHECK_THROWS_WITH_AS(evaluate(*over, {x}, {nullptr, &crop}),
                       doctest::Contains("node 'pd' (Pad): pads -3 and 0 remove more than the 2 elements of axis 0"), Error);
  CHECK_THROWS_WITH_AS(load_layer(NodeBuilder("Pad", {"x"}, "pd").opset(2)),
                       doctest::Contains("node 'pd' (Pad): attribute 'pads' is required"), Error);
  Initializer ax = iv({0});
  CHECK_THROWS_WITH_AS(load_layer(NodeBuilder("Pad", {"x", "p", "", "a"}, "pd").opset(13), {nullptr, &pads, nullptr, &ax}),
                       doctest::Contains("node 'pd' (Pad): expected 2 to 3 inputs, got 4"), Error);
  Initializer vec = iv({1, 2});
  CHECK_THROWS_WITH_AS(load_layer(NodeBuilder("Pad", {"x", "p", "v"}, "pd"), {nullptr, &pads, &vec}),
                       doctest::Contains("node 'pd' (Pad): constant_value must be a scalar"), Error);
}

// ---- Folding the shape chains torch exports ---------------------------------------------------------

TEST_CASE("folded Shape → Gather → Unsqueeze → Concat → Reshape chain is exact and runs") {
  GraphBuilder b;
  std::map<std::string, Initializer> inits;
  b.input("x", {-1, 12});
  b.constant("w", random_tensor(Shape{3, 4}, 16));
  inits["zero"] = scalar_int(0);
  inits["minus1"] = iv({-1});
  inits["axes0"] = iv({0});
  std::string s = b.node("Shape", {"w"});
  std::string g = b.node("Gather", {s, "zero"}, {{"axis", Attribute::of(0)}});
  std::string u = b.node("Unsqueeze", {g, "axes0"});
  std::string c = b.node("Concat", {u, "minus1"}, {{"axis", Attribute::of(0)}}, "target");
  std::string r = b.node("Reshape", {"x", c}, {}, "y");
  b.output(r);
  Model model(with_initializers(b.build(), inits));
  CHECK(model.folded_nodes() == 4);
  const Initializer& target = model.constants().at("target");
  CHECK(target.is_integer);
  CHECK(target.ints == std::vector<int64_t>{3, -1});
  Tensor x = random_tensor(Shape{2, 12}, 17);
  Tape tape;
  Var out = model.forward(tape, x);
  REQUIRE(out.shape() == Shape{3, 8});
  check_equal(out.value().reshaped(x.shape()), x);
}

TEST_CASE("folded pads chain: ConstantOfShape, Concat, Reshape, Slice step -1, Transpose, Cast") {
  // torch's F.pad(x, (1, 2), mode='reflect') on a rank-2 input, as exported at opset 13.
  GraphBuilder b;
  std::map<std::string, Initializer> inits;
  b.input("x", {-1, 5});
  inits["torch_pads"] = iv({1, 2});
  inits["len"] = iv({2});
  inits["shape_m1_2"] = iv({-1, 2});
  inits["m1"] = iv({-1});
  inits["m1_vec"] = iv({-1});
  inits["start"] = iv({-1});
  inits["end"] = iv({-kI64Max});
  inits["axis0"] = iv({0});
  inits["step"] = iv({-1});
  Attribute zero = Attribute::of(Tensor(Shape{1}, {0.f}));
  zero.ints = {0};
  std::string z = b.node("ConstantOfShape", {"len"}, {{"value", zero}});
  std::string full = b.node("Concat", {"torch_pads", z}, {{"axis", Attribute::of(0)}});
  std::string pairs = b.node("Reshape", {full, "shape_m1_2"});
  std::string flipped = b.node("Slice", {pairs, "start", "end", "axis0", "step"});
  std::string tr = b.node("Transpose", {flipped}, {{"perm", attr_ints({1, 0})}});
  std::string flat = b.node("Reshape", {tr, "m1_vec"});
  std::string pads = b.node("Cast", {flat}, {{"to", Attribute::of(7)}}, "onnx_pads");
  std::string y = b.node("Pad", {"x", pads}, {{"mode", Attribute::of("reflect")}}, "y");
  b.output(y);
  Model model(with_initializers(b.build(), inits));
  CHECK(model.folded_nodes() == 7);
  CHECK(model.constants().at("onnx_pads").ints == std::vector<int64_t>{0, 1, 0, 2});
  Tensor x = iota(Shape{2, 5});
  Tape tape;
  Var out = model.forward(tape, x);
  check_equal(out.value(), Tensor(Shape{2, 8}, {1, 0, 1, 2, 3, 4, 3, 2, 6, 5, 6, 7, 8, 9, 8, 7}));
  GradCheckResult gc = check_gradients(
      [&](Tape& t, const std::vector<Var>& v) { return model.forward(t, v)[0]; },
      {random_tensor(Shape{2, 5}, 18)});
  INFO("worst " << gc.worst);
  CHECK(gc.relative_error < 1e-3);
}

TEST_CASE("folded Slice with INT64_MAX end and Constant nodes keep int64 values exact") {
  const int64_t big = (int64_t(1) << 40) + 1;
  GraphBuilder b;
  std::map<std::string, Initializer> inits;
  b.input("x", {-1, 4});
  std::string k = b.node("Constant", {}, {{"value_ints", attr_ints({big, 2, 2, 6})}});
  std::string st = b.node("Constant", {}, {{"value_ints", attr_ints({1})}});
  std::string en = b.node("Constant", {}, {{"value_ints", attr_ints({kI64Max})}});
  std::string sl = b.node("Slice", {k, st, en}, {}, "tail");  // [2, 2, 6]
  std::string x2 = b.node("Reshape", {"x", sl}, {}, "y");
  b.output(x2);
  b.output(b.node("Identity", {k}, {}, "k_out"));
  Model model(with_initializers(b.build(), inits));
  CHECK(model.folded_nodes() == 5);  // the three Constants, the Slice, and Identity(k)
  CHECK(model.constants().at("tail").ints == std::vector<int64_t>{2, 2, 6});
  CHECK(model.constants().at("k_out").ints[0] == big);
  CHECK(model.constants().at(k).ints[0] == big);
  Tape tape;
  Var x = tape.input(random_tensor(Shape{6, 4}, 19));
  CHECK(model.forward(tape, {x})[0].shape() == Shape{2, 2, 6});
}

TEST_CASE("runtime Shape(x) → Gather → Unsqueeze → Concat(-1) → Reshape runs for any batch") {
  GraphBuilder b;
  std::map<std::string, Initializer> inits;
  b.input("x", {-1, 3, 4});
  inits["zero"] = scalar_int(0);
  inits["axes0"] = iv({0});
  inits["minus1"] = iv({-1});
  std::string s = b.node("Shape", {"x"});
  std::string g = b.node("Gather", {s, "zero"});
  std::string u = b.node("Unsqueeze", {g, "axes0"});
  std::string c = b.node("Concat", {u, "minus1"}, {{"axis", Attribute::of(0)}});
  std::string r = b.node("Reshape", {"x", c}, {}, "flat");
  b.output(r);
  Model model(with_initializers(b.build(), inits));
  CHECK(model.folded_nodes() == 0);
  for (int64_t n : {1, 5}) {
    INFO("batch " << n);
    Tensor x = random_tensor(Shape{n, 3, 4}, uint64_t(20 + n));
    Tape tape;
    Var v = tape.input(x);
    Var out = model.forward(tape, {v})[0];
    REQUIRE(out.shape() == Shape{n, 12});
    check_equal(out.value().reshaped(x.shape()), x);
    Tensor seed = random_tensor(out.shape(), 30);
    tape.backward(out, seed);
    check_equal(tape.grad(v), seed.reshaped(x.shape()));
  }
}

TEST_CASE("the shape ops are registered") {
  for (const char* op : {"Shape", "Gather", "Unsqueeze", "Squeeze", "Cast", "Slice", "ConstantOfShape",
                         "Expand", "Range", "Constant", "Split", "Where", "Equal", "Transpose", "Pad",
                         "Tile", "Not", "Less", "Greater"}) {
    INFO(op);
    CHECK(layer_registered(op));
  }
}
