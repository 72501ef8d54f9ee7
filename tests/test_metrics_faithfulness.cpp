// Faithfulness metrics against closed forms on f(x) = w·x (contributions c_i = w_i x_i):
// with a zero removal image, deletion's curve is Σc minus the partial sums of the contributions
// sorted by attribution, insertion's is the partial sums, ABPC the difference of their AUCs,
// AOPC the mean of the removed patches' sums; average drop, increase in confidence and average
// drop in deletion from f(a ⊙ x) and f((1 − a) ⊙ x) worked out by hand. Also: the seeded
// uniform removal, bad removal values, and bitwise determinism across thread counts.
#include <doctest/doctest.h>
#include <omp.h>

#include <algorithm>
#include <filesystem>
#include <numeric>

#include "attribution/function.h"
#include "attribution/metrics/perturbation.h"
#include "engine/error.h"
#include "engine/ops.h"
#include "io/npy.h"
#include "io/onnx.h"
#include "metric_testing.h"
#include "support.h"

using namespace gradlens;
using namespace gradlens::test;

namespace {
constexpr int64_t kD = 8;
const Tensor kW(Shape{kD, 1}, {0.5f, -1.f, 2.f, 0.25f, 1.5f, -0.5f, 1.f, 3.f});
// f(x) = w·x on [N, 1, 1, D] images (one row of D pixels).
const LambdaFunction kLinear([](Tape& t, Var x) {
  return matmul(reshape(x, Shape{x.value().dim(0), kD}), t.constant(kW));
});

const Tensor kX(Shape{1, 1, 1, kD}, {1.f, 2.f, 0.5f, -2.f, 1.f, 3.f, 0.25f, 1.f});

MetricInput linear_input(const Tensor& attribution) {
  MetricInput in;
  in.function = &kLinear;
  in.input = kX;
  in.attribution = attribution;
  in.targets = {0};
  in.batch = 3;
  return in;
}

std::vector<double> contributions() {
  std::vector<double> c;
  for (int64_t i = 0; i < kD; ++i) c.push_back(double(kW[i]) * double(kX[i]));
  return c;
}

// Contributions in order of the attribution a, most relevant first (stable by index).
std::vector<double> sorted_by(const Tensor& a, bool lerf = false) {
  std::vector<int64_t> idx(kD);
  std::iota(idx.begin(), idx.end(), 0);
  std::stable_sort(idx.begin(), idx.end(), [&](int64_t i, int64_t j) { return lerf ? a[i] < a[j] : a[i] > a[j]; });
  std::vector<double> c = contributions(), out;
  for (int64_t i : idx) out.push_back(c[size_t(i)]);
  return out;
}

double trapezoid(const std::vector<double>& y) {
  double s = 0;
  for (size_t k = 1; k < y.size(); ++k) s += (y[k - 1] + y[k]) / 2;
  return s / double(y.size() - 1);
}
}  // namespace

TEST_CASE("deletion and insertion on f = w·x with a zero removal image: partial sums of sorted contributions") {
  const Tensor a = random_tensor(Shape{1, 1, 1, kD}, 5);
  const std::vector<double> c = sorted_by(a);
  const double total = std::accumulate(c.begin(), c.end(), 0.0);
  for (int64_t steps : {int64_t(8), int64_t(4), int64_t(3)}) {
    std::vector<double> del, ins;
    for (int64_t k = 0; k <= steps; ++k) {
      const int64_t removed = k * kD / steps;
      const double partial = std::accumulate(c.begin(), c.begin() + removed, 0.0);
      del.push_back(total - partial);
      ins.push_back(partial);
    }
    const std::map<std::string, std::string> opts = {{"steps", std::to_string(steps)}, {"removal", "zero"}};
    const MetricResult d = run_metric("deletion", linear_input(a), opts);
    const MetricResult i = run_metric("insertion", linear_input(a), opts);
    REQUIRE(d.curves[0].size() == size_t(steps + 1));
    for (int64_t k = 0; k <= steps; ++k) {
      CHECK(d.curves[0][size_t(k)] == doctest::Approx(del[size_t(k)]).epsilon(1e-6));
      CHECK(i.curves[0][size_t(k)] == doctest::Approx(ins[size_t(k)]).epsilon(1e-6));
      CHECK(d.curve_x[size_t(k)] == doctest::Approx(double(k) / double(steps)));
    }
    CHECK(d.values[0] == doctest::Approx(trapezoid(del)).epsilon(1e-6));
    CHECK(i.values[0] == doctest::Approx(trapezoid(ins)).epsilon(1e-6));
    CHECK(d.forward_passes == steps + 1);
  }
}

