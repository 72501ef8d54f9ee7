// Images in and pictures out: PNG/JPEG/BMP reading (files written here with stb_image_write),
// preprocessing geometry and normalisation, colormaps, channel reductions, percentile clipping,
// an overlay pixel worked by hand, the atomic writer and the grid layout.
#include <stb_image_write.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <functional>
#include <iterator>

#include "attribution/display.h"
#include "engine/error.h"
#include "engine/resample.h"
#include "io/atomic_file.h"
#include "io/canvas.h"
#include "io/heatmap.h"
#include "io/image.h"
#include "io/preprocess.h"
#include "scratch_dir.h"
#include "support.h"

using namespace gradlens;
using gradlens::test::error_of;
using gradlens::test::ScratchDir;
namespace fs = std::filesystem;

namespace {
// Interleaved 8-bit pixels: value = (37·y + 11·x + 80·c) mod 256.
std::vector<unsigned char> pattern(int h, int w, int channels) {
  std::vector<unsigned char> p(size_t(h * w * channels));
  for (int y = 0; y < h; ++y)
    for (int x = 0; x < w; ++x)
      for (int c = 0; c < channels; ++c) p[size_t((y * w + x) * channels + c)] = (unsigned char)((37 * y + 11 * x + 80 * c) % 256);
  return p;
}

float at3(const Tensor& t, int64_t c, int64_t y, int64_t x) { return t[(c * t.dim(1) + y) * t.dim(2) + x]; }

std::string bytes_of(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
}
}  // namespace

TEST_CASE("image: PNG and BMP read exactly, grey and RGB, alpha dropped") {
  ScratchDir dir;
  const int h = 5, w = 7;
  // PNG keeps grey (1), grey+alpha (2), RGB (3), RGBA (4): read as 1, 1, 3, 3 channels.
  for (int channels : {1, 2, 3, 4}) {
    const auto pixels = pattern(h, w, channels);
    const std::string png = dir / ("p" + std::to_string(channels) + ".png");
    REQUIRE(stbi_write_png(png.c_str(), w, h, channels, pixels.data(), w * channels));
    CAPTURE(png);
    const Tensor t = read_image(png);
    const int64_t expected_channels = channels <= 2 ? 1 : 3;
    REQUIRE(t.shape() == Shape{expected_channels, h, w});
    for (int64_t c = 0; c < expected_channels; ++c)
      for (int y = 0; y < h; ++y)
        for (int x = 0; x < w; ++x)
          CHECK(at3(t, c, y, x) == float(pixels[size_t((y * w + x) * channels + c)]) / 255.f);
  }
  // BMP stores 24-bit colour: RGB reads exactly; grey is written as R = G = B.
  for (int channels : {1, 3}) {
    const auto pixels = pattern(h, w, channels);
    const std::string bmp = dir / ("p" + std::to_string(channels) + ".BMP");
    REQUIRE(stbi_write_bmp(bmp.c_str(), w, h, channels, pixels.data()));
    CAPTURE(bmp);
    const Tensor t = read_image(bmp);
    REQUIRE(t.shape() == Shape{3, h, w});
    for (int64_t c = 0; c < 3; ++c)
      for (int y = 0; y < h; ++y)
        for (int x = 0; x < w; ++x)
          CHECK(at3(t, c, y, x) == float(pixels[size_t((y * w + x) * channels + (channels == 1 ? 0 : c))]) / 255.f);
  }
  CHECK(has_image_extension("a/b.PNG"));
  CHECK(has_image_extension("x.jpeg"));
  CHECK_FALSE(has_image_extension("x.npy"));
  CHECK_FALSE(has_image_extension("dir.png/file"));
}

