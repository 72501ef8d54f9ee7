// Path streaming, the straight line, IDGI segments and the shared path parameters (see path.h).
#include "attribution/path.h"

#include <algorithm>
#include <cstring>

#include "engine/error.h"

namespace gradlens {

std::vector<Parameter> quadrature_parameters(const std::string& default_rule, const std::string& default_steps) {
  return {{"steps", default_steps, "quadrature nodes along the path"},
          {"rule", default_rule, quadrature_rule_names()}};
}

Quadrature parse_quadrature(const MethodInfo& m, const Options& options) {
  const int64_t steps = options.integer(m, "steps", 1, 1 << 20);
  return quadrature(parse_quadrature_rule(options.text(m, "rule")), steps);
}

void straight_line(const Tensor& x, const Tensor& b, int64_t n, double t, float* row) {
  const int64_t per = x.numel() / x.dim(0);
  const float* xn = x.data() + n * per;
  const float* bn = b.data() + n * per;
  for (int64_t i = 0; i < per; ++i) row[i] = float(double(bn[i]) + t * (double(xn[i]) - double(bn[i])));
}

void add_idgi_segment(double* acc, const float* g, int64_t features, double change) {
  double norm2 = 0;
  for (int64_t i = 0; i < features; ++i) norm2 += double(g[i]) * double(g[i]);
  if (norm2 == 0) return;
  for (int64_t i = 0; i < features; ++i) acc[i] += change * double(g[i]) * double(g[i]) / norm2;
}

std::vector<double> idgi_boundaries(const Quadrature& q) {
  const size_t n = q.nodes.size();
  std::vector<double> b(n + 1, 0.0);
  for (size_t k = 0; k < n; ++k) b[k + 1] = b[k] + q.weights[k];
  b[n] = 1.0;
  return b;
}

// Streaming

void check_path_request(const Request& r, const std::string& method) {
  GL_CHECK(r.function != nullptr, method, ": no function to explain");
  GL_CHECK(r.input.rank() >= 2 && r.input.dim(0) > 0, method, ": input must be [N, ...] with N > 0, got ",
           r.input.shape().str());
  GL_CHECK(int64_t(r.targets.size()) == r.input.dim(0), method, ": ", r.targets.size(), " targets for ",
           r.input.dim(0), " examples");
  GL_CHECK(r.contrast.empty() || r.contrast.size() == r.targets.size(), method, ": ", r.contrast.size(),
           " contrast classes for ", r.targets.size(), " examples");
  GL_CHECK(r.batch >= 1, method, ": batch size must be at least 1");
}

namespace {
// The chunked pass over the N·points path rows: row m is point m % points of example m / points,
// written by `fill` into a buffer of request.batch rows; with_gradient selects one backward of
// the explained score per chunk, else the pass is forward only.
ChunkStats path_pass(const Request& r, int64_t points, ChunkBudget& budget, bool with_gradient, const PathFill& fill,
                     const PathConsume& consume) {
  check_path_request(r, "path method");
  GL_CHECK(points >= 1, "path method: at least one path point is needed");
  const int64_t N = r.input.dim(0), per = r.input.numel() / N, M = N * points;
  Shape buffer_shape = r.input.shape();
  buffer_shape[0] = std::min(M, r.batch);
  Tensor buffer(buffer_shape);
  std::vector<SeedWriter> seeds;
  if (with_gradient) seeds.push_back(class_seed(r.targets, r.contrast, points));
  return run_chunks(
      *r.function, M, budget,
      [&](int64_t begin, int64_t k) {
        GL_CHECK(k <= r.batch, "path method: a chunk of ", k, " rows exceeds --batch ", r.batch);
        for (int64_t s = 0; s < k; ++s) fill((begin + s) / points, (begin + s) % points, s, buffer.data() + s * per);
        return rows(buffer, 0, k);
      },
      seeds, ChunkTaps(),
      [&](const Chunk& c, int) {
        const Tensor g = with_gradient ? c.input_gradient() : Tensor();
        for (int64_t s = 0; s < c.rows; ++s) {
          const int64_t n = (c.begin + s) / points, step = (c.begin + s) % points;
          const double score = class_score(c.score_row(s), c.classes(), r.targets, r.contrast, n);
          consume(n, step, s, with_gradient ? g.data() + s * per : nullptr, score);
        }
      });
}
}  // namespace

ChunkStats run_path(const Request& r, int64_t points, const PathFill& fill, const PathConsume& consume) {
  ChunkBudget budget(r.batch);
  return run_path(r, points, budget, fill, consume);
}

ChunkStats run_path(const Request& r, int64_t points, ChunkBudget& budget, const PathFill& fill,
                    const PathConsume& consume) {
  return path_pass(r, points, budget, true, fill, consume);
}

std::vector<double> straight_path_integral(const Request& r, const Tensor& baseline, const Quadrature& q,
                                           ChunkBudget& budget, ChunkStats& stats) {
  const int64_t per = r.input.numel() / r.input.dim(0);
  std::vector<double> sum(size_t(r.input.numel()), 0.0);
  stats = run_path(
      r, int64_t(q.nodes.size()), budget,
      [&](int64_t n, int64_t k, int64_t, float* row) { straight_line(r.input, baseline, n, q.nodes[size_t(k)], row); },
      [&](int64_t n, int64_t k, int64_t, const float* g, double) {
        double* acc = sum.data() + n * per;
        const double w = q.weights[size_t(k)];
        for (int64_t i = 0; i < per; ++i) acc[i] += w * double(g[i]);
      });
  return sum;
}

std::vector<std::vector<double>> path_scores(const Request& r, int64_t points, const PathFill& fill) {
  check_path_request(r, "path method");
  std::vector<std::vector<double>> out(size_t(r.input.dim(0)), std::vector<double>(static_cast<size_t>(points)));
  ChunkBudget budget(r.batch);
  path_pass(r, points, budget, false, fill, [&](int64_t n, int64_t k, int64_t, const float*, double score) {
    out[size_t(n)][size_t(k)] = score;
  });
  return out;
}

std::vector<double> example_scores(const Request& request, const Tensor& x) {
  // One row per forward: a row's score can differ in the last bit with the rows batched with it,
  // and the reported f(x), f(x′) should not depend on --batch.
  Request r = request;
  r.batch = 1;
  const int64_t per = x.numel() / x.dim(0);
  const auto scores = path_scores(r, 1, [&](int64_t n, int64_t, int64_t, float* row) {
    std::memcpy(row, x.data() + n * per, sizeof(float) * size_t(per));
  });
  std::vector<double> out;
  for (const auto& s : scores) out.push_back(s[0]);
  return out;
}

void report_completeness(Explanation& e, const std::vector<double>& input_scores,
                         const std::vector<double>& baseline_scores, const ChunkStats& stats) {
  const int64_t N = e.attribution.dim(0), per = e.attribution.numel() / N;
  std::vector<double> total(static_cast<size_t>(N)), gap(static_cast<size_t>(N));
  for (int64_t n = 0; n < N; ++n) {
    double s = 0;
    for (int64_t i = 0; i < per; ++i) s += e.attribution[n * per + i];
    total[size_t(n)] = s;
    gap[size_t(n)] = s - (input_scores[size_t(n)] - baseline_scores[size_t(n)]);
  }
  e.scores = input_scores;
  e.per_example["input_score"] = input_scores;
  e.per_example["baseline_score"] = baseline_scores;
  e.per_example["attribution_sum"] = total;
  e.per_example["completeness_gap"] = gap;
  report_chunks(e, stats);
}

void report_chunks(Explanation& e, const ChunkStats& stats) {
  e.notes["chunk_rows"] = std::to_string(stats.chunk_rows);
  e.notes["chunks"] = std::to_string(stats.chunks);
  e.notes["tape_bytes"] = std::to_string(stats.tape_bytes);
}

}  // namespace gradlens