TEST_CASE("abpc = AUC(LeRF deletion) − AUC(MoRF deletion)") {
  const Tensor a = random_tensor(Shape{1, 1, 1, kD}, 6);
  auto deletion_curve = [&](bool lerf) {
    const std::vector<double> c = sorted_by(a, lerf);
    const double total = std::accumulate(c.begin(), c.end(), 0.0);
    std::vector<double> y = {total};
    for (int64_t k = 1; k <= kD; ++k) y.push_back(y.back() - c[size_t(k - 1)]);
    return y;
  };
  const MetricResult r = run_metric("abpc", linear_input(a), {{"steps", "8"}});
  CHECK(r.values[0] == doctest::Approx(trapezoid(deletion_curve(true)) - trapezoid(deletion_curve(false))).epsilon(1e-6));
  CHECK(r.per_example.at("auc_morf")[0] == doctest::Approx(trapezoid(deletion_curve(false))).epsilon(1e-6));
}

TEST_CASE("aopc with 1×2 patches: the mean drop as patches of summed relevance go") {
  // Patches of 2 pixels on the 1×8 row: {0,1}, {2,3}, {4,5}, {6,7}, ranked by their summed a.
  const Tensor a(Shape{1, 1, 1, kD}, {0.1f, 0.2f, 5.f, 0.f, -1.f, 0.5f, 1.f, 1.f});  // sums .3, 5, −.5, 2
  const std::vector<double> c = contributions();
  auto patch = [&](int p) { return c[size_t(2 * p)] + c[size_t(2 * p + 1)]; };
  const double drops[] = {0.0, patch(1), patch(1) + patch(3), patch(1) + patch(3) + patch(0)};
  const MetricResult r = run_metric("aopc", linear_input(a), {{"patch", "2"}, {"regions", "3"}, {"removal", "zero"}});
  CHECK(r.values[0] == doctest::Approx((drops[0] + drops[1] + drops[2] + drops[3]) / 4).epsilon(1e-6));
  CHECK(r.curves[0].size() == 4);
  // More regions than patches: capped at 4.
  CHECK(run_metric("aopc", linear_input(a), {{"patch", "2"}, {"regions", "50"}, {"removal", "zero"}}).curves[0].size() == 5);
}

TEST_CASE("average-drop, increase-in-confidence, average-drop-in-deletion as the seed's equations") {
  // Positive weights and inputs, so f > 0; the map's positive part normalised: a' = max(m,0)/max m.
  const Tensor w_pos(Shape{kD, 1}, {0.5f, 1.f, 2.f, 0.25f, 1.5f, 0.5f, 1.f, 3.f});
  const LambdaFunction f([&](Tape& t, Var x) { return matmul(reshape(x, Shape{x.value().dim(0), kD}), t.constant(w_pos)); });
  const Tensor x(Shape{1, 1, 1, kD}, {1.f, 2.f, 0.5f, 2.f, 1.f, 3.f, 0.25f, 1.f});
  const Tensor a(Shape{1, 1, 1, kD}, {4.f, 2.f, -1.f, 0.f, 1.f, 0.f, 3.f, 4.f});
  double fx = 0, fr = 0, fd = 0;
  for (int64_t i = 0; i < kD; ++i) {
    const double wi = std::max(0.0, double(a[i])) / 4.0;
    fx += w_pos[i] * x[i];
    fr += w_pos[i] * wi * x[i];
    fd += w_pos[i] * (1 - wi) * x[i];
  }
  MetricInput in;
  in.function = &f;
  in.input = x;
  in.attribution = a;
  in.targets = {0};
  CHECK(run_metric("average-drop", in).values[0] == doctest::Approx(100 * std::max(0.0, fx - fr) / fx).epsilon(1e-6));
  CHECK(run_metric("increase-in-confidence", in).values[0] == (fx < fr ? 100.0 : 0.0));
  CHECK(run_metric("average-drop-in-deletion", in).values[0] == doctest::Approx(100 * (fx - fd) / fx).epsilon(1e-6));
  // A map that keeps everything (a' = 1): no drop; removing everything: a drop of 100.
  in.attribution = Tensor(Shape{1, 1, 1, kD}, 2.f);
  CHECK(run_metric("average-drop", in).values[0] == doctest::Approx(0.0).epsilon(1e-9));
  CHECK(run_metric("average-drop-in-deletion", in).values[0] == doctest::Approx(100.0).epsilon(1e-6));
}