TEST_CASE("image: an empty IDAT chunk before the data changes nothing (fuzz_image finding)") {
  const std::vector<unsigned char> px = pattern(5, 7, 3);
  std::string png;
  stbi_write_png_to_func([](void* c, void* d, int n) { static_cast<std::string*>(c)->append((const char*)d, size_t(n)); },
                         &png, 7, 5, 3, px.data(), 7 * 3);
  const size_t idat = png.find("IDAT") - 4;  // the chunk starts with its 4-byte length
  REQUIRE(idat > 8);
  // Length 0, type IDAT, the CRC of "IDAT" (stb does not check CRCs).
  const std::string empty_chunk("\0\0\0\0IDAT\x35\xaf\x06\x1e", 12);
  const std::string with_empty = png.substr(0, idat) + empty_chunk + png.substr(idat);
  const Tensor plain = decode_image(png, "plain.png"), odd = decode_image(with_empty, "empty_idat.png");
  REQUIRE(odd.shape() == plain.shape());
  for (int64_t i = 0; i < plain.numel(); ++i) CHECK(odd[i] == plain[i]);
  // The fuzzer's file (a first IDAT of length 0 then corrupt data): an Error, never UB.
  CHECK(!error_of([] {
           decode_image(bytes_of(std::string(GRADLENS_TEST_DATA) + "/hostile/regressions/image/png_empty_idat.png"),
                        "png_empty_idat.png");
         }).empty());
}

TEST_CASE("image: JPEG reads within its quantisation error") {
  // Files written by tools/make_image_fixtures.py (Pillow, quality 100).
  const std::string images = std::string(GRADLENS_TEST_DATA) + "/images/";
  const int h = 16, w = 16;
  std::vector<unsigned char> pixels(size_t(h * w * 3));
  for (int y = 0; y < h; ++y)
    for (int x = 0; x < w; ++x) {
      pixels[size_t((y * w + x) * 3 + 0)] = (unsigned char)(100 + 4 * x);
      pixels[size_t((y * w + x) * 3 + 1)] = (unsigned char)(60 + 3 * y);
      pixels[size_t((y * w + x) * 3 + 2)] = 200;
    }
  const Tensor t = read_image(images + "smooth.jpg");
  REQUIRE(t.shape() == Shape{3, h, w});
  float worst = 0.f;
  for (int c = 0; c < 3; ++c)
    for (int y = 0; y < h; ++y)
      for (int x = 0; x < w; ++x)
        worst = std::max(worst, std::fabs(at3(t, c, y, x) - float(pixels[size_t((y * w + x) * 3 + c)]) / 255.f));
  CHECK(worst < 6.f / 255.f);
  // A one-component (grey) JPEG reads as one channel.
  const Tensor g = read_image(images + "grey.jpg");
  REQUIRE(g.shape() == Shape{1, h, w});
  for (int64_t i = 0; i < g.numel(); ++i) CHECK(std::fabs(g[i] - 128.f / 255.f) < 2.f / 255.f);
}

TEST_CASE("image: unreadable files are Errors naming the file") {
  ScratchDir dir;
  const std::string missing = dir / "missing.png";
  CHECK(error_of([&] { read_image(missing); }).find(missing) != std::string::npos);
  const std::string text = dir / "text.png";
  test::write_file(text, "this is not an image");
  const std::string e = error_of([&] { read_image(text); });
  CHECK(e.find(text) != std::string::npos);
  CHECK(e.find('\n') == std::string::npos);
  const std::string empty = dir / "empty.jpg";
  test::write_file(empty, "");
  CHECK(error_of([&] { read_image(empty); }).find(empty) != std::string::npos);
}

TEST_CASE("image: PNG written by write_png reads back; writes are atomic") {
  ScratchDir dir;
  Image8 img(3, 4, 3);
  for (size_t i = 0; i < img.pixels.size(); ++i) img.pixels[i] = uint8_t(i * 7);
  const std::string path = dir / "out.png";
  write_png(path, img);
  Tensor t = read_image(path);
  REQUIRE(t.shape() == Shape{3, 3, 4});
  for (int64_t c = 0; c < 3; ++c)
    for (int64_t y = 0; y < 3; ++y)
      for (int64_t x = 0; x < 4; ++x) CHECK(at3(t, c, y, x) * 255.f == doctest::Approx(img.at(y, x)[c]));
  // Overwrite through the atomic writer: new contents, no temporary left behind.
  write_file_atomically(path, std::string("first"));
  CHECK(bytes_of(path) == "first");
  write_file_atomically(path, std::vector<ByteChunk>{{"ab", 2}, {"cde", 3}});
  CHECK(bytes_of(path) == "abcde");
  const std::string bad = dir / "no_such_dir/out.png";
  const std::string e = error_of([&] { write_png(bad, img); });
  CHECK(e.find(bad) != std::string::npos);
  int temps = 0;
  for (const auto& entry : fs::recursive_directory_iterator(dir.path()))
    temps += entry.path().filename().string().find(".tmp.") != std::string::npos;
  CHECK(temps == 0);
  // to_image8 rounds v·255 and clamps.
  Tensor v(Shape{1, 1, 3}, {-0.5f, 0.5f, 2.f});
  const Image8 q = to_image8(v);
  CHECK(q.pixels == std::vector<uint8_t>{0, 128, 255});
}

