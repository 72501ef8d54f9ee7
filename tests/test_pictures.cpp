// The pictures of `compare` checked by their pixels: grid.png has a colour bar whose pixels form
// the colormap's ramp and label text beside each row; report.html, rendered by headless Chromium
// (tools/bootstrap.sh installs /usr/bin/chromium; without it the test fails), is not blank, does
// not overflow the window however many methods it shows, and shows the colour bar's ramp.
// Also: the sign-following channel reduction, the default overlay and the shipped ImageNet names.
#include <stb_image_write.h>

#include <filesystem>
#include <fstream>

#include "cli_runner.h"
#include "io/heatmap.h"
#include "io/image.h"
#include "scratch_dir.h"
#include "support.h"

#ifdef GRADLENS_CLI

using namespace gradlens;
using gradlens::test::CliRun;
using gradlens::test::run_cli;
using gradlens::test::ScratchDir;
namespace fs = std::filesystem;

namespace {
std::string gap_cnn() { return std::string(GRADLENS_TEST_DATA) + "/fixtures/gap_cnn/model.onnx"; }

// a_grey.png: uniform grey 128 (its tile is told apart from label text, which is black);
// b_square.png: a bright square on a dark ground.
void make_images(const ScratchDir& dir) {
  std::vector<unsigned char> grey(28 * 28 * 3, 128), square(28 * 28 * 3);
  for (int y = 0; y < 28; ++y)
    for (int x = 0; x < 28; ++x)
      for (int c = 0; c < 3; ++c)
        square[size_t((y * 28 + x) * 3 + c)] = (x > 8 && x < 20 && y > 8 && y < 20) ? (unsigned char)(255 - 60 * c) : 10;
  REQUIRE(stbi_write_png((dir / "a_grey.png").c_str(), 28, 28, 3, grey.data(), 28 * 3));
  REQUIRE(stbi_write_png((dir / "b_square.png").c_str(), 28, 28, 3, square.data(), 28 * 3));
}

struct Rgb {
  int r, g, b;
};
Rgb pixel(const Tensor& img, int64_t y, int64_t x) {
  const int64_t H = img.dim(1), W = img.dim(2);
  auto c = [&](int64_t ch) { return int(std::lround(img[(ch * H + y) * W + x] * 255.f)); };
  return {c(0), c(1), c(2)};
}

// The t whose colour is nearest to p (1/255 steps), or −1 when none is within `tolerance` (8-bit
// units, per channel).
float colormap_t(Colormap c, Rgb p, int tolerance) {
  static std::vector<Rgb> table;
  static Colormap table_map = Colormap::gray;
  if (table.empty() || table_map != c) {
    table.clear();
    for (int k = 0; k < 256; ++k) {
      const auto rgb = colormap_rgb(c, float(k) / 255.f);
      table.push_back({int(std::lround(rgb[0] * 255)), int(std::lround(rgb[1] * 255)), int(std::lround(rgb[2] * 255))});
    }
    table_map = c;
  }
  int best = -1, best_d = tolerance + 1;
  for (int k = 0; k < 256; ++k) {
    const int d = std::max({std::abs(table[size_t(k)].r - p.r), std::abs(table[size_t(k)].g - p.g),
                            std::abs(table[size_t(k)].b - p.b)});
    if (d < best_d) best = k, best_d = d;
  }
  return best < 0 ? -1.f : float(best) / 255.f;
}

// Longest run, along any column (vertical: t falling downwards) or row (horizontal: t rising to
// the right), of pixels that are colours of the colormap with t monotone (0.02 slack for
// rounding) and spanning t ≤ 0.03 … ≥ 0.97. Returns its length, 0 when there is none.
int64_t longest_ramp(const Tensor& img, Colormap c, bool vertical) {
  const int64_t H = img.dim(1), W = img.dim(2);
  const int64_t lines = vertical ? W : H, length = vertical ? H : W;
  int64_t best = 0;
  for (int64_t line = 0; line < lines; ++line) {
    int64_t start = 0;
    float previous = -1, lo = 2, hi = -1;
    for (int64_t i = 0; i <= length; ++i) {
      float t = -1;
      if (i < length) t = colormap_t(c, vertical ? pixel(img, i, line) : pixel(img, line, i), 10);
      if (t >= 0 && vertical) t = 1 - t;  // a vertical bar falls from 1 at the top
      const bool continues = t >= 0 && (previous < 0 || t >= previous - 0.02f);
      if (!continues) {
        if (lo <= 0.03f && hi >= 0.97f) best = std::max(best, i - start);
        start = i, lo = 2, hi = -1;
        if (t < 0) {
          previous = -1;
          continue;
        }
      }
      previous = t, lo = std::min(lo, t), hi = std::max(hi, t);
    }
  }
  return best;
}

bool is_black(Rgb p) { return p.r < 60 && p.g < 60 && p.b < 60; }
bool is_grey128(Rgb p) { return std::abs(p.r - 128) <= 2 && std::abs(p.g - 128) <= 2 && std::abs(p.b - 128) <= 2; }

void require_chromium() {
  if (!fs::exists("/usr/bin/chromium"))
    FAIL("/usr/bin/chromium is missing: run tools/bootstrap.sh (it installs Debian's chromium; CI runs it)");
}
}  // namespace

