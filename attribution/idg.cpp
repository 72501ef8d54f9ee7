// Integrated directional gradients (Sikdar, Bhattacharya & Heese, ACL 2021): importance of groups
// of features. For a set S, z^S_i = x_i − x′_i if i ∈ S else 0 and ẑ^S = z^S / ‖z^S‖:
//   IDG(S) = ∫₀¹ ∇f(x′ + α (x − x′)) · ẑ^S dα = Σ_{i∈S} (x_i − x′_i) ḡ_i / ‖z^S‖,
// ḡ = Σ_k w_k ∇f(γ(t_k)) the quadrature of path.h, so IDG(S) = Σ_{i∈S} IG_i / ‖z^S‖ and one
// integrated-gradients pass serves every set (IDG(S) = 0 when ‖z^S‖ = 0: no direction).
// Over a family M of meaningful sets, the dividend d(S) = |IDG(S)| / Σ_{T∈M} |IDG(T)| and the
// importance v(S) = Σ_{T∈M, T⊆S} d(T), so v(all features) = 1.
// M (the paper takes the nodes of a parse tree) is built from --groups, an integer .npy giving one
// group id per feature, either one level (broadcast, numpy rules, to an example's shape) or
// [L, ...]: L levels from fine to coarse that must nest (each group inside one group of the next
// level), a tree like the paper's. M = every group of every level, every single feature (as the
// authors' code counts each embedding dimension; --features false leaves them out) and the set of
// all features; a set that appears twice (a group equal to its only child, a one-feature group,
// a single top group) counts once.
#include <cmath>
#include <map>

#include "attribution/method.h"
#include "attribution/path.h"
#include "engine/broadcast.h"
#include "engine/error.h"
#include "io/npy.h"