TEST_CASE("preprocess: centre-crop offsets round half to even as torchvision") {
  CHECK(centre_crop_offset(256, 224) == 16);
  CHECK(centre_crop_offset(4, 3) == 0);   // 0.5 → 0
  CHECK(centre_crop_offset(5, 2) == 2);   // 1.5 → 2
  CHECK(centre_crop_offset(7, 2) == 2);   // 2.5 → 2
  CHECK(centre_crop_offset(341, 224) == 58);  // 58.5 → 58
}

TEST_CASE("preprocess: shorter-side resize then centre crop") {
  Tensor img(Shape{3, 6, 8});
  for (int64_t i = 0; i < img.numel(); ++i) img[i] = float((i * 37) % 101) / 100.f;
  Preprocessing p;
  p.shorter_side = 4;  // 6x8 → 4 x ⌊4·8/6⌋ = 4x5
  p.crop_height = p.crop_width = 3;  // offsets (round(0.5), round(1)) = (0, 1)
  const PreparedImage out = prepare_image(img, p, "img");
  REQUIRE(out.input.shape() == Shape{3, 3, 3});
  REQUIRE(out.display.shape() == Shape{3, 3, 3});
  const Tensor resized = resize(img.reshaped(Shape{1, 3, 6, 8}), 4, 5, Resample::bilinear);
  for (int64_t c = 0; c < 3; ++c)
    for (int64_t y = 0; y < 3; ++y)
      for (int64_t x = 0; x < 3; ++x) {
        CHECK(at3(out.input, c, y, x) == resized[(c * 4 + y) * 5 + x + 1]);
        CHECK(at3(out.display, c, y, x) == resized[(c * 4 + y) * 5 + x + 1]);
      }
  // Portrait: 8x6 → ⌊4·8/6⌋ x 4 = 5x4.
  Tensor tall(Shape{1, 8, 6}, 0.25f);
  Preprocessing q;
  q.shorter_side = 4;
  CHECK(prepare_image(tall, q, "tall").input.shape() == Shape{1, 5, 4});
  q.crop_height = q.crop_width = 6;
  const std::string e = error_of([&] { prepare_image(tall, q, "tall.png"); });
  CHECK(e.find("tall.png") != std::string::npos);
  CHECK(e.find("6x6") != std::string::npos);
}

TEST_CASE("resize_window: equals the window of the full resize, every mode, odd shapes") {
  Tensor x(Shape{2, 3, 7, 13});
  for (int64_t i = 0; i < x.numel(); ++i) x[i] = float((i * 53) % 97) / 96.f - 0.3f;
  for (Resample mode : {Resample::bilinear, Resample::nearest, Resample::bilinear_corners}) {
    for (auto [h, w] : {std::pair<int64_t, int64_t>{11, 5}, {7, 13}, {3, 26}, {19, 19}}) {
      const Tensor full = resize(x, h, w, mode);
      for (const Window win : {Window{0, 0, h, w}, Window{1, 2, h - 1, w - 2}, Window{h / 2, w / 3, 1, 1},
                               Window{h - 2, 0, 2, w}}) {
        const Tensor part = resize_window(x, h, w, mode, win);
        REQUIRE(part.shape() == Shape{2, 3, win.height, win.width});
        for (int64_t p = 0; p < 6; ++p)
          for (int64_t y = 0; y < win.height; ++y)
            for (int64_t c = 0; c < win.width; ++c)
              CHECK(part[(p * win.height + y) * win.width + c] ==
                    full[(p * h + win.top + y) * w + win.left + c]);
      }
    }
  }
  CHECK_THROWS_AS(resize_window(x, 5, 5, Resample::bilinear, Window{3, 0, 3, 5}), Error);
  CHECK_THROWS_AS(resize_window(x, 5, 5, Resample::bilinear, Window{0, 0, 0, 5}), Error);
}

