// Linear pieces of a piecewise-linear network along the straight path (see linear_pieces.h).
#include "attribution/linear_pieces.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <cstring>
#include <map>
#include <set>

#include "attribution/path.h"
#include "engine/error.h"
#include "engine/tangent.h"

namespace gradlens {

namespace {

// Probes per forward + tangent sweep. A constant, not --batch: the rows of a sweep can round a
// row's forward differently with their number, so the pieces would otherwise depend on --batch.
constexpr int64_t kProbeRows = 16;

// Ops that are linear in every input that varies along the path.
const std::set<std::string_view> kLinear = {
    "Add", "Sub", "Neg", "Sum", "Mean", "Identity", "Dropout", "Flatten", "Reshape", "Squeeze", "Unsqueeze",
    "Transpose", "Concat", "Slice", "Split", "Gather", "Pad", "Tile", "Expand", "Cast", "GlobalAveragePool",
    "AveragePool", "ReduceMean", "ReduceSum"};
// Linear in each input, so linear as long as only one of the inputs varies along the path.
const std::set<std::string_view> kLinearInOne = {"Mul", "MatMul", "Gemm", "Conv", "ConvTranspose", "Einsum"};
// Linear in input 0 alone (the others are divisors, statistics or slopes: constant).
const std::set<std::string_view> kLinearInFirst = {"Div", "BatchNormalization"};
// A kink where input 0 crosses 0.
const std::set<std::string_view> kKinkAtZero = {"Relu", "LeakyRelu", "PRelu", "Abs"};
// Piecewise linear, but their breakpoints are not located here.
const std::set<std::string_view> kUntracked = {"Clip", "HardSigmoid", "Max", "Min", "GlobalMaxPool",
                                               "ReduceMax", "ReduceMin", "ReduceL1"};
// Non-differentiable ops whose output does not depend on the input's values.
const std::set<std::string_view> kValueFree = {"Shape", "Size"};

// Watches a tangent sweep: refuses what is not piecewise linear and narrows [below, above], the
// offsets s around the probe over which every kink stays on its branch.
class PieceObserver : public TangentObserver {
 public:
  PieceObserver(const Function& f, std::string who) : who_(std::move(who)) {
    if (const Model* model = f.model())
      for (const auto& layer : model->layers())
        for (const std::string& output : layer->node().outputs) layers_[output] = layer.get();
  }
  void start(int64_t rows) {
    below.assign(size_t(rows), -std::numeric_limits<double>::infinity());
    above.assign(size_t(rows), std::numeric_limits<double>::infinity());
    signature.assign(size_t(rows), 14695981039346656037ull);  // FNV-1a offset basis
  }

  void reached(const TangentContext& ctx) override {
    const std::string_view op = ctx.info().op;
    if (!ctx.differentiable()) {
      if (!kValueFree.count(op))
        refuse(ctx, "is not differentiable along the path (its output jumps, so f is not continuous piecewise linear)");
      return;
    }
    int varying = 0;
    for (int k = 0; k < ctx.num_inputs(); ++k) varying += ctx.has_tangent(k) ? 1 : 0;
    if (kLinear.count(op)) return;
    if (kLinearInOne.count(op)) {
      if (varying > 1) refuse(ctx, "multiplies two quantities that vary along the path (a product is not piecewise linear)");
      return;
    }
    if (kLinearInFirst.count(op) || kKinkAtZero.count(op) || op == "MaxPool") {
      for (int k = 1; k < ctx.num_inputs(); ++k)
        if (ctx.has_tangent(k)) refuse(ctx, "has input ", k, " varying along the path (only input 0 may)");
      if (op == "MaxPool" && !layer_of(ctx)) refuse(ctx, "is not a layer of the model");
      return;
    }
    if (kUntracked.count(op)) refuse(ctx, "is piecewise linear, but --rule exact does not locate its breakpoints");
    refuse(ctx, "is not piecewise linear (its derivative varies continuously along the path, so no finite set of "
           "linear segments integrates it exactly)");
  }

