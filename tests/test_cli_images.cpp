// End to end through the built CLI: `compare` on the gap_cnn fixture with PNGs made here (grid
// size, .npy files, report.html's <img> count and label names, an unreadable image reported and
// skipped with exit code 1) and `explain` on images agreeing with `compare`. The pictures' pixels,
// and the report in headless Chromium, are checked in test_pictures.cpp.
#include <stb_image_write.h>
#include <sys/wait.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <regex>

#include "cli_runner.h"
#include "io/image.h"
#include "io/npy.h"
#include "scratch_dir.h"
#include "support.h"

#ifdef GRADLENS_CLI

using namespace gradlens;
using gradlens::test::ScratchDir;
using gradlens::test::slurp;
namespace fs = std::filesystem;

namespace {
std::string model_path() { return std::string(GRADLENS_TEST_DATA) + "/fixtures/gap_cnn/model.onnx"; }

// Runs a shell command; returns its exit code.
int run(const std::string& command) {
  const int status = std::system(command.c_str());
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

int count(const std::string& text, const std::string& needle) {
  int n = 0;
  for (size_t p = text.find(needle); p != std::string::npos; p = text.find(needle, p + 1)) ++n;
  return n;
}

// Two distinct 28x28 RGB PNGs (a diagonal ramp and a centred square) in `dir`.
void make_images(const ScratchDir& dir) {
  std::vector<unsigned char> ramp(28 * 28 * 3), square(28 * 28 * 3);
  for (int y = 0; y < 28; ++y)
    for (int x = 0; x < 28; ++x)
      for (int c = 0; c < 3; ++c) {
        ramp[size_t((y * 28 + x) * 3 + c)] = (unsigned char)((x + y) * 4 + c * 20);
        square[size_t((y * 28 + x) * 3 + c)] = (x > 8 && x < 20 && y > 8 && y < 20) ? (unsigned char)(255 - 60 * c) : 10;
      }
  REQUIRE(stbi_write_png((dir / "ramp.png").c_str(), 28, 28, 3, ramp.data(), 28 * 3));
  REQUIRE(stbi_write_png((dir / "square.png").c_str(), 28, 28, 3, square.data(), 28 * 3));
}

std::vector<int> json_ints(const std::string& json, const std::string& key) {
  std::smatch m;
  std::vector<int> out;
  if (!std::regex_search(json, m, std::regex("\"" + key + "\":\\[([0-9,]*)\\]"))) return out;
  std::stringstream ss(m[1].str());
  std::string item;
  while (std::getline(ss, item, ',')) out.push_back(std::stoi(item));
  return out;
}
}  // namespace

TEST_CASE("cli: compare writes grid.png, per-image .npy files and a self-contained report") {
  ScratchDir dir;
  make_images(dir);
  const std::vector<std::string> labels = {"tshirt", "trouser", "pullover", "dress", "coat", "sandal", "shirt"};
  {
    std::ofstream l(dir / "labels.txt");
    for (const auto& s : labels) l << s << "\n";
  }
  test::write_file(dir / "broken.png", "not a png");
  const std::string out = dir / "out";
  const std::string cmd = std::string(GRADLENS_CLI) + " compare " + model_path() + " " + (dir / "ramp.png") + " " +
                          (dir / "broken.png") + " " + (dir / "square.png") +
                          " --methods gradient,grad-cam,fullgrad --labels " + (dir / "labels.txt") + " --out " + out +
                          " --json > " + (dir / "stdout.txt") + " 2> " + (dir / "stderr.txt");
  CHECK(run(cmd) == 1);  // the unreadable image makes the exit code non-zero
  const std::string err = slurp(dir / "stderr.txt");
  CHECK(err.find("broken.png") != std::string::npos);
  CHECK(err.find("preset none: resize to 28x28, RGB, [0,1]") != std::string::npos);

  // Grid: 2 rows × (image + 3 methods) of 28·4 = 112-pixel cells, a row-label band on the left
  // and the colour-bar legend on the right (test_pictures.cpp checks what they show).
  const Tensor grid = read_image(out + "/grid.png");
  CHECK(grid.dim(1) >= 4 + 16 + 2 * (112 + 4));
  CHECK(grid.dim(2) > 4 + 4 * (112 + 4) + 130);

  for (const std::string stem : {"ramp", "square"}) {
    CHECK(read_npy(out + "/" + stem + ".gradient.npy").shape() == Shape{1, 3, 28, 28});
    CHECK(read_npy(out + "/" + stem + ".grad-cam.npy").shape().dim(0) == 1);
    CHECK(read_npy(out + "/" + stem + ".fullgrad.npy").shape() == Shape{1, 3, 28, 28});
    CHECK(read_npy(out + "/" + stem + ".fullgrad.map.npy").shape() == Shape{1, 1, 28, 28});
  }
  for (const auto& entry : fs::directory_iterator(out))
    CHECK(entry.path().filename().string().find(".tmp.") == std::string::npos);

  const std::string html = slurp(out + "/report.html");
  CHECK(count(html, "<img") == 2 * (1 + 3) + 1);  // one colour bar: every method uses jet
  CHECK(count(html, "src=\"data:image/png;base64,") == 9);
  CHECK(html.find("http") == std::string::npos);  // nothing external
  int labels_shown = 0;
  for (const auto& l : labels) labels_shown += html.find(l) != std::string::npos;
  CHECK(labels_shown >= 5);  // top-5 of 7 classes, per image
  const std::vector<int> targets = json_ints(slurp(dir / "stdout.txt"), "targets");
  REQUIRE(targets.size() == 2);
  for (int t : targets) CHECK(html.find("explained class: " + labels[size_t(t)]) != std::string::npos);
  CHECK(html.find("completeness gap") != std::string::npos);  // reported by fullgrad
  CHECK(html.find("broken.png") != std::string::npos);

  // explain on the same images: the same gradients as compare's .npy files, one PNG per image.
  const std::string explain = std::string(GRADLENS_CLI) + " explain " + model_path() + " " + (dir / "ramp.png") + " " +
                              (dir / "square.png") + " --method gradient --quiet --out-npy " + (dir / "g.npy") +
                              " --out-png " + (dir / "h.png") + " --overlay --alpha 0.3 --no-legend";
  REQUIRE(run(explain) == 0);
  const Tensor g = read_npy(dir / "g.npy");
  REQUIRE(g.shape() == Shape{2, 3, 28, 28});
  const Tensor ramp_grad = read_npy(out + "/ramp.gradient.npy");
  const Tensor square_grad = read_npy(out + "/square.gradient.npy");
  for (int64_t i = 0; i < 3 * 28 * 28; ++i) {
    CHECK(g[i] == ramp_grad[i]);
    CHECK(g[3 * 28 * 28 + i] == square_grad[i]);
  }
  CHECK(read_image(dir / "h.0.png").shape() == Shape{3, 28, 28});
  CHECK(read_image(dir / "h.1.png").shape() == Shape{3, 28, 28});

  // A folder works as input; a preset that does not fit the model is a one-line error.
  fs::remove(dir / "broken.png");
  CHECK(run(std::string(GRADLENS_CLI) + " explain " + model_path() + " " + dir.path().string() +
            " --method saliency --quiet --json > " + (dir / "folder.json")) == 0);
  CHECK(slurp(dir / "folder.json").find("square.png") != std::string::npos);
  CHECK(run(std::string(GRADLENS_CLI) + " explain " + model_path() + " " + (dir / "ramp.png") +
            " --method saliency --preset imagenet --json 2> " + (dir / "preset.txt") + " > /dev/null") == 2);
  CHECK(slurp(dir / "preset.txt").find("224x224 but the model takes 28x28") != std::string::npos);
}

#endif