namespace gradlens {

namespace {

// group[level][feature] = dense index of the feature's group at that level; ids[level][dense] = the
// file's id; parent[level][dense] = dense index of the group containing it at level + 1.
struct GroupTree {
  std::vector<std::vector<int64_t>> group, ids, parent;
  std::vector<std::vector<int64_t>> size;  // features per group
  int64_t levels() const { return int64_t(group.size()); }
};

GroupTree read_groups(const std::string& file, const Tensor& x) {
  std::string dtype;
  const Tensor mask = read_npy(file, dtype);
  GL_CHECK(dtype == "i8" || dtype == "i4", file, ": --groups must hold integers (int32 or int64), got dtype ", dtype);
  std::vector<int64_t> example_dims;
  for (int i = 1; i < x.rank(); ++i) example_dims.push_back(x.dim(i));
  const Shape example(example_dims);
  const int64_t per = example.numel();
  // One level when the file's shape broadcasts to an example's; else [L, ...] levels, each of an
  // example's shape or broadcastable to it ([L, H, W] masks for [C, H, W] examples).
  auto broadcasts_to_example = [&](const Shape& s) {
    if (s.rank() > example.rank()) return false;
    try {
      return broadcast_shapes(example, s) == example;
    } catch (const Error&) {
      return false;
    }
  };
  std::vector<int64_t> inner_dims;
  for (int i = 1; i < mask.rank(); ++i) inner_dims.push_back(mask.dim(i));
  const bool stacked = !broadcasts_to_example(mask.shape()) && mask.rank() >= 2 &&
                       broadcasts_to_example(Shape(inner_dims));
  GL_CHECK(stacked || broadcasts_to_example(mask.shape()), file, ": --groups of shape ", mask.shape().str(),
           " is neither an example's shape ", example.str(), " (or broadcastable to it) nor [L, ...] levels of it");
  const int64_t L = stacked ? mask.dim(0) : 1;
  GL_CHECK(L >= 1, file, ": --groups has no levels");
  const Shape level_shape = stacked ? Shape(inner_dims) : mask.shape();
  GroupTree t;
  const BroadcastPlan plan(example, level_shape, example);
  const int64_t level_numel = level_shape.numel();
  for (int64_t l = 0; l < L; ++l) {
    std::vector<int64_t> raw(static_cast<size_t>(per));
    plan.for_each_sequential([&](int64_t out, int64_t, int64_t ib, int64_t length, int64_t, int64_t sb) {
      for (int64_t i = 0; i < length; ++i) {
        const float v = mask[l * level_numel + ib + i * sb];
        GL_CHECK(v >= 0, file, ": negative group id ", int64_t(v), " at level ", l, " (ids must be >= 0)");
        GL_CHECK(v < 16777216.f, file, ": group id ", int64_t(v), " at level ", l, " is too large (ids below 2^24)");
        raw[size_t(out + i)] = int64_t(v);
      }
    });
    std::map<int64_t, int64_t> dense;
    for (int64_t id : raw) dense.emplace(id, 0);
    std::vector<int64_t> ids;
    for (auto& [id, index] : dense) {
      index = int64_t(ids.size());
      ids.push_back(id);
    }
    std::vector<int64_t> group(static_cast<size_t>(per)), size(ids.size(), 0);
    for (int64_t i = 0; i < per; ++i) ++size[size_t(group[size_t(i)] = dense[raw[size_t(i)]])];
    t.group.push_back(group);
    t.ids.push_back(ids);
    t.size.push_back(size);
  }
  for (int64_t l = 0; l + 1 < L; ++l) {
    std::vector<int64_t> parent(t.ids[size_t(l)].size(), -1);
    for (int64_t i = 0; i < per; ++i) {
      int64_t& p = parent[size_t(t.group[size_t(l)][size_t(i)])];
      const int64_t up = t.group[size_t(l + 1)][size_t(i)];
      GL_CHECK(p < 0 || p == up, file, ": group ", t.ids[size_t(l)][size_t(t.group[size_t(l)][size_t(i)])], " of level ",
               l, " is split between groups ", t.ids[size_t(l + 1)][size_t(p)], " and ", t.ids[size_t(l + 1)][size_t(up)],
               " of level ", l + 1, " (levels must nest, fine to coarse)");
      p = up;
    }
    t.parent.push_back(parent);
  }
  return t;
}

// One example's IDG values, dividends and importances over the group tree (see the file comment),
// from x, x′ and ḡ = Σ_k w_k ∇f(γ(t_k)).
struct Dividends {
  std::vector<std::vector<double>> idg, importance;  // [level][group]
  std::vector<double> feature_idg;                  // per feature (single-feature sets)
  double root_idg = 0, inv = 0, ig_total = 0;       // IDG(all), 1 / Σ_M |IDG|, Σ IG
};

Dividends dividends(const GroupTree& tree, bool features, const float* xn, const float* bn, const double* gbar,
                    int64_t per) {
  const int64_t L = tree.levels();
  // IG_i and z_i² per feature; sums per group.
  std::vector<double> ig(static_cast<size_t>(per)), z2(static_cast<size_t>(per)), feature_idg(static_cast<size_t>(per));
  double ig_total = 0, z2_total = 0;
  for (int64_t i = 0; i < per; ++i) {
    const double z = double(xn[i]) - double(bn[i]);
    ig[size_t(i)] = z * gbar[i];
    z2[size_t(i)] = z * z;
    feature_idg[size_t(i)] = z == 0 ? 0.0 : ig[size_t(i)] / std::fabs(z);
    ig_total += ig[size_t(i)];
    z2_total += z * z;
  }
  std::vector<std::vector<double>> idg(static_cast<size_t>(L));
  for (int64_t l = 0; l < L; ++l) {
    const size_t G = tree.ids[size_t(l)].size();
    std::vector<double> sum_ig(G, 0.0), sum_z2(G, 0.0);
    for (int64_t i = 0; i < per; ++i) {
      sum_ig[size_t(tree.group[size_t(l)][size_t(i)])] += ig[size_t(i)];
      sum_z2[size_t(tree.group[size_t(l)][size_t(i)])] += z2[size_t(i)];
    }
    idg[size_t(l)].resize(G);
    for (size_t g = 0; g < G; ++g) idg[size_t(l)][g] = sum_z2[g] > 0 ? sum_ig[g] / std::sqrt(sum_z2[g]) : 0.0;
  }
  const double root_idg = z2_total > 0 ? ig_total / std::sqrt(z2_total) : 0.0;

  // Which sets are counted: a group equal to a set already in M is not counted again.
  std::vector<std::vector<bool>> counted(static_cast<size_t>(L));
  for (int64_t l = 0; l < L; ++l) {
    const size_t G = tree.ids[size_t(l)].size();
    counted[size_t(l)].assign(G, true);
    if (l == 0) {
      for (size_t g = 0; g < G; ++g)
        if (features && tree.size[0][g] == 1) counted[0][g] = false;
      continue;
    }
    std::vector<int64_t> children(G, 0), child(G, -1);
    for (size_t c = 0; c < tree.ids[size_t(l - 1)].size(); ++c) {
      const int64_t p = tree.parent[size_t(l - 1)][c];
      ++children[size_t(p)];
      child[size_t(p)] = int64_t(c);
    }
    for (size_t g = 0; g < G; ++g)
      if (children[g] == 1 && tree.size[size_t(l - 1)][size_t(child[g])] == tree.size[size_t(l)][g])
        counted[size_t(l)][g] = false;
  }
  const bool root_is_group = tree.ids[size_t(L - 1)].size() == 1 || (features && per == 1);
  double total = root_is_group ? 0.0 : std::fabs(root_idg);
  if (features)
    for (int64_t i = 0; i < per; ++i) total += std::fabs(feature_idg[size_t(i)]);
  for (int64_t l = 0; l < L; ++l)
    for (size_t g = 0; g < idg[size_t(l)].size(); ++g)
      if (counted[size_t(l)][g]) total += std::fabs(idg[size_t(l)][g]);
  const double inv = total > 0 ? 1.0 / total : 0.0;

  // v(group at level l) = its own dividend (if counted) + its features' (level 0) or its
  // children's importances.
  std::vector<std::vector<double>> importance(static_cast<size_t>(L));
  for (int64_t l = 0; l < L; ++l) {
    const size_t G = idg[size_t(l)].size();
    importance[size_t(l)].assign(G, 0.0);
    for (size_t g = 0; g < G; ++g)
      if (counted[size_t(l)][g]) importance[size_t(l)][g] = std::fabs(idg[size_t(l)][g]) * inv;
    if (l == 0) {
      if (features)
        for (int64_t i = 0; i < per; ++i)
          importance[0][size_t(tree.group[0][size_t(i)])] += std::fabs(feature_idg[size_t(i)]) * inv;
    } else {
      for (size_t c = 0; c < idg[size_t(l - 1)].size(); ++c)
        importance[size_t(l)][size_t(tree.parent[size_t(l - 1)][c])] += importance[size_t(l - 1)][c];
    }
  }
  Dividends d;
  d.idg = std::move(idg);
  d.importance = std::move(importance);
  d.feature_idg = std::move(feature_idg);
  d.root_idg = root_idg;
  d.inv = inv;
  d.ig_total = ig_total;
  return d;
}

class IntegratedDirectionalGradients : public Method {
 public:
  IntegratedDirectionalGradients() {
    info_.name = "idg";
    info_.family = "path";
    info_.paper = "Sikdar et al. 2021";
    info_.cost = "steps × (1F + 1B) + 2F";  // the 2F: f(x) and f(x′) for the completeness gap
    info_.summary = "importance of feature groups: dividends |∫∇f·ẑ_S| normalised over the groups, summed over subgroups";
    info_.parameters = {{"groups", "", "FILE.npy of integer group ids, an example's shape or [L, ...] nested levels fine to coarse (required)"},
                        {"features", "true", "count every single feature as a meaningful set (the authors' code)"}};
    for (const Parameter& p : quadrature_parameters("gauss-legendre", "50")) info_.parameters.push_back(p);
    for (const Parameter& p : baseline_parameters()) info_.parameters.push_back(p);
  }
  const MethodInfo& info() const override { return info_; }