TEST_CASE("preprocess: imagenet preset geometry and mean/std") {
  Tensor img(Shape{3, 300, 400});
  for (int64_t i = 0; i < img.numel(); ++i) img[i] = float(i % 251) / 250.f;
  const Preprocessing p = preset_preprocessing("imagenet", 3, 224, 224);
  CHECK(p.describe() ==
        "preset imagenet: resize shorter side to 256, centre crop 224x224, RGB, [0,1], mean (0.485, 0.456, 0.406), "
        "std (0.229, 0.224, 0.225)");
  const PreparedImage out = prepare_image(img, p, "big");
  REQUIRE(out.input.shape() == Shape{3, 224, 224});
  // 300x400 → 256 x ⌊256·400/300⌋ = 256x341; crop offsets (16, round(58.5) = 58).
  const Tensor resized = resize(img.reshaped(Shape{1, 3, 300, 400}), 256, 341, Resample::bilinear);
  const float mean[3] = {0.485f, 0.456f, 0.406f}, stdev[3] = {0.229f, 0.224f, 0.225f};
  for (int64_t c = 0; c < 3; ++c)
    for (auto [y, x] : {std::pair<int64_t, int64_t>{0, 0}, {223, 223}, {100, 37}}) {
      const float r = resized[(c * 256 + 16 + y) * 341 + 58 + x];
      CHECK(at3(out.input, c, y, x) == doctest::Approx((r - mean[c]) / stdev[c]).epsilon(1e-6));
      CHECK(at3(out.display, c, y, x) == r);
    }
  CHECK_THROWS_AS(preset_preprocessing("cifar", 3, 32, 32), Error);
}

TEST_CASE("preprocess: channel conversion, fashion-mnist preset, per-channel checks") {
  Tensor rgb(Shape{3, 2, 2});
  for (int64_t i = 0; i < 4; ++i) {
    rgb[i] = 0.2f;
    rgb[4 + i] = 0.4f;
    rgb[8 + i] = 0.6f;
  }
  Preprocessing grey;
  grey.channels = 1;
  const PreparedImage g = prepare_image(rgb, grey, "rgb");
  REQUIRE(g.input.shape() == Shape{1, 2, 2});
  CHECK(g.input[0] == doctest::Approx(0.299 * 0.2 + 0.587 * 0.4 + 0.114 * 0.6));  // 0.363
  CHECK(g.display.shape() == Shape{3, 2, 2});

  Tensor mono(Shape{1, 2, 2}, {0.f, 0.25f, 0.5f, 1.f});
  Preprocessing to_rgb;
  to_rgb.channels = 3;
  to_rgb.mean = {0.5f, 0.25f, 0.f};
  to_rgb.std = {0.5f};
  const PreparedImage c = prepare_image(mono, to_rgb, "mono");
  REQUIRE(c.input.shape() == Shape{3, 2, 2});
  CHECK(c.input[3] == doctest::Approx((1.f - 0.5f) / 0.5f));
  CHECK(c.input[4 + 1] == doctest::Approx((0.25f - 0.25f) / 0.5f));
  CHECK(c.input[8 + 2] == doctest::Approx(0.5f / 0.5f));

  const Preprocessing f = preset_preprocessing("fashion-mnist", 1, 28, 28);
  Tensor photo(Shape{3, 56, 84}, 0.5f);
  const PreparedImage fm = prepare_image(photo, f, "photo");
  REQUIRE(fm.input.shape() == Shape{1, 28, 28});
  CHECK(fm.input[0] == doctest::Approx((0.5 - 0.2860) / 0.3530).epsilon(1e-5));
  CHECK(f.describe() == "preset fashion-mnist: resize to 28x28, grey, [0,1], mean (0.286), std (0.353)");

  Preprocessing none = preset_preprocessing("none", 3, 10, 12);
  CHECK(prepare_image(photo, none, "photo").input.shape() == Shape{3, 10, 12});
  none.mean = {0.1f, 0.2f};
  const std::string e = error_of([&] { prepare_image(photo, none, "photo.png"); });
  CHECK(e.find("photo.png") != std::string::npos);
  CHECK(e.find("--mean gives 2 values for 3 channels") != std::string::npos);
}