TEST_CASE("removal images: mean per channel, seeded uniform noise, files, and errors naming the metric") {
  const Tensor a = random_tensor(Shape{1, 1, 1, kD}, 5);
  MetricInput in = linear_input(a);
  const Tensor mean = removal_image(in, 0, "mean", "deletion");
  double s = 0;
  for (int64_t i = 0; i < kD; ++i) s += kX[i];
  CHECK(mean[3] == doctest::Approx(s / kD));
  const Tensor u1 = removal_image(in, 0, "uniform", "aopc"), u2 = removal_image(in, 0, "uniform", "aopc");
  CHECK(bitwise_equal(u1, u2));
  in.seed = 9;
  CHECK(!bitwise_equal(u1, removal_image(in, 0, "uniform", "aopc")));
  for (int64_t i = 0; i < kD; ++i) CHECK((u1[i] >= -2.f && u1[i] <= 3.f));
  CHECK_THROWS_WITH_AS(run_metric("deletion", linear_input(a), {{"removal", "gray"}}),
                       doctest::Contains("deletion: --removal must be"), Error);
  MetricInput flat = linear_input(a.reshaped(Shape{1, kD}));
  flat.input = kX.reshaped(Shape{1, kD});
  CHECK_THROWS_WITH_AS(run_metric("deletion", flat, {{"removal", "blur"}}),
                       doctest::Contains("deletion: --removal blur needs image inputs"), Error);
  MetricInput no_model = linear_input(a);
  no_model.function = nullptr;
  CHECK_THROWS_WITH_AS(run_metric("insertion", no_model), doctest::Contains("insertion: needs the model"), Error);
}

TEST_CASE("faithfulness metrics are bitwise identical for any thread count (small_cnn)") {
  const auto dir = std::filesystem::path(GRADLENS_TEST_DATA) / "fixtures" / "small_cnn";
  const Model model(load_onnx((dir / "model.onnx").string()));
  const ModelFunction f(model, ScoreKind::prob);
  MetricInput in;
  in.function = &f;
  in.input = read_npy((dir / "input.npy").string());
  in.attribution = read_npy((dir / "ref_gradient.npy").string());
  in.targets = {6, 7};
  in.batch = 7;
  const int saved = omp_get_max_threads();
  std::vector<std::vector<double>> runs;
  for (int threads : {1, 2, 3}) {
    omp_set_num_threads(threads);
    std::vector<double> all;
    for (const char* name : {"deletion", "insertion", "aopc", "average-drop"}) {
      const bool curve = std::string(name) == "deletion" || std::string(name) == "insertion";
      const MetricResult r = curve ? run_metric(name, in, {{"steps", "16"}}) : run_metric(name, in);
      all.insert(all.end(), r.values.begin(), r.values.end());
    }
    runs.push_back(all);
  }
  omp_set_num_threads(saved);
  CHECK(runs[0] == runs[1]);
  CHECK(runs[0] == runs[2]);
}

TEST_CASE("road: linear imputation restores a constant image; the noise is seeded") {
  // f = w·x on a constant image: every imputed value is the constant again (noise 0), so both
  // curves stay at f(x) and ROAD is 0; with noise, the same seed gives the same value.
  const Tensor x(Shape{1, 1, 2, 4}, 0.75f);
  MetricInput in;
  in.function = &kLinear;
  in.input = x;
  in.attribution = random_tensor(Shape{1, 1, 2, 4}, 8);
  in.targets = {0};
  const MetricResult r = run_metric("road", in, {{"fractions", "3"}, {"noise", "0"}});
  double fx = 0;
  for (int64_t i = 0; i < kD; ++i) fx += kW[i] * 0.75;
  CHECK(std::fabs(r.values[0]) < 1e-6);
  for (double v : r.curves[0]) CHECK(v == doctest::Approx(fx).epsilon(1e-5));
  CHECK(r.curve_x == std::vector<double>{0.25, 0.5, 0.75});
  const MetricResult a = run_metric("road", in, {{"noise", "0.1"}}), b = run_metric("road", in, {{"noise", "0.1"}});
  CHECK(a.values == b.values);
  CHECK(a.per_example.at("morf")[0] != doctest::Approx(fx));
}
