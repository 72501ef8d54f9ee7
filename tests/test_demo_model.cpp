// The shipped demo model (tools/demo/, made by tools/train_demo.py): a Fashion-MNIST CNN
// (Conv-BN-ReLU ×3, max-pools, global average pool, Linear) exported by torch.onnx.export.
// Each of the ten PNGs tools/demo/images/<k>_<label>.png is read with stb_image, normalised as the
// preset `fashion-mnist` does, x = (pixel/255 − 0.2860)/0.3530, and must
//   - equal the batch train_demo.py normalised with numpy (tools/demo/images.npy),
//   - give torch's logits (tools/demo/torch_logits.npy) and be classified as class k;
// and the attribution methods must run on the model and produce finite, non-zero maps, with
// FullGrad's decomposition f(x) = Σ x ⊙ ∇f + Σ bias maps exact on this piecewise-linear network.
#include <algorithm>
#include <cmath>
#include <filesystem>
#include <string>
#include <vector>

// stb_image's implementation is compiled here with static linkage (no clash with any other
// translation unit that also builds it), PNG only; its own code is not held to our warnings.
#define STB_IMAGE_IMPLEMENTATION
#define STB_IMAGE_STATIC
#define STBI_ONLY_PNG
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wunused-function"
#pragma GCC diagnostic ignored "-Wsign-compare"
#pragma GCC diagnostic ignored "-Wmissing-field-initializers"
#include <stb_image.h>
#pragma GCC diagnostic pop

#include "attribution/method.h"
#include "engine/error.h"
#include "io/npy.h"
#include "io/onnx.h"
#include "layers/model.h"
#include "support.h"

using namespace gradlens;
namespace fs = std::filesystem;

namespace {

const fs::path kDemoDir = fs::path(GRADLENS_SOURCE_DIR) / "tools" / "demo";
constexpr float kMean = 0.2860f, kStd = 0.3530f;  // preset fashion-mnist
constexpr int64_t kClasses = 10, kSide = 28;

struct DemoBatch {
  Tensor images;                // [10, 1, 28, 28], normalised, in class order
  std::vector<int64_t> labels;  // from the file names
};

// Reads images/<k>_<label>.png for k = 0..9 (one file per class; the prefix is the label).
DemoBatch read_demo_images() {
  std::vector<std::pair<int64_t, fs::path>> files;
  for (const auto& entry : fs::directory_iterator(kDemoDir / "images")) {
    const std::string name = entry.path().filename().string();
    if (entry.path().extension() != ".png") continue;
    const size_t underscore = name.find('_');
    REQUIRE_MESSAGE(underscore != std::string::npos, name, ": expected <k>_<label>.png");
    files.emplace_back(std::stoll(name.substr(0, underscore)), entry.path());
  }
  std::sort(files.begin(), files.end());
  REQUIRE(files.size() == size_t(kClasses));
  DemoBatch batch{Tensor(Shape{kClasses, 1, kSide, kSide}), {}};
  for (size_t i = 0; i < files.size(); ++i) {
    const auto& [label, path] = files[i];
    INFO(path.string());
    CHECK(label == int64_t(i));  // one image per class, 0..9
    int w = 0, h = 0, channels = 0;
    unsigned char* pixels = stbi_load(path.string().c_str(), &w, &h, &channels, 1);
    REQUIRE_MESSAGE(pixels != nullptr, stbi_failure_reason());
    const bool square = w == kSide && h == kSide;
    if (square)
      for (int64_t p = 0; p < kSide * kSide; ++p)
        batch.images[int64_t(i) * kSide * kSide + p] = (float(pixels[p]) / 255.f - kMean) / kStd;
    stbi_image_free(pixels);
    REQUIRE(square);
    CHECK(channels == 1);  // shipped as 8-bit grayscale
    batch.labels.push_back(label);
  }
  return batch;
}

bool all_finite(const Tensor& t) {
  for (int64_t i = 0; i < t.numel(); ++i)
    if (!std::isfinite(t[i])) return false;
  return true;
}

// max |t[i]| over the flat range [begin, end).
double max_abs(const Tensor& t, int64_t begin, int64_t end) {
  double m = 0;
  for (int64_t i = begin; i < end; ++i) m = std::max(m, std::fabs(double(t[i])));
  return m;
}

struct Demo {
  Model model{load_onnx((kDemoDir / "fashion_cnn.onnx").string())};
  ModelFunction f{model};
  DemoBatch batch = read_demo_images();

