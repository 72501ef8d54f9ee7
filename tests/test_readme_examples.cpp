// The C++ examples of the README, compiled and run as written (on a committed fixture model).
#include <cmath>

#include <gradlens/attribution/method.h>
#include <gradlens/engine/ops.h>
#include <gradlens/io/heatmap.h>
#include <gradlens/io/image.h>
#include <gradlens/io/npy.h>
#include <gradlens/io/onnx.h>
#include <gradlens/io/preprocess.h>

#include "scratch_dir.h"
#include "support.h"

using namespace gradlens;

TEST_CASE("README: analytic model") {
  Tape tape;
  Var x = tape.input(Tensor(Shape{3}, {1.5f, -2.f, 0.7f}));
  Var f = column(x, 0) * column(x, 1) + sin(column(x, 2));
  tape.backward(f, Tensor(Shape{1}, {1.f}));
  Tensor g = tape.grad(x);  // [x1, x0, cos x2] = [-2, 1.5, 0.765]
  CHECK(g[0] == doctest::Approx(-2.0));
  CHECK(g[1] == doctest::Approx(1.5));
  CHECK(g[2] == doctest::Approx(std::cos(0.7)).epsilon(1e-6));
}

TEST_CASE("README: explain an ONNX model from C++") {
  const std::string dir = std::string(GRADLENS_TEST_DATA) + "/fixtures/gap_cnn/";
  Model model(load_onnx(dir + "model.onnx"));
  ModelFunction f(model);
  Request r;
  r.function = &f;
  r.input = read_npy(dir + "input.npy");  // [N, C, H, W]
  r.targets = {1};                        // one class for every example (or one per example)
  r.options.set("upsample", "bilinear");
  Explanation e = method("grad-cam").explain(r);
  const Tensor& map = e.attribution;  // [N, 1, H, W]
  CHECK(map.shape() == Shape{2, 1, 28, 28});
  CHECK(std::isfinite(map[0]));
}

TEST_CASE("README: from C++ in one example (no targets: each row's predicted class)") {
  const std::string dir = std::string(GRADLENS_TEST_DATA) + "/fixtures/gap_cnn/";
  Model model(load_onnx(dir + "model.onnx"));
  ModelFunction f(model);
  Request r;
  r.function = &f;
  r.input = read_npy(dir + "input.npy");
  r.options.set("upsample", "bilinear");
  Explanation e = method("grad-cam").explain(r);  // no targets: each row's predicted class
  const Tensor& map = e.attribution;
  CHECK(map.shape() == Shape{2, 1, 28, 28});
  r.targets = predicted_classes(f, r.input);
  CHECK(r.targets.size() == 2);
  CHECK(test::bitwise_equal(method("grad-cam").explain(r).attribution, map));
}

TEST_CASE("README: images, preprocessing and heatmaps from C++") {
  const test::ScratchDir scratch;
  Tensor image = read_image(std::string(GRADLENS_TEST_DATA) + "/images/smooth.jpg");  // [C, H, W] in [0, 1]
  Preprocessing p = preset_preprocessing("imagenet", 3, 224, 224);
  PreparedImage prepared = prepare_image(image, p, "smooth.jpg");
  CHECK(prepared.input.shape() == Shape{3, 224, 224});
  Tensor map(Shape{1, 1, 224, 224});
  for (int64_t i = 0; i < map.numel(); ++i) map[i] = float(i % 224) / 224.f;  // a left-to-right ramp
  Tensor values = display_values(map.reshaped(Shape{224, 224}), Sign::positive, 99);
  Tensor heat = overlay(prepared.display, colorize(values, Colormap::jet), 0.5f);
  CHECK(heat.shape() == Shape{3, 224, 224});
  write_png(scratch / "heat.png", to_image8(heat));
  CHECK(read_image(scratch / "heat.png").shape() == Shape{3, 224, 224});
}