TEST_CASE("heatmap: colormap endpoints and samples") {
  auto check = [](std::array<float, 3> got, std::array<float, 3> want) {
    for (int i = 0; i < 3; ++i) CHECK(got[size_t(i)] == doctest::Approx(want[size_t(i)]).epsilon(1e-5));
  };
  check(colormap_rgb(Colormap::jet, 0.f), {0.f, 0.f, 0.5f});
  check(colormap_rgb(Colormap::jet, 1.f), {0.5f, 0.f, 0.f});
  check(colormap_rgb(Colormap::jet, 0.5f), {0.15f / 0.31f, 1.f, 1.f - 0.16f / 0.31f});
  check(colormap_rgb(Colormap::viridis, 0.f), {0.267004f, 0.004874f, 0.329415f});
  check(colormap_rgb(Colormap::viridis, 1.f), {0.993248f, 0.906157f, 0.143936f});
  check(colormap_rgb(Colormap::viridis, 128.f / 255.f), {0.127568f, 0.566949f, 0.550556f});
  check(colormap_rgb(Colormap::inferno, 0.f), {0.001462f, 0.000466f, 0.013866f});
  check(colormap_rgb(Colormap::inferno, 1.f), {0.988362f, 0.998364f, 0.644924f});
  check(colormap_rgb(Colormap::gray, 0.25f), {0.25f, 0.25f, 0.25f});
  check(colormap_rgb(Colormap::bwr, 0.f), {0.f, 0.f, 1.f});
  check(colormap_rgb(Colormap::bwr, 0.5f), {1.f, 1.f, 1.f});
  check(colormap_rgb(Colormap::bwr, 1.f), {1.f, 0.f, 0.f});
  check(colormap_rgb(Colormap::bwr, 0.75f), {1.f, 0.5f, 0.5f});
  check(colormap_rgb(Colormap::jet, -3.f), colormap_rgb(Colormap::jet, 0.f));
  check(colormap_rgb(Colormap::inferno, 7.f), colormap_rgb(Colormap::inferno, 1.f));
  CHECK(parse_colormap("viridis") == Colormap::viridis);
  CHECK(error_of([] { parse_colormap("rainbow"); }).find("rainbow") != std::string::npos);
}

TEST_CASE("heatmap: channel reductions") {
  // C=2, H=1, W=2: channel 0 = [1, −3], channel 1 = [−2, 2].
  Tensor a(Shape{2, 1, 2}, {1.f, -3.f, -2.f, 2.f});
  CHECK(reduce_channels(a, ChannelReduction::max_abs).shape() == Shape{1, 2});
  const Tensor m = reduce_channels(a, ChannelReduction::max_abs);
  const Tensor s = reduce_channels(a, ChannelReduction::sum_abs);
  const Tensor t = reduce_channels(a, ChannelReduction::sum);
  CHECK(m[0] == 2.f);
  CHECK(m[1] == 3.f);
  CHECK(s[0] == 3.f);
  CHECK(s[1] == 5.f);
  CHECK(t[0] == -1.f);
  CHECK(t[1] == -1.f);
}

TEST_CASE("heatmap: percentile clipping and sign handling") {
  Tensor ramp(Shape{10, 10});
  for (int64_t i = 0; i < 100; ++i) ramp[i] = float(i + 1);  // 1..100
  CHECK(percentile(ramp, 99) == doctest::Approx(99.01));     // numpy.percentile(range(1, 101), 99)
  const Tensor clipped = display_values(ramp, Sign::absolute, 99);
  CHECK(clipped[99] == 1.f);
  CHECK(clipped[98] == doctest::Approx(99.0 / 99.01));  // just below the clip
  CHECK(clipped[49] == doctest::Approx(50.0 / 99.01));
  const Tensor unclipped = display_values(ramp, Sign::absolute, 100);
  CHECK(unclipped[49] == doctest::Approx(0.5));
  CHECK(unclipped[99] == 1.f);

  Tensor signed_map(Shape{1, 4}, {-4.f, -2.f, 0.f, 2.f});
  const Tensor all = display_values(signed_map, Sign::all, 100);
  CHECK(all[0] == 0.f);
  CHECK(all[1] == 0.25f);
  CHECK(all[2] == 0.5f);
  CHECK(all[3] == 0.75f);
  const Tensor pos = display_values(signed_map, Sign::positive, 100);
  CHECK(pos[0] == 0.f);
  CHECK(pos[3] == 1.f);
  const Tensor neg = display_values(signed_map, Sign::negative, 100);
  CHECK(neg[0] == 1.f);
  CHECK(neg[1] == 0.5f);
  CHECK(neg[3] == 0.f);
  const Tensor zero = display_values(Tensor(Shape{2, 2}), Sign::absolute, 99);
  for (int64_t i = 0; i < 4; ++i) CHECK(zero[i] == 0.f);
}