TEST_CASE("pictures: grid.png has a colour-bar ramp and row labels; report.html renders without overflow") {
  ScratchDir dir;
  make_images(dir);
  {
    std::ofstream l(dir / "labels.txt");
    for (const char* s : {"tshirt", "trouser", "pullover", "dress", "coat", "sandal", "shirt"}) l << s << "\n";
  }
  const std::string out = dir / "out";
  const CliRun r = run_cli(dir, {"compare", gap_cnn(), dir / "a_grey.png", dir / "b_square.png", "--methods",
                                 "saliency,grad-cam,integrated-gradients", "--steps", "8", "--labels",
                                 dir / "labels.txt", "--truth", "3,4", "--quiet", "--out", out});
  INFO(r.err);
  REQUIRE(r.exit_code == 0);

  // grid.png: the legend column holds a vertical jet ramp at least 64 pixels long (the bar is as
  // tall as a row, 112 here, minus nothing: the whole bar must read as one monotone ramp).
  const Tensor grid = read_image(out + "/grid.png");
  CHECK(longest_ramp(grid, Colormap::jet, true) >= 100);
  // Row 0 is the grey image: its tile starts where grey 128 starts on the row's middle line; left
  // of it lies the label band, which must hold label text (black pixels) on that row.
  const int64_t row_top = 4 + 16, cell = 112;
  int64_t tile_x = -1;
  for (int64_t x = 0; x < grid.dim(2) && tile_x < 0; ++x)
    if (is_grey128(pixel(grid, row_top + cell / 2, x)) && is_grey128(pixel(grid, row_top + cell / 2, x + 8))) tile_x = x;
  REQUIRE(tile_x > 0);
  CHECK(tile_x > 60);  // the label band is as wide as its longest line ("pred: ... (K)")
  int64_t text = 0;
  for (int64_t y = row_top; y < row_top + cell; ++y)
    for (int64_t x = 0; x < tile_x; ++x) text += is_black(pixel(grid, y, x));
  CHECK(text > 100);  // four lines of 7-pixel glyphs: file, pred, p, true

  // report.html in headless Chromium, 1000 pixels wide: the prediction column and four 224-pixel
  // tiles (> 1000) must scroll inside the table's box, not widen the page. A script added to a
  // copy of the report paints a 40×40 marker after layout: green when the document is no wider
  // than the window, magenta when it overflows.
  require_chromium();
  std::string html = test::slurp(out + "/report.html");
  const size_t body_end = html.rfind("</body>");
  REQUIRE(body_end != std::string::npos);
  html.insert(body_end,
              "<script>addEventListener('load',function(){var ok=document.documentElement.scrollWidth<=innerWidth;"
              "var d=document.createElement('div');d.style.cssText='position:fixed;left:0;top:0;width:40px;"
              "height:40px;z-index:99;background:'+(ok?'#00ff00':'#ff00ff');document.body.appendChild(d);});"
              "</script>\n");
  test::write_file(out + "/marked.html", html);
  const std::string shot = dir / "shot.png", profile = dir / "profile";
  fs::create_directories(profile);
  const std::string cmd =
      "/usr/bin/chromium --headless --no-sandbox --disable-gpu --hide-scrollbars --disable-background-networking "
      "--disable-component-update --disable-sync --no-first-run --user-data-dir=" +
      profile + " --screenshot=" + shot + " --window-size=1000,1100 file://" + out + "/marked.html > " +
      (dir / "chromium.log") + " 2>&1";
  CHECK(std::system(cmd.c_str()) == 0);
  REQUIRE(fs::exists(shot));
  const Tensor s = read_image(shot);
  REQUIRE(s.dim(2) == 1000);
  // Not blank: many non-white pixels and many colours.
  int64_t ink = 0;
  for (int64_t y = 0; y < s.dim(1); y += 2)
    for (int64_t x = 0; x < s.dim(2); x += 2) {
      const Rgb p = pixel(s, y, x);
      ink += p.r + p.g + p.b < 600;
    }
  CHECK(ink > 5000);
  const Rgb marker = pixel(s, 20, 20);
  INFO("marker " << marker.r << "," << marker.g << "," << marker.b << " (green: fits, magenta: overflows)");
  CHECK((marker.r < 30 && marker.g > 225 && marker.b < 30));
  // The report's colour bar: a horizontal 256-pixel jet ramp, 0 at the left.
  CHECK(longest_ramp(s, Colormap::jet, false) >= 200);
}

