// Adversarial gradient integration (Pan, Li & Zhu 2021, IJCAI): for the explained class t and a
// false class j, the path runs from x along the steepest ascent of f_j to an adversarial example
// x′_j (argmax f(x′_j) = j), and the gradient of f_t is integrated back along it:
//   x_0 = x,  x_{k+1} = clip(x_k + ε sign(∇f_j(x_k)))              (FGSM-like ascent of f_j)
//   AGI_j = Σ_{k < n_j} −∇f_t(x_k) ⊙ (x_{k+1} − x_k)                 (left Riemann sum of the path)
//   AGI   = (1/K) Σ_j AGI_j   over K false classes j ≠ t
// n_j is the first k with argmax f(x_k) = j, or --max-iter when the search does not get there.
// As the authors' code (pd90506/AGI): the step is ε times the sign of ∇f_j, the loop checks the
// prediction before each step, and clip is their clamp to the image range (here --bounds, default
// none); the normalisation of ∇f_j in the paper does not change its sign. The authors' code
// differentiates softmax probabilities: use --score prob for that (the default explains logits).
// Deliberate differences: false classes are drawn at random (--seed) or given (--false-classes)
// where the authors take the fixed ids 0, 1000/K, ...; the mean over classes replaces their sum
// (a constant factor 1/K). Σ AGI_j telescopes to f_t(x) − f_t(x′_j) up to the left Riemann error;
// completeness_gap reports Σ AGI − mean_j (f_t(x) − f_t(x′_j)).
// Batching: the N·K trajectories advance together, one seeded pass per iteration over the rows
// still searching (one forward, backwards for f_t and f_j); finished rows leave the batch.
#include <algorithm>
#include <cmath>
#include <cstring>

#include "attribution/adversarial.h"
#include "attribution/gradients.h"
#include "attribution/method.h"
#include "attribution/path.h"
#include "engine/error.h"
#include "engine/random.h"
#include "io/npy.h"