  Explanation explain_rows(const Request& r) const override {
    r.options.check_known(info_);
    const Tensor& x = r.input;
    check_path_request(r, info_.name);
    const std::string groups_file = r.options.text(info_, "groups");
    GL_CHECK(!groups_file.empty(), info_.name, ": --groups FILE.npy (integer group ids) is required");
    const bool features = r.options.boolean(info_, "features");
    const Quadrature q = parse_quadrature(info_, r.options);
    const Tensor baseline = parse_baseline(info_, r);
    ChunkBudget budget(r.batch);
    const GroupTree tree = read_groups(groups_file, x);
    const int64_t L = tree.levels();
    const int64_t N = x.dim(0), per = x.numel() / N;
    ChunkStats stats;
    const std::vector<double> mean_gradient = straight_path_integral(r, baseline, q, budget, stats);

    Explanation e;
    e.attribution = Tensor(x.shape());
    std::vector<Tensor> importance_maps, idg_maps;  // each its own storage
    for (int64_t l = 0; l < L; ++l) {
      importance_maps.emplace_back(x.shape());
      idg_maps.emplace_back(x.shape());
    }
    Tensor feature_dividends(x.shape());
    std::vector<double> idg_root(static_cast<size_t>(N)), dividend_root(static_cast<size_t>(N)), ig_sum(static_cast<size_t>(N));
    auto key = [&](const char* what, int64_t l, int64_t g) {
      return str(what, "_L", l, "_g", tree.ids[size_t(l)][size_t(g)]);
    };
    for (int64_t l = 0; l < L; ++l)
      for (int64_t g = 0; g < int64_t(tree.ids[size_t(l)].size()); ++g)
        for (const char* what : {"idg", "dividend", "importance"}) e.per_example[key(what, l, g)].assign(size_t(N), 0.0);

    for (int64_t n = 0; n < N; ++n) {
      const Dividends d = dividends(tree, features, x.data() + n * per, baseline.data() + n * per,
                                    mean_gradient.data() + n * per, per);
      const auto& idg = d.idg;
      const auto& importance = d.importance;
      const double inv = d.inv;
      for (int64_t l = 0; l < L; ++l)
        for (size_t g = 0; g < idg[size_t(l)].size(); ++g) {
          e.per_example[key("idg", l, int64_t(g))][size_t(n)] = idg[size_t(l)][g];
          e.per_example[key("dividend", l, int64_t(g))][size_t(n)] = std::fabs(idg[size_t(l)][g]) * inv;
          e.per_example[key("importance", l, int64_t(g))][size_t(n)] = importance[size_t(l)][g];
        }
      for (int64_t i = 0; i < per; ++i) {
        for (int64_t l = 0; l < L; ++l) {
          const size_t g = size_t(tree.group[size_t(l)][size_t(i)]);
          importance_maps[size_t(l)][n * per + i] = float(importance[size_t(l)][g]);
          idg_maps[size_t(l)][n * per + i] = float(idg[size_t(l)][g]);
        }
        e.attribution[n * per + i] = importance_maps[0][n * per + i];
        feature_dividends[n * per + i] = features ? float(std::fabs(d.feature_idg[size_t(i)]) * inv) : 0.f;
      }
      idg_root[size_t(n)] = d.root_idg;
      dividend_root[size_t(n)] = std::fabs(d.root_idg) * inv;
      ig_sum[size_t(n)] = d.ig_total;
    }

    for (int64_t l = 0; l < L; ++l) {
      e.extras[str("importance_level", l)] = importance_maps[size_t(l)];
      e.extras[str("idg_level", l)] = idg_maps[size_t(l)];
    }
    if (features) e.extras["feature_dividend"] = feature_dividends;
    const std::vector<double> input_scores = example_scores(r, x), baseline_scores = example_scores(r, baseline);
    std::vector<double> gap(static_cast<size_t>(N));
    for (int64_t n = 0; n < N; ++n) gap[size_t(n)] = ig_sum[size_t(n)] - (input_scores[size_t(n)] - baseline_scores[size_t(n)]);
    e.scores = input_scores;
    e.per_example["input_score"] = input_scores;
    e.per_example["baseline_score"] = baseline_scores;
    e.per_example["idg_root"] = idg_root;
    e.per_example["dividend_root"] = dividend_root;
    e.per_example["ig_sum"] = ig_sum;
    e.per_example["completeness_gap"] = gap;
    e.notes["levels"] = std::to_string(L);
    e.notes["rule"] = r.options.text(info_, "rule");
    e.notes["baseline"] = r.options.text(info_, "baseline");
    report_chunks(e, stats);
    e.forward_passes = stats.rows + 2 * N;
    e.backward_passes = stats.rows;
    return e;
  }

 private:
  MethodInfo info_;
};

GRADLENS_REGISTER_METHOD(idg, IntegratedDirectionalGradients)

}  // namespace
}  // namespace gradlens