TEST_CASE("heatmap: overlay pixels by hand, colorize, enlarge") {
  Tensor image(Shape{3, 1, 1}, {0.2f, 0.4f, 0.6f});
  Tensor heat(Shape{3, 1, 1}, {1.f, 0.f, 0.5f});
  const Tensor o = overlay(image, heat, 0.25f);
  CHECK(o[0] == doctest::Approx(0.75 * 0.2 + 0.25 * 1.0));  // 0.4
  CHECK(o[1] == doctest::Approx(0.75 * 0.4));               // 0.3
  CHECK(o[2] == doctest::Approx(0.75 * 0.6 + 0.25 * 0.5));  // 0.575
  Tensor grey(Shape{1, 1, 1}, {0.8f});
  Tensor green(Shape{3, 1, 1}, {0.f, 1.f, 0.f});
  const Tensor g = overlay(grey, green, 0.5f);
  CHECK(g[0] == doctest::Approx(0.4));
  CHECK(g[1] == doctest::Approx(0.9));
  CHECK(g[2] == doctest::Approx(0.4));
  CHECK_THROWS_AS(overlay(grey, green, 1.5f), Error);

  Tensor values(Shape{1, 2}, {0.f, 1.f});
  const Tensor c = colorize(values, Colormap::gray);
  CHECK(c.shape() == Shape{3, 1, 2});
  CHECK(c[1] == 1.f);
  CHECK(c[2] == 0.f);
  Image8 small(1, 2, 3);
  small.at(0, 1)[0] = 200;
  const Image8 big = enlarge(small, 3);
  CHECK(big.height == 3);
  CHECK(big.width == 6);
  CHECK(big.at(2, 3)[0] == 200);
  CHECK(big.at(2, 2)[0] == 0);
}

TEST_CASE("display: method conventions and maps at the image size") {
  MethodInfo saliency;
  saliency.name = "saliency";
  saliency.family = "gradient";
  CHECK(display_convention(saliency).reduction == ChannelReduction::max_abs);
  CHECK(display_convention(saliency).sign == Sign::absolute);
  CHECK(display_convention(saliency).clip_percentile == 99);
  MethodInfo ixg = saliency;
  ixg.name = "input-x-gradient";
  CHECK(display_convention(ixg).reduction == ChannelReduction::sum);
  CHECK(display_convention(ixg).sign == Sign::positive);
  MethodInfo cam;
  cam.name = "grad-cam";
  cam.family = "cam";
  cam.layer_map = true;
  CHECK(display_convention(cam).clip_percentile == 100);
  MethodInfo fullgrad;
  fullgrad.name = "fullgrad";
  CHECK(display_convention(fullgrad).extra == "map");

  // A 2x2 layer map of example 1 upsampled to 4x4 (half-pixel bilinear).
  Explanation e;
  e.attribution = Tensor(Shape{2, 1, 2, 2}, {0, 0, 0, 0, 1, 2, 3, 4});
  const Tensor m = example_map(e, 1, display_convention(cam), ChannelReduction::sum, 4, 4);
  REQUIRE(m.shape() == Shape{4, 4});
  CHECK(m[0] == 1.f);
  CHECK(m[1] == doctest::Approx(1.25));  // x: src 0.25 → 1 + 0.25·(2 − 1)
  CHECK(m[15] == 4.f);
  // FullGrad shows its extra map when present.
  e.extras["map"] = Tensor(Shape{2, 1, 2, 2}, {9, 9, 9, 9, 5, 5, 5, 5});
  const Tensor fm = example_map(e, 0, display_convention(fullgrad), ChannelReduction::sum, 2, 2);
  CHECK(fm[0] == 9.f);
}

