// Expected gradients (Sturmfels, Lundberg & Lee 2020; Erion et al. 2021): integrated gradients
// averaged over baselines drawn from a data set, with the path integral itself sampled:
//   EG(x) = E_{x′ ~ D, α ~ U(0,1)} [ (x − x′) ⊙ ∇f(x′ + α (x − x′)) ]
//         ≈ (1/S) Σ_s (x − x′_{j_s}) ⊙ ∇f(x′_{j_s} + α_s (x − x′_{j_s}))
// with S draws per example of a baseline index j_s ~ U{0..K−1} among the K examples of
// --baselines and α_s ~ U(0, 1), from --seed (draw s of example n: j then α, examples in order),
// or exactly as given by --draws, an .npy [N, S, 2] of (j, α). In expectation Σ EG equals
// f(x) − E f(x′); the completeness gap reported uses the mean score of the drawn baselines.
#include <cmath>
#include <cstring>

#include "attribution/method.h"
#include "attribution/path.h"
#include "engine/error.h"
#include "engine/random.h"
#include "io/npy.h"

namespace gradlens {

namespace {

class ExpectedGradients : public Method {
 public:
  ExpectedGradients() {
    info_.name = "expected-gradients";
    info_.family = "path";
    info_.paper = "Sturmfels, Lundberg & Lee 2020";
    info_.cost = "samples × (1F + 1B)";
    info_.summary = "mean of (x − x′) ⊙ ∇f(x′ + α(x − x′)) over drawn baselines x′ and α ~ U(0,1)";
    info_.parameters = {
        {"baselines", "", "FILE.npy of K baseline examples [K, ...] (required)"},
        {"samples", "50", "draws (baseline, α) per example"},
        {"seed", "0", "random seed of the draws"},
        {"draws", "", "FILE.npy [N, S, 2] of exact draws (baseline index, α); overrides samples and seed"},
    };
  }
  const MethodInfo& info() const override { return info_; }

  Explanation explain_rows(const Request& r) const override {
    r.options.check_known(info_);
    const std::string baselines_file = r.options.text(info_, "baselines");
    GL_CHECK(!baselines_file.empty(), info_.name, ": --baselines FILE.npy is required");
    const Tensor baselines = read_npy(baselines_file);
    const Tensor& x = r.input;
    GL_CHECK(x.rank() >= 2 && x.dim(0) > 0, info_.name, ": input must be [N, ...], got ", x.shape().str());
    const int64_t N = x.dim(0), per = x.numel() / N;
    bool same = baselines.rank() == x.rank() && baselines.dim(0) >= 1;
    for (int i = 1; same && i < x.rank(); ++i) same = baselines.dim(i) == x.dim(i);
    GL_CHECK(same, baselines_file, ": baselines of shape ", baselines.shape().str(), " must be [K, ...] with ",
             "the input's example shape ", x.shape().str());
    const int64_t K = baselines.dim(0);

    // draws[n][s] = (baseline index, α)
    int64_t S = 0;
    std::vector<std::pair<int64_t, float>> draws;
    const std::string draws_file = r.options.text(info_, "draws");
    if (!draws_file.empty()) {
      const Tensor d = read_npy(draws_file);
      GL_CHECK(d.rank() == 3 && d.dim(0) == N && d.dim(2) == 2 && d.dim(1) >= 1, draws_file, ": draws of shape ",
               d.shape().str(), " must be [N, S, 2] with N = ", N);
      S = d.dim(1);
      for (int64_t i = 0; i < N * S; ++i) {
        const float j = d[2 * i], alpha = d[2 * i + 1];
        GL_CHECK(j >= 0 && j < float(K) && j == std::floor(j), draws_file, ": baseline index ", j,
                 " is not an integer in [0, ", K, ")");
        GL_CHECK(alpha >= 0 && alpha <= 1, draws_file, ": α = ", alpha, " is outside [0, 1]");
        draws.push_back({int64_t(j), alpha});
      }
    } else {
      S = r.options.integer(info_, "samples", 1, 1 << 24);
      Rng rng(uint64_t(r.options.integer(info_, "seed", 0, INT64_MAX)));
      for (int64_t i = 0; i < N * S; ++i) {
        const int64_t j = rng.below(K);
        draws.push_back({j, float(rng.uniform())});
      }
    }

    auto draw = [&](int64_t n, int64_t s) { return draws[size_t(n * S + s)]; };
    std::vector<double> sum(size_t(N * per), 0.0);
    const ChunkStats stats = run_path(
        r, S,
        [&](int64_t n, int64_t s, int64_t, float* row) {
          const auto [j, alpha] = draw(n, s);
          const float* xn = x.data() + n * per;
          const float* bj = baselines.data() + j * per;
          for (int64_t i = 0; i < per; ++i) row[i] = bj[i] + alpha * (xn[i] - bj[i]);
        },
        [&](int64_t n, int64_t s, int64_t, const float* g, double) {
          const int64_t j = draw(n, s).first;
          const float* xn = x.data() + n * per;
          const float* bj = baselines.data() + j * per;
          double* acc = sum.data() + n * per;
          for (int64_t i = 0; i < per; ++i) acc[i] += (double(xn[i]) - double(bj[i])) * double(g[i]);
        });

    Explanation e;
    e.attribution = Tensor(x.shape());
    for (int64_t i = 0; i < N * per; ++i) e.attribution[i] = float(sum[size_t(i)] / double(S));
    // Each baseline scored once per example (with that example's target).
    const auto baseline_scores = path_scores(r, K, [&](int64_t, int64_t j, int64_t, float* row) {
      std::memcpy(row, baselines.data() + j * per, sizeof(float) * size_t(per));
    });
    std::vector<double> mean_baseline(size_t(N), 0.0);
    for (int64_t n = 0; n < N; ++n) {
      for (int64_t s = 0; s < S; ++s) mean_baseline[size_t(n)] += baseline_scores[size_t(n)][size_t(draw(n, s).first)];
      mean_baseline[size_t(n)] /= double(S);
    }
    report_completeness(e, example_scores(r, x), mean_baseline, stats);
    e.notes["samples"] = std::to_string(S);
    e.notes["baselines"] = std::to_string(K);
    e.forward_passes = stats.rows + N + N * K;
    e.backward_passes = stats.rows;
    return e;
  }

 private:
  MethodInfo info_;
};

GRADLENS_REGISTER_METHOD(expected_gradients, ExpectedGradients)

}  // namespace
}  // namespace gradlens
