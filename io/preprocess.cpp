#include "io/preprocess.h"

#include <cmath>

#include "engine/enum_table.h"
#include "engine/error.h"
#include "engine/resample.h"
#include "io/image.h"

namespace gradlens {

namespace {
std::string list(const std::vector<float>& v) {
  std::string s = "(";
  for (size_t i = 0; i < v.size(); ++i) s += (i ? ", " : "") + str(v[i]);
  return s + ")";
}

Tensor crop(const Tensor& chw, int64_t top, int64_t left, int64_t height, int64_t width) {
  const int64_t C = chw.dim(0), H = chw.dim(1), W = chw.dim(2);
  Tensor out(Shape{C, height, width});
  for (int64_t c = 0; c < C; ++c)
    for (int64_t y = 0; y < height; ++y)
      for (int64_t x = 0; x < width; ++x)
        out[(c * height + y) * width + x] = chw[(c * H + top + y) * W + left + x];
  return out;
}

Tensor resize_chw(const Tensor& chw, int64_t height, int64_t width) {
  if (chw.dim(1) == height && chw.dim(2) == width) return chw;
  Tensor batched = chw.reshaped(Shape{1, chw.dim(0), chw.dim(1), chw.dim(2)});
  Tensor out = resize(batched, height, width, Resample::bilinear);
  return out.reshaped(Shape{chw.dim(0), height, width});
}
}  // namespace

int64_t centre_crop_offset(int64_t size, int64_t crop) {
  return int64_t(std::nearbyint(double(size - crop) / 2.0));  // default rounding: half to even
}

std::string Preprocessing::describe() const {
  std::string s = "preset " + preset + ":";
  std::vector<std::string> steps;
  if (height > 0) steps.push_back(str("resize to ", height, "x", width));
  if (shorter_side > 0) steps.push_back(str("resize shorter side to ", shorter_side));
  if (crop_height > 0) steps.push_back(str("centre crop ", crop_height, "x", crop_width));
  if (height == 0 && shorter_side == 0 && crop_height == 0) steps.push_back("no resize");
  steps.push_back(channels == 1 ? "grey" : channels == 3 ? "RGB" : "image's channels");
  steps.push_back("[0,1]");
  if (!mean.empty()) steps.push_back("mean " + list(mean));
  if (!std.empty()) steps.push_back("std " + list(std));
  for (size_t i = 0; i < steps.size(); ++i) s += (i ? ", " : " ") + steps[i];
  return s;
}

namespace {
enum class Preset { none, imagenet, fashion_mnist };
const EnumName<Preset> kPresets[] = {
    {"none", Preset::none}, {"imagenet", Preset::imagenet}, {"fashion-mnist", Preset::fashion_mnist}};
}  // namespace

std::string preset_names() { return enum_choices(kPresets, "|", "|"); }

Preprocessing preset_preprocessing(const std::string& name, int64_t channels, int64_t height, int64_t width) {
  const Preset preset = enum_value(kPresets, name, "preset");
  Preprocessing p;
  p.preset = name;
  p.channels = channels == 1 || channels == 3 ? channels : 0;
  switch (preset) {
    case Preset::none:
      if (height > 0 && width > 0) {
        p.height = height;
        p.width = width;
      }
      break;
    case Preset::imagenet:
      p.shorter_side = 256;
      p.crop_height = p.crop_width = 224;
      p.mean = {0.485f, 0.456f, 0.406f};
      p.std = {0.229f, 0.224f, 0.225f};
      break;
    case Preset::fashion_mnist:
      p.height = p.width = 28;
      p.channels = 1;
      p.mean = {0.2860f};
      p.std = {0.3530f};
      break;
  }
  return p;
}

PreparedImage prepare_image(const Tensor& image, const Preprocessing& p, const std::string& name) {
  GL_CHECK(image.rank() == 3 && (image.dim(0) == 1 || image.dim(0) == 3), name,
           ": expected a [1 or 3, H, W] image, got ", image.shape().str());
  GL_CHECK(!(p.height > 0 && (p.shorter_side > 0 || p.crop_height > 0)), name,
           ": a direct resize (--size) excludes --resize and --crop");
  Tensor t = image;
  GL_CHECK(double(p.height) * double(p.width) <= double(kMaxImagePixels), name, ": --size ", p.height, "x",
           p.width, " exceeds the limit of ", kMaxImagePixels, " pixels");
  if (p.height > 0) t = resize_chw(t, p.height, p.width);
  // The resized size (shorter side, if asked) and the centre crop of it; resize and crop run as
  // one windowed resize, so only the kept pixels are computed.
  int64_t resized_h = t.dim(1), resized_w = t.dim(2);
  if (p.shorter_side > 0) {
    const int64_t H = t.dim(1), W = t.dim(2);
    resized_h = H <= W ? p.shorter_side : int64_t(double(p.shorter_side) * double(H) / double(W));
    resized_w = H <= W ? int64_t(double(p.shorter_side) * double(W) / double(H)) : p.shorter_side;
    GL_CHECK(resized_h > 0 && resized_w > 0, name, ": resizing ", H, "x", W, " to shorter side ", p.shorter_side,
             " leaves nothing");
    // A thin strip (1 × 16384 at shorter side 256) would grow to 256 × 4194304: bounded.
    GL_CHECK(double(resized_h) * double(resized_w) <= double(kMaxImagePixels), name, ": resizing ", H, "x", W,
             " to shorter side ", p.shorter_side, " gives ", resized_h, "x", resized_w, ", over the limit of ",
             kMaxImagePixels, " pixels");
  }
  Window window{0, 0, resized_h, resized_w};
  if (p.crop_height > 0) {
    GL_CHECK(p.crop_height <= resized_h && p.crop_width <= resized_w, name, ": cannot crop ", p.crop_height, "x",
             p.crop_width, " from ", resized_h, "x", resized_w, (p.shorter_side > 0 ? " (after --resize)" : ""));
    window = {centre_crop_offset(resized_h, p.crop_height), centre_crop_offset(resized_w, p.crop_width),
              p.crop_height, p.crop_width};
  }
  if (resized_h != t.dim(1) || resized_w != t.dim(2)) {
    const Tensor batched = t.reshaped(Shape{1, t.dim(0), t.dim(1), t.dim(2)});
    t = resize_window(batched, resized_h, resized_w, Resample::bilinear, window)
            .reshaped(Shape{t.dim(0), window.height, window.width});
  } else if (p.crop_height > 0) {
    t = crop(t, window.top, window.left, window.height, window.width);
  }
  PreparedImage out;
  out.display = t;
  const int64_t C = t.dim(0), H = t.dim(1), W = t.dim(2), plane = H * W;
  const int64_t channels = p.channels ? p.channels : C;
  GL_CHECK(channels == 1 || channels == 3, name, ": cannot convert to ", channels, " channels");
  Tensor x(Shape{channels, H, W});
  if (channels == C) {
    x.copy_from(t);
  } else if (channels == 1) {  // RGB → luma
    for (int64_t i = 0; i < plane; ++i) x[i] = 0.299f * t[i] + 0.587f * t[plane + i] + 0.114f * t[2 * plane + i];
  } else {  // grey → RGB
    for (int64_t c = 0; c < 3; ++c)
      for (int64_t i = 0; i < plane; ++i) x[c * plane + i] = t[i];
  }
  auto per_channel = [&](const std::vector<float>& v, const char* what, int64_t c) {
    GL_CHECK(v.size() == 1 || int64_t(v.size()) == channels, name, ": --", what, " gives ", v.size(),
             " values for ", channels, " channels (give one, or one per channel)");
    return v.size() == 1 ? v[0] : v[size_t(c)];
  };
  for (int64_t c = 0; c < channels; ++c) {
    const float m = p.mean.empty() ? 0.f : per_channel(p.mean, "mean", c);
    const float s = p.std.empty() ? 1.f : per_channel(p.std, "std", c);
    GL_CHECK(s != 0.f, name, ": --std has a zero");
    for (int64_t i = 0; i < plane; ++i) x[c * plane + i] = (x[c * plane + i] - m) / s;
  }
  out.input = x;
  return out;
}

}  // namespace gradlens