namespace gradlens {

namespace {

// classes[n * K + k]: false class k of example n, from --false-classes or drawn (--classes, --seed).
std::vector<int64_t> false_classes(const MethodInfo& m, const Request& r, int64_t C, int64_t& K) {
  const int64_t N = r.input.dim(0);
  K = 0;
  std::vector<int64_t> classes;
  const std::string file = r.options.text(m, "false-classes");
  if (!file.empty()) {
    const Tensor t = read_npy(file);
    GL_CHECK(t.rank() == 2 && t.dim(0) == N && t.dim(1) >= 1, file, ": false classes of shape ", t.shape().str(),
             " must be [N, K] with N = ", N);
    K = t.dim(1);
    for (int64_t i = 0; i < N * K; ++i) {
      const float c = t[i];
      GL_CHECK(c == std::floor(c) && c >= 0 && c < float(C), file, ": class ", c, " is not an integer in [0, ", C, ")");
      GL_CHECK(int64_t(c) != r.targets[size_t(i / K)], file, ": class ", int64_t(c), " of example ", i / K,
               " is its target class");
      classes.push_back(int64_t(c));
    }
  } else {
    K = std::min(r.options.integer(m, "classes", 1, 1 << 20), C - 1);
    Rng rng(uint64_t(r.options.integer(m, "seed", 0, INT64_MAX)));
    for (int64_t n = 0; n < N; ++n) {
      // The first K of a Fisher–Yates shuffle of the classes other than the target, in order.
      std::vector<int64_t> others;
      for (int64_t c = 0; c < C; ++c)
        if (c != r.targets[size_t(n)]) others.push_back(c);
      for (int64_t k = 0; k < K; ++k) {
        const int64_t pick = k + rng.below(int64_t(others.size()) - k);
        std::swap(others[size_t(k)], others[size_t(pick)]);
        classes.push_back(others[size_t(k)]);
      }
    }
  }
  return classes;
}

// One step of a trajectory: x ← clip(x + ε sign(∇f_j)), and the attribution sum gains
// −∇f_t ⊙ (x_{k+1} − x_k).
void ascend(const float* g_explained, const float* g_false, float eps, const BoxConstraint& box, float* point,
            double* sum, int64_t per) {
  for (int64_t i = 0; i < per; ++i) {
    const float direction = g_false[i] > 0 ? 1.f : (g_false[i] < 0 ? -1.f : 0.f);
    const float next = box.apply(point[i] + eps * direction);
    sum[i] -= double(g_explained[i]) * (double(next) - double(point[i]));
    point[i] = next;
  }
}

// The N·K trajectories (m = n·K + k) and how each ended.
struct Trajectories {
  std::vector<double> sums;         // [M · per]: Σ −∇f_t ⊙ (x_{k+1} − x_k) so far
  std::vector<double> end_score;    // f_t (− f_contrast) at the last point
  std::vector<int64_t> iterations;  // steps taken
  std::vector<bool> reached;        // argmax f = j at the last point
  int64_t gradient_rows = 0, forward_rows = 0, chunks = 0;
  int64_t tape_bytes = 0;
};

// All trajectories advance together: each iteration is one seeded pass (∇f_t and ∇f_j) over
// the rows still searching; a row leaves when its prediction is its false class, and after
// max_iter steps its last point is only checked.
Trajectories follow_ascents(const Request& r, const std::vector<int64_t>& classes, int64_t K, int64_t C, float eps,
                            int64_t max_iter, const BoxConstraint& box, ChunkBudget& budget) {
  const Tensor& x = r.input;
  const int64_t N = x.dim(0), per = x.numel() / N, M = N * K;
  Tensor points(Shape{M, per});
  for (int64_t m = 0; m < M; ++m) std::memcpy(points.data() + m * per, x.data() + (m / K) * per, sizeof(float) * size_t(per));
  Trajectories t;
  t.sums.assign(size_t(M * per), 0.0);
  t.end_score.assign(size_t(M), 0.0);
  t.iterations.assign(size_t(M), 0);
  t.reached.assign(size_t(M), false);
  std::vector<int64_t> active(static_cast<size_t>(M));
  for (int64_t m = 0; m < M; ++m) active[size_t(m)] = m;

  const SeedWriter target_seed = class_seed(r.targets, r.contrast);
  Shape batch_shape = x.shape();
  for (int64_t it = 0; it <= max_iter && !active.empty(); ++it) {
    const int64_t A = int64_t(active.size());
    batch_shape[0] = A;
    Tensor X(batch_shape);
    for (int64_t a = 0; a < A; ++a)
      std::memcpy(X.data() + a * per, points.data() + active[size_t(a)] * per, sizeof(float) * size_t(per));
    t.forward_rows += A;
    SeededPassResult p;
    if (it == max_iter) {
      p.scores = evaluate_scores(*r.function, X, r.batch);  // the last point is only checked
    } else {
      const SeedWriter explained = [&](int64_t a, const float* scores, int64_t classes_, float* seed) {
        target_seed(active[size_t(a)] / K, scores, classes_, seed);
      };
      const SeedWriter false_class = [&](int64_t a, const float*, int64_t, float* seed) {
        seed[classes[size_t(active[size_t(a)])]] = 1.f;
      };
      p = seeded_pass(*r.function, X, budget, {explained, false_class});
      t.gradient_rows += A;
      t.chunks += p.chunks;
      t.tape_bytes = std::max(t.tape_bytes, p.tape_bytes);
    }
    std::vector<int64_t> still;
    for (int64_t a = 0; a < A; ++a) {
      const int64_t m = active[size_t(a)];
      const float* s = p.scores.data() + a * C;
      if (argmax_row(s, C) == classes[size_t(m)] || it == max_iter) {
        t.reached[size_t(m)] = argmax_row(s, C) == classes[size_t(m)];
        t.iterations[size_t(m)] = it;
        t.end_score[size_t(m)] = class_score(s, C, r.targets, r.contrast, m / K);
        continue;
      }
      ascend(p.gradients[0].data() + a * per, p.gradients[1].data() + a * per, eps, box, points.data() + m * per,
             t.sums.data() + m * per, per);
      still.push_back(m);
    }
    active.swap(still);
  }
  return t;
}

// AGI = (1/K) Σ_j AGI_j per example, with the number of false classes reached, the mean steps
// and the mean end score (for the completeness gap).
struct ClassMeans {
  Tensor attribution;
  std::vector<double> reached, iterations, end_score;
};
ClassMeans class_means(const Trajectories& t, const Shape& shape, int64_t K) {
  const int64_t N = shape[0];
  ClassMeans c;
  c.attribution = Tensor(shape);
  const int64_t per = c.attribution.numel() / N;
  c.reached.assign(size_t(N), 0.0);
  c.iterations.assign(size_t(N), 0.0);
  c.end_score.assign(size_t(N), 0.0);
  for (int64_t n = 0; n < N; ++n) {
    for (int64_t i = 0; i < per; ++i) {
      double total = 0;
      for (int64_t k = 0; k < K; ++k) total += t.sums[size_t((n * K + k) * per + i)];
      c.attribution[n * per + i] = float(total / double(K));
    }
    for (int64_t k = 0; k < K; ++k) {
      const size_t m = size_t(n * K + k);
      c.reached[size_t(n)] += t.reached[m] ? 1.0 : 0.0;
      c.iterations[size_t(n)] += double(t.iterations[m]) / double(K);
      c.end_score[size_t(n)] += t.end_score[m] / double(K);
    }
  }
  return c;
}

class AdversarialGradientIntegration : public Method {
 public:
  AdversarialGradientIntegration() {
    info_.name = "agi";
    info_.family = "path";
    info_.paper = "Pan, Li & Zhu 2021";
    info_.cost = "classes × (≤ max-iter) × (1F + 2B)";
    info_.summary = "mean over false classes of −∇f_t integrated along the signed ascent of f_j to an adversarial example";
    info_.parameters = {
        {"classes", "20", "false classes per example (drawn at random among the others; all when fewer)"},
        {"step-size", "0.05", "ε: each step moves every feature by ±ε (the sign of ∇f_j)"},
        {"max-iter", "50", "steps at most per false class"},
        {"seed", "0", "random seed of the false classes drawn"},
        {"false-classes", "", "FILE.npy [N, K] of false classes (overrides classes and seed)"},
        bounds_parameter(),
    };
  }
  const MethodInfo& info() const override { return info_; }