TEST_CASE("canvas: grid dimensions, cell placement and titles") {
  Image8 cell(112, 112, 3, 0);
  cell.at(0, 0)[1] = 77;
  const std::vector<std::vector<Image8>> rows = {{cell, cell, cell}, {cell, cell, cell}};
  const std::vector<std::string> titles = {"image", "gradient", "grad-cam"};
  for (const auto& t : titles) CHECK(text_width(t) < 112);
  const Image8 grid = compose_grid(rows, titles);
  CHECK(grid.width == 4 + 3 * (112 + 4));       // 352
  CHECK(grid.height == 4 + 16 + 2 * (112 + 4));  // 252
  CHECK(grid.channels == 3);
  // Row 1, column 2 starts at (4 + 16 + 116, 4 + 2·116).
  CHECK(grid.at(136, 236)[1] == 77);
  CHECK(grid.at(136, 235)[1] == 255);  // padding is white
  int dark = 0;  // the titles are drawn in the strip above the first row
  for (int64_t y = 4; y < 20; ++y)
    for (int64_t x = 0; x < grid.width; ++x) dark += grid.at(y, x)[0] == 0;
  CHECK(dark > 30);
  // A title wider than the cells widens its column.
  const std::string wide = "a title much wider than the cells below it";
  Image8 small(8, 8, 3, 0);
  const Image8 g2 = compose_grid({{small, small}}, {"x", wide});
  CHECK(text_width(wide) > 8);
  CHECK(g2.width == 4 + (8 + 4) + (text_width(wide) + 4));
  CHECK(g2.height == 4 + 16 + (8 + 4));
  CHECK_THROWS_AS(compose_grid({{small}}, {"a", "b"}), Error);
}

TEST_CASE("canvas: colour bars, wrapped text, row labels and the legend column") {
  // Vertical: t = 1 at the top, 0 at the bottom; horizontal: t = 0 at the left.
  const Image8 v = color_bar(Colormap::gray, 5, 2, true);
  CHECK(v.height == 5);
  CHECK(v.width == 2);
  CHECK(v.at(0, 1)[0] == 255);
  CHECK(v.at(2, 0)[0] == 128);  // t = 0.5 → 127.5, rounded up
  CHECK(v.at(4, 0)[0] == 0);
  const Image8 h = color_bar(Colormap::gray, 5, 3, false);
  CHECK(h.width == 5);
  CHECK(h.at(2, 0)[0] == 0);
  CHECK(h.at(0, 4)[0] == 255);
  const std::vector<std::string> lines = wrap_text("each tile is scaled on its own", 40);
  CHECK(lines.size() > 1);
  for (const auto& l : lines) CHECK((text_width(l) <= 40 || l.find(' ') == std::string::npos));

  Image8 cell(20, 20, 3, 100);
  GridDecorations d;
  d.row_labels = {{"first row label"}};
  d.bars = {{Colormap::jet, "jet: m", "max", "", "0"}};
  d.note = "scaled alone";
  const Image8 g = compose_grid({{cell}}, {"m"}, d);
  const int64_t band = text_width("first row label") + 4;
  CHECK(g.width == 4 + band + (20 + 4) + 4 + 130 + 4);
  CHECK(g.at(4 + 16, 4 + band)[0] == 100);  // the cell starts after the label band
  // The bar (64 pixels, the minimum) starts below the caption: its top is jet(1), its bottom jet(0).
  const int64_t bar_x = 4 + band + 24 + 4, bar_y = 4 + 16 + 11 + 2;
  CHECK(g.at(bar_y, bar_x)[0] == 128);      // jet(1) = (0.5, 0, 0)
  CHECK(g.at(bar_y + 63, bar_x)[2] == 128); // jet(0) = (0, 0, 0.5)
  CHECK(g.height >= bar_y + 64);
  CHECK_THROWS_AS(compose_grid({{cell}}, {"m"}, GridDecorations{{{"a"}, {"b"}}, {}, ""}), Error);
}