  Request request() const {
    Request r;
    r.function = &f;
    r.input = batch.images;
    r.targets = batch.labels;
    r.batch = 4;  // several chunks
    return r;
  }
};

}  // namespace

TEST_CASE("demo model: PNGs normalise to images.npy, logits match torch, each image is its class") {
  Demo d;
  // numpy did the same float32 operations: the batches agree to rounding.
  test::check_equal(d.batch.images, read_npy((kDemoDir / "images.npy").string()), 1e-6);

  Tape tape;
  const Tensor logits = d.model.forward(tape, d.batch.images, false).value();
  const Tensor torch_logits = read_npy((kDemoDir / "torch_logits.npy").string());
  REQUIRE(logits.shape() == Shape{kClasses, kClasses});
  test::check_equal(logits, torch_logits, 1e-4);
  for (int64_t n = 0; n < kClasses; ++n) {
    int64_t best = 0;
    for (int64_t c = 1; c < kClasses; ++c)
      if (logits[n * kClasses + c] > logits[n * kClasses + best]) best = c;
    INFO("image " << n);
    CHECK(best == d.batch.labels[size_t(n)]);
  }
}

TEST_CASE("demo model: attribution methods run and give finite, non-zero maps") {
  Demo d;
  const Request r = d.request();
  const Shape input_shape = d.batch.images.shape();
  struct Expect {
    std::string name;
    bool required;  // false: checked only once the method is registered (another branch)
  };
  for (const Expect& m : {Expect{"gradient", true}, Expect{"grad-cam", true},
                          Expect{"guided-backprop", true}, Expect{"fullgrad", true},
                          Expect{"integrated-gradients", false}}) {
    INFO("method " << m.name);
    const Method* method = find_method(m.name);
    if (!method) {
      REQUIRE_MESSAGE(!m.required, m.name, " is not registered");
      MESSAGE("SKIPPED: " << m.name << " is not registered in this build");
      continue;
    }
    const Explanation e = method->explain(r);
    const Tensor& a = e.attribution;
    REQUIRE(a.rank() == 4);
    CHECK(a.dim(0) == kClasses);
    if (method->info().layer_map) {
      CHECK(a.dim(1) == 1);  // CAMs: one map at the layer's resolution (7×7 here)
      CHECK(a.dim(2) == 7);
      CHECK(a.dim(3) == 7);
    } else {
      CHECK(a.shape() == input_shape);
    }
    CHECK(all_finite(a));
    const int64_t per = a.numel() / kClasses;
    for (int64_t n = 0; n < kClasses; ++n) {
      INFO("image " << n);
      CHECK(max_abs(a, n * per, (n + 1) * per) > 0);
    }
    REQUIRE(e.scores.size() == size_t(kClasses));
    for (double s : e.scores) CHECK(std::isfinite(s));
  }
}

TEST_CASE("demo model: FullGrad's decomposition is exact (ReLU, max-pool, BN folded, GAP, Linear)") {
  Demo d;
  const Explanation e = method("fullgrad").explain(d.request());
  const auto& gap = e.per_example.at("completeness_gap");
  REQUIRE(gap.size() == size_t(kClasses));
  for (size_t n = 0; n < gap.size(); ++n) {
    INFO("image " << n << ": score " << e.scores[n] << ", gap " << gap[n]);
    CHECK(std::fabs(gap[n]) <= 1e-4 * std::max(1.0, std::fabs(e.scores[n])));
  }
}
