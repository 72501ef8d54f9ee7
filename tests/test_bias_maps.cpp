// FullGrad's bias-map bookkeeping on transformer-style layers (issue #17: fullgrad corrupted the
// heap on transformer_tiny, whose bias adds are [T·N, D] after a Reshape): MatMul + Add on
// [N, T, D] (batch-first maps: exact completeness per example, any --batch), a broadcast Add of a
// [1, T, C] constant, LayerNormalization's B (map = ∂f/∂y ⊙ B), and a time-major [T, N, D] layout
// (one example per chunk captures it; several per chunk is a one-line Error, never an overrun).
#include <cmath>

#include "attribution/gradients.h"
#include "attribution/method.h"
#include "graph_builder.h"
#include "support.h"

using namespace gradlens;
using gradlens::test::error_of;
using gradlens::test::GraphBuilder;
using gradlens::test::random_tensor;

namespace {

constexpr int64_t N = 3, T = 4, D = 5, C = 6;

Request request(const Function& f, const Tensor& x, int64_t batch) {
  Request r;
  r.function = &f;
  r.input = x;
  r.targets = {0, 2, 5};
  r.batch = batch;
  return r;
}

// x [N, T, D] → MatMul W [D, C] → Add b [C] → Add pos [1, T, C] → ReduceMean over T → [N, C].
// Linear: FullGrad's decomposition is exact.
Graph linear_tokens(bool time_major) {
  GraphBuilder b(5);
  b.input("x", {-1, T, D});
  std::string t = "x";
  if (time_major) t = b.node("Transpose", {t}, {{"perm", Attribute::of(std::vector<int64_t>{1, 0, 2})}});
  t = b.node("MatMul", {t, b.weight("W", Shape{D, C})});
  t = b.node("Add", {b.weight("b", Shape{C}), t}, {}, "bias_add");  // constant first, as exported
  if (time_major) t = b.node("Transpose", {t}, {{"perm", Attribute::of(std::vector<int64_t>{1, 0, 2})}});
  t = b.node("Add", {t, b.weight("pos", Shape{1, T, C})}, {}, "pos_add");
  t = b.node("ReduceMean", {t}, {{"axes", Attribute::of(std::vector<int64_t>{1})},
                                 {"keepdims", Attribute::of(int64_t(0))}});
  b.output(t);
  return b.build();
}

}  // namespace

TEST_CASE("bias maps: MatMul + Add and a broadcast [1, T, C] Add are exact per example for any --batch") {
  Model model(linear_tokens(false));
  ModelFunction f(model);
  const Tensor x = random_tensor(Shape{N, T, D}, 11);
  Explanation one = method("fullgrad").explain(request(f, x, 1));
  Explanation two = method("fullgrad").explain(request(f, x, 2));
  CHECK(one.notes["bias_layers"] == "2");
  for (size_t n = 0; n < size_t(N); ++n) {
    CHECK(std::fabs(one.per_example["completeness_gap"][n]) <= 1e-5 * std::max(1.0, std::fabs(one.scores[n])));
    CHECK(two.per_example["bias_term:bias_add"][n] == doctest::Approx(one.per_example["bias_term:bias_add"][n]).epsilon(1e-6));
    CHECK(two.per_example["bias_term:pos_add"][n] == doctest::Approx(one.per_example["bias_term:pos_add"][n]).epsilon(1e-6));
    // Mean over T of (x W + b + pos): the bias terms are b[target] and mean_t pos[t, target].
    const int64_t c = std::vector<int64_t>{0, 2, 5}[n];
    const Tensor& b = model.constants().at("b").value;
    const Tensor& pos = model.constants().at("pos").value;
    double mean_pos = 0;
    for (int64_t t = 0; t < T; ++t) mean_pos += pos[t * C + c] / double(T);
    CHECK(one.per_example["bias_term:bias_add"][n] == doctest::Approx(b[c]).epsilon(1e-5));
    CHECK(one.per_example["bias_term:pos_add"][n] == doctest::Approx(mean_pos).epsilon(1e-5));
  }
}

TEST_CASE("bias maps: a time-major [T, N, C] bias add is captured with one example per chunk, refused with more") {
  Model model(linear_tokens(true));
  ModelFunction f(model);
  const Tensor x = random_tensor(Shape{N, T, D}, 12);
  Explanation e = method("fullgrad").explain(request(f, x, 1));
  Explanation batch_first = [&] {
    Model m(linear_tokens(false));
    ModelFunction g(m);
    return method("fullgrad").explain(request(g, x, 1));
  }();
  for (size_t n = 0; n < size_t(N); ++n) {
    CHECK(std::fabs(e.per_example["completeness_gap"][n]) <= 1e-5 * std::max(1.0, std::fabs(e.scores[n])));
    CHECK(e.per_example["bias_term:bias_add"][n] == doctest::Approx(batch_first.per_example["bias_term:bias_add"][n]).epsilon(1e-5));
  }
  const std::string msg = error_of([&] { method("fullgrad").explain(request(f, x, 2)); });
  CHECK(msg.find("no leading batch axis") != std::string::npos);
  CHECK(msg.find("--batch 1") != std::string::npos);
}

TEST_CASE("bias maps: LayerNormalization's B gives the map ∂f/∂y ⊙ B") {
  GraphBuilder b(9);
  b.input("x", {-1, T, D});
  std::string t = b.node("LayerNormalization", {"x", b.weight("gamma", Shape{D}, 0.5f, 1.5f), b.weight("beta", Shape{D})},
                         {{"axis", Attribute::of(int64_t(-1))}}, "ln");
  t = b.node("MatMul", {t, b.weight("W", Shape{D, C})}, {}, "proj");
  t = b.node("ReduceSum", {t, b.constant("axes", Tensor(Shape{1}, {1.f}))},
             {{"keepdims", Attribute::of(int64_t(0))}});
  b.output(t);
  Graph g = b.build();
  g.initializers["axes"] = Initializer::from_ints(Shape{1}, {1});
  Model model(g);
  ModelFunction f(model);
  const Tensor x = random_tensor(Shape{N, T, D}, 13);
  PassOptions o;
  o.bias_maps = true;
  o.batch = 2;
  PassResult p = gradient_pass(f, x, {0, 2, 5}, {}, o);
  REQUIRE(p.biases.size() == 1);
  CHECK(p.biases[0].name == "ln");
  REQUIRE(p.biases[0].map.shape() == Shape({N, T, D}));
  // ∂f/∂y of y = LN(x) through the linear head: W[:, target] on every token, so the map is
  // W[d, target] · beta[d] for every (n, t).
  const Tensor& W = model.constants().at("W").value;
  const Tensor& beta = model.constants().at("beta").value;
  for (int64_t n = 0; n < N; ++n)
    for (int64_t tk = 0; tk < T; ++tk)
      for (int64_t d = 0; d < D; ++d) {
        const int64_t c = std::vector<int64_t>{0, 2, 5}[size_t(n)];
        CHECK(p.biases[0].map[(n * T + tk) * D + d] == doctest::Approx(W[d * C + c] * beta[d]).epsilon(1e-5));
      }
}