  Explanation explain_rows(const Request& r) const override {
    r.options.check_known(info_);
    const Tensor& x = r.input;
    check_path_request(r, info_.name);
    const int64_t N = x.dim(0);
    const double eps = r.options.number(info_, "step-size", 0, 1e30);
    GL_CHECK(eps > 0, info_.name, ": --step-size must be positive");
    const int64_t max_iter = r.options.integer(info_, "max-iter", 1, 1 << 24);
    ChunkBudget budget(r.batch);
    const BoxConstraint box = parse_bounds(info_, r.options);
    const int64_t C = checked_classes(info_, r);

    int64_t K = 0;
    const std::vector<int64_t> classes = false_classes(info_, r, C, K);
    const Trajectories t = follow_ascents(r, classes, K, C, float(eps), max_iter, box, budget);
    ClassMeans means = class_means(t, x.shape(), K);

    Explanation e;
    e.attribution = std::move(means.attribution);
    ChunkStats stats;
    stats.rows = t.gradient_rows;
    stats.chunk_rows = std::min(budget.chunk_rows(), N * K);
    stats.chunks = t.chunks;
    stats.tape_bytes = t.tape_bytes;
    report_completeness(e, example_scores(r, x), means.end_score, stats);
    e.per_example["adversarial_classes"] = means.reached;
    e.per_example["mean_iterations"] = means.iterations;
    e.notes["classes"] = std::to_string(K);
    e.forward_passes = t.forward_rows + 1 + N;
    e.backward_passes = 2 * t.gradient_rows;
    return e;
  }

 private:
  MethodInfo info_;
};

GRADLENS_REGISTER_METHOD(agi, AdversarialGradientIntegration)

}  // namespace
}  // namespace gradlens