TEST_CASE("pictures: --sign all shows negative values (signed channel sum); max-abs with it is refused") {
  ScratchDir dir;
  make_images(dir);
  auto blue_red = [&](const std::string& png) {
    const Tensor img = read_image(png);
    int blue = 0, red = 0;
    for (int64_t y = 0; y < img.dim(1); ++y)
      for (int64_t x = 0; x < img.dim(2); ++x) {
        const Rgb p = pixel(img, y, x);
        blue += p.b > 200 && p.r < 150;
        red += p.r > 200 && p.b < 150;
      }
    return std::pair<int, int>(blue, red);
  };
  // gradient's convention is max-abs: with --sign all the reduction becomes the signed sum, so
  // the bwr map has blue (negative) as well as red pixels.
  REQUIRE(run_cli(dir, {"explain", gap_cnn(), dir / "b_square.png", "--method", "gradient", "--sign", "all",
                        "--no-overlay", "--no-legend", "--quiet", "--out-png", dir / "all.png"})
              .exit_code == 0);
  const auto [blue, red] = blue_red(dir / "all.png");
  CHECK(blue > 20);
  CHECK(red > 20);
  test::check_rejected(run_cli(dir, {"explain", gap_cnn(), dir / "b_square.png", "--method", "gradient", "--sign",
                                     "all", "--reduce", "max-abs", "--quiet", "--out-png", dir / "no.png"}),
                       "give --reduce sum", dir / "no.png");
  test::check_rejected(run_cli(dir, {"explain", gap_cnn(), dir / "b_square.png", "--method", "gradient",
                                     "--overlay", "--no-overlay", "--quiet", "--out-png", dir / "no.png"}),
                       "--overlay and --no-overlay", dir / "no.png");
}

TEST_CASE("pictures: CAMs and saliency are overlaid by default; --no-overlay shows the map alone") {
  ScratchDir dir;
  make_images(dir);
  for (const char* m : {"grad-cam", "saliency"}) {
    CAPTURE(m);
    REQUIRE(run_cli(dir, {"explain", gap_cnn(), dir / "a_grey.png", "--method", m, "--quiet", "--no-legend",
                          "--out-png", dir / "on.png"}).exit_code == 0);
    REQUIRE(run_cli(dir, {"explain", gap_cnn(), dir / "a_grey.png", "--method", m, "--quiet", "--no-overlay",
                          "--no-legend", "--out-png", dir / "off.png"}).exit_code == 0);
    // Overlay at α = 0.5 on grey 128/255: out = 0.5·(128/255) + 0.5·heat, per channel.
    const Tensor on = read_image(dir / "on.png"), off = read_image(dir / "off.png");
    REQUIRE(on.shape() == off.shape());
    double worst = 0;
    for (int64_t i = 0; i < on.numel(); ++i)
      worst = std::max(worst, std::fabs(double(on[i]) - (0.5 * 128.0 / 255.0 + 0.5 * double(off[i]))));
    CHECK(worst <= 1.5 / 255.0);
  }
  // integrated-gradients is shown alone by default: the same picture with or without --no-overlay.
  REQUIRE(run_cli(dir, {"explain", gap_cnn(), dir / "a_grey.png", "--method", "integrated-gradients", "--steps", "4",
                        "--quiet", "--out-png", dir / "ig.png"}).exit_code == 0);
  REQUIRE(run_cli(dir, {"explain", gap_cnn(), dir / "a_grey.png", "--method", "integrated-gradients", "--steps", "4",
                        "--quiet", "--no-overlay", "--out-png", dir / "ig_off.png"}).exit_code == 0);
  CHECK(test::slurp(dir / "ig.png") == test::slurp(dir / "ig_off.png"));
}