  // Row r of the sweep is probe r: its kinks narrow below[r], above[r].
  void computed(const TangentContext& ctx) override {
    const std::string_view op = ctx.info().op;
    if (op != "MaxPool" && !kKinkAtZero.count(op)) return;
    const Tensor& z = ctx.input(0);
    const Tensor& dz = ctx.input_tangent(0);
    const int64_t rows = int64_t(below.size()), per = z.numel() / rows, out_per = ctx.output_tangent().numel() / rows;
    GL_CHECK(z.rank() >= 1 && z.dim(0) == rows, who_, ": node '", ctx.info().name, "' (", ctx.info().op,
             ") has no leading axis of the ", rows, " probes");
    for (int64_t r = 0; r < rows; ++r) {
      sign(ctx.output_tangent().data() + r * out_per, out_per, signature[size_t(r)]);
      double& lo = below[size_t(r)];
      double& hi = above[size_t(r)];
      if (op == "MaxPool") {
        std::vector<int64_t> dims = z.shape().vec();
        dims[0] = 1;
        layer_of(ctx)->narrow_linear_piece(Tensor::view(Shape(dims), const_cast<float*>(z.data()) + r * per),
                                           Tensor::view(Shape(dims), const_cast<float*>(dz.data()) + r * per), lo, hi);
        continue;
      }
      // Branch of element i holds while z_i + s ż_i keeps its sign: up to s = −z_i / ż_i.
      for (int64_t i = r * per; i < (r + 1) * per; ++i) {
        if (dz[i] == 0.f) continue;
        const double s = -double(z[i]) / double(dz[i]);
        if (s > 0) hi = std::min(hi, s);
        else if (s < 0) lo = std::max(lo, s);
        else hi = lo = 0;  // on the kink: the branch taken there may hold on neither side
      }
    }
  }

  std::vector<double> below, above;
  // The branch pattern's signature: a hash of every kink's and max-pool's output tangent. On a
  // piecewise-linear network the tangents are a function of the pattern alone (one row, the same
  // arithmetic), and two adjacent pieces whose patterns differ differ in some kink's output tangent
  // (a ReLU switching with ż ≠ 0 changes [z > 0]·ż; a window's arg-max can only pass to a tap with
  // another ż), so equal signatures on adjacent pieces mean one piece cut by a rounding sliver.
  std::vector<uint64_t> signature;

 private:
  static void sign(const float* tangent, int64_t n, uint64_t& signature) {
    for (int64_t i = 0; i < n; ++i) {
      const float v = tangent[i] == 0.f ? 0.f : tangent[i];  // −0 and 0 alike
      uint32_t bits;
      std::memcpy(&bits, &v, sizeof bits);
      for (int b = 0; b < 4; ++b) signature = (signature ^ ((bits >> (8 * b)) & 0xffu)) * 1099511628211ull;
    }
  }

  template <class... Parts>
  [[noreturn]] void refuse(const TangentContext& ctx, const Parts&... parts) const {
    fail(who_, ": node '", ctx.info().name, "' (", ctx.info().op, ") ", parts...);
  }
  const Layer* layer_of(const TangentContext& ctx) const {
    const auto it = layers_.find(std::string(ctx.info().name));
    return it == layers_.end() ? nullptr : it->second;
  }

