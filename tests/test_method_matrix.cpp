// Every registered method on every fixture model (tests/data/fixtures/*): a finite attribution or
// a one-line gradlens::Error (a CAM on a model without a 4-D layer, a method that needs a
// --baselines file...), never a crash. Costs are cut (a few steps, samples and iterations; one
// example per chunk) so that the sanitizer build (tools/sanitize.sh) can run the whole matrix:
// that is where "never a crash" means no AddressSanitizer or UBSan report.
#include <chrono>
#include <cmath>
#include <filesystem>
#include <map>

#include "attribution/function.h"
#include "attribution/method.h"
#include "io/npy.h"
#include "io/onnx.h"
#include "layers/model.h"
#include "support.h"

using namespace gradlens;
namespace fs = std::filesystem;

namespace {

// Small values for the parameters that set a method's cost.
const std::map<std::string, std::string> kCheap = {
    {"steps", "3"},        {"samples", "3"},      {"attack-steps", "3"}, {"bisections", "3"},
    {"descent-steps", "2"}, {"max-iter", "3"},    {"classes", "2"},      {"points", "3"},
    {"features", "0,1"},   {"radii", "0.1"},
};

}  // namespace

TEST_CASE("method x fixture model: a finite result or a one-line refusal") {
  const fs::path root = fs::path(GRADLENS_TEST_DATA) / "fixtures";
  int results = 0, refusals = 0;
  std::vector<fs::path> dirs;
  for (const auto& d : fs::directory_iterator(root))
    if (fs::is_regular_file(d.path() / "model.onnx") && fs::is_regular_file(d.path() / "input.npy"))
      dirs.push_back(d.path());
  std::sort(dirs.begin(), dirs.end());
  REQUIRE(dirs.size() >= 5);
  for (const fs::path& dir : dirs) {
    Model model(load_onnx((dir / "model.onnx").string()));
    if (model.graph().inputs.size() != 1) continue;
    ModelFunction f(model);
    Tensor x = read_npy((dir / "input.npy").string());
    for (const Method* m : methods()) {
      const MethodInfo& info = m->info();
      CAPTURE(dir.filename().string());
      CAPTURE(info.name);
      Request r;
      r.function = &f;
      r.input = x;
      r.targets.assign(size_t(x.dim(0)), 0);
      r.batch = 1;
      for (const Parameter& p : info.parameters) {
        auto cheap = kCheap.find(p.name);
        if (cheap != kCheap.end()) r.options.set(p.name, cheap->second);
      }
      const auto t0 = std::chrono::steady_clock::now();
      try {
        const Explanation e = m->explain(r);
        bool finite = e.attribution.numel() > 0;
        for (int64_t i = 0; finite && i < e.attribution.numel(); ++i) finite = std::isfinite(e.attribution[i]);
        CHECK(finite);
        ++results;
      } catch (const Error& err) {
        const std::string msg = err.what();
        CAPTURE(msg);
        CHECK(!msg.empty());
        CHECK(msg.find('\n') == std::string::npos);
        ++refusals;
      }
      const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
      if (s > 1.0) MESSAGE(dir.filename().string() << " " << info.name << ": " << s << " s");
    }
  }
  MESSAGE(results << " results, " << refusals << " refusals");
  CHECK(results > refusals);
}