// explain --out-png draws compare's legend around its one map: the method's name above, the
// example's label (file, prediction, probability) left, the colour bar with this map's values right.
TEST_CASE("pictures: explain --out-png has a colour bar with values and a caption; --no-legend the map alone") {
  ScratchDir dir;
  make_images(dir);
  {
    std::ofstream l(dir / "labels.txt");
    for (const char* s : {"tshirt", "trouser", "pullover", "dress", "coat", "sandal", "shirt"}) l << s << "\n";
  }
  const CliRun r = run_cli(dir, {"explain", gap_cnn(), dir / "a_grey.png", "--method", "grad-cam", "--labels",
                                 dir / "labels.txt", "--quiet", "--out-png", dir / "cam.png"});
  INFO(r.err);
  REQUIRE(r.exit_code == 0);
  const Tensor png = read_image(dir / "cam.png");
  // 28×28 enlarged by 4 (≥ 96 pixels, as compare): a bar as tall as the map, 112 pixels.
  CHECK(longest_ramp(png, Colormap::jet, true) >= 100);
  // The map starts right of the label band, which holds text (black pixels) on its rows.
  const int64_t top = 4 + 16, cell = 112;
  int64_t map_x = -1;
  for (int64_t x = 0; x < png.dim(2) && map_x < 0; ++x)
    if (!(pixel(png, top + cell / 2, x).r == 255 && pixel(png, top + cell / 2, x).g == 255 &&
          pixel(png, top + cell / 2, x).b == 255) &&
        !is_black(pixel(png, top + cell / 2, x)) && x > 40)
      map_x = x;
  REQUIRE(map_x > 60);  // "pred: tshirt (0)" and "p = ..." are wider than 60 pixels
  int64_t text = 0;
  for (int64_t y = top; y < top + cell; ++y)
    for (int64_t x = 0; x < map_x; ++x) text += is_black(pixel(png, y, x));
  CHECK(text > 100);
  // The title strip above the map holds the method's name.
  int64_t title = 0;
  for (int64_t y = 0; y < top; ++y)
    for (int64_t x = map_x; x < map_x + cell; ++x) title += is_black(pixel(png, y, x));
  CHECK(title > 20);
  // --no-legend: the map alone, at the input's resolution.
  REQUIRE(run_cli(dir, {"explain", gap_cnn(), dir / "a_grey.png", "--method", "grad-cam", "--quiet", "--no-legend",
                        "--out-png", dir / "bare.png"}).exit_code == 0);
  CHECK(read_image(dir / "bare.png").shape() == Shape{3, 28, 28});
  test::check_rejected(run_cli(dir, {"explain", gap_cnn(), dir / "a_grey.png", "--method", "grad-cam", "--quiet",
                                     "--no-legend", "--out-npy", dir / "x.npy"}),
                       "--no-legend applies to --out-png", dir / "x.npy");
}

TEST_CASE("pictures: --labels imagenet finds the shipped 1000 names from the build tree") {
  ScratchDir dir;
  make_images(dir);
  // gap_cnn has 7 classes, so the shipped file is found, read, and its 1000 lines reported.
  const CliRun r = run_cli(dir, {"compare", gap_cnn(), dir / "a_grey.png", "--methods", "saliency", "--labels",
                                 "imagenet", "--quiet", "--out", dir / "out"});
  test::check_rejected(r, "share/gradlens/imagenet_classes.txt: 1000 labels for a model with 7 classes", dir / "out");
  // The committed file, in torchvision's order (tools/make_imagenet_classes.py).
  std::ifstream in(std::string(GRADLENS_SOURCE_DIR) + "/tools/data/imagenet_classes.txt");
  std::vector<std::string> names;
  for (std::string line; std::getline(in, line);) names.push_back(line);
  REQUIRE(names.size() == 1000);
  CHECK(names[0] == "tench");
  CHECK(names[1] == "goldfish");
  CHECK(names[999] == "toilet tissue");
}

#endif