  std::string who_;
  std::map<std::string, const Layer*> layers_;
};

}  // namespace

LinearPieces straight_path_pieces(const Function& f, const Tensor& x, const Tensor& baseline, int64_t max_segments,
                                  const std::string& who, const std::string& limit_flag) {
  GL_CHECK(x.rank() >= 2 && x.dim(0) == 1 && baseline.shape() == x.shape(), who,
           ": exact pieces need one example and a baseline of its shape, got ", x.shape().str(), " and ",
           baseline.shape().str());
  if (const auto* m = dynamic_cast<const ModelFunction*>(&f); m && m->kind() != ScoreKind::logit)
    fail(who, ": the score is ", m->kind() == ScoreKind::prob ? "a probability" : "a log-probability",
         " (softmax of the logits), which is not piecewise linear in the input; explain the logits (--score logit) "
         "or use a quadrature --rule");
  const int64_t per = x.numel();
  std::vector<float> step(static_cast<size_t>(per));
  for (int64_t i = 0; i < per; ++i) step[size_t(i)] = float(double(x[i]) - double(baseline[i]));

  PieceObserver observer(f, who);
  Tape tape;
  struct Found {
    double lo, hi;
    uint64_t signature;
  };
  std::vector<Found> found;
  std::vector<std::pair<double, double>> gaps = {{0.0, 1.0}};
  LinearPieces pieces;
  // Each probe covers a piece or halves a gap, so max_segments pieces need at most about that many
  // probes plus the halvings; the bound only guards against a runaway.
  const int64_t max_probes = 4 * max_segments + 256;
  auto too_many = [&] {
    fail(who, ": more than ", max_segments, " linear segments along the path; raise ", limit_flag,
         " (or use a quadrature --rule)");
  };
  while (!gaps.empty()) {
    // Up to kProbeRows gaps, last pushed first, probed as the rows of one sweep.
    std::vector<std::pair<double, double>> batch;
    while (!gaps.empty() && int64_t(batch.size()) < kProbeRows) {
      if (gaps.back().second - gaps.back().first > kGapTolerance) batch.push_back(gaps.back());
      gaps.pop_back();
    }
    if (batch.empty()) break;
    if (pieces.probes >= max_probes || int64_t(found.size()) >= max_segments) too_many();
    const int64_t B = int64_t(batch.size());
    std::vector<int64_t> dims = x.shape().vec();
    dims[0] = B;
    Tensor rows{Shape(dims)}, direction{Shape(dims)};
    for (int64_t r = 0; r < B; ++r) {
      straight_line(x, baseline, 0, 0.5 * (batch[size_t(r)].first + batch[size_t(r)].second), rows.data() + r * per);
      std::copy(step.begin(), step.end(), direction.data() + r * per);
    }
    tape.reset();
    const Var input = tape.input(rows, true, "input");
    const Var scores = f.scores(tape, input);
    observer.start(B);
    TangentSweep sweep(tape, input, direction, scores, false, &observer);
    pieces.probes += B;
    for (int64_t r = 0; r < B; ++r) {
      const auto [a, b] = batch[size_t(r)];
      const double p = 0.5 * (a + b);
      const double lo = std::max(a, p + observer.below[size_t(r)]), hi = std::min(b, p + observer.above[size_t(r)]);
      if (hi - lo <= 0) {  // the probe sits on a kink: split the gap there
        gaps.push_back({p, b});
        gaps.push_back({a, p});
        continue;
      }
      found.push_back({lo, hi, observer.signature[size_t(r)]});
      gaps.push_back({hi, b});
      gaps.push_back({a, lo});
    }
  }
  if (int64_t(found.size()) > max_segments) too_many();
  std::sort(found.begin(), found.end(), [](const Found& u, const Found& v) { return u.lo < v.lo; });
  // Runs of adjacent pieces on the same branch pattern are one piece (rounding slivers between
  // crossings predicted from both sides of a kink); its gradient is taken inside the widest part.
  pieces.boundaries.push_back(0.0);
  for (size_t k = 0; k < found.size();) {
    size_t end = k + 1, widest = k;
    for (; end < found.size() && found[end].signature == found[k].signature; ++end)
      if (found[end].hi - found[end].lo > found[widest].hi - found[widest].lo) widest = end;
    pieces.midpoints.push_back(0.5 * (found[widest].lo + found[widest].hi));
    pieces.boundaries.push_back(end < found.size() ? 0.5 * (found[end - 1].hi + found[end].lo) : 1.0);
    k = end;
  }
  return pieces;
}

}  // namespace gradlens
