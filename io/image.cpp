#include "io/image.h"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <fstream>
#include <sstream>

#include "engine/error.h"
#include "io/atomic_file.h"

#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wmissing-field-initializers"
#pragma GCC diagnostic ignored "-Wunused-function"
#pragma GCC diagnostic ignored "-Wsign-compare"
#pragma GCC diagnostic ignored "-Wunused-parameter"
#pragma GCC diagnostic ignored "-Wimplicit-fallthrough"
#pragma GCC diagnostic ignored "-Wunused-but-set-variable"
#define STB_IMAGE_IMPLEMENTATION
#define STBI_FAILURE_USERMSG
#include <stb_image.h>
#define STB_IMAGE_WRITE_IMPLEMENTATION
#include <stb_image_write.h>
#pragma GCC diagnostic pop

namespace gradlens {

namespace {
std::string read_bytes(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  GL_CHECK(in, path, ": cannot open the image file");
  std::ostringstream ss;
  ss << in.rdbuf();
  GL_CHECK(!in.bad(), path, ": read error");
  return ss.str();
}

void append_bytes(void* context, void* data, int size) {
  static_cast<std::string*>(context)->append(static_cast<const char*>(data), size_t(size));
}
}  // namespace

Tensor decode_image(const std::string& bytes, const std::string& name) {
  GL_CHECK(!bytes.empty(), name, ": empty file, not an image");
  GL_CHECK(bytes.size() < size_t(1) << 31, name, ": file too large to decode");
  const auto* data = reinterpret_cast<const stbi_uc*>(bytes.data());
  const int length = int(bytes.size());
  int width = 0, height = 0, stored_channels = 0;
  GL_CHECK(stbi_info_from_memory(data, length, &width, &height, &stored_channels), name,
           ": not a readable image (", stbi_failure_reason(), ")");
  GL_CHECK(int64_t(width) * height * 3 <= kMaxTensorElements, name, ": image of ", width, "x", height,
           " is too large");
  // Grey and grey+alpha read as one channel, RGB and RGBA as three: alpha is dropped.
  const int channels = stored_channels <= 2 ? 1 : 3;
  Tensor out(Shape{channels, height, width});
  const int64_t plane = int64_t(width) * height;
  auto scatter = [&](const auto* pixels, float full_scale) {
    for (int64_t i = 0; i < plane; ++i)
      for (int c = 0; c < channels; ++c) out[c * plane + i] = float(pixels[i * channels + c]) / full_scale;
  };
  if (stbi_is_16_bit_from_memory(data, length)) {
    stbi_us* pixels = stbi_load_16_from_memory(data, length, &width, &height, &stored_channels, channels);
    GL_CHECK(pixels, name, ": cannot decode the image (", stbi_failure_reason(), ")");
    scatter(pixels, 65535.f);
    stbi_image_free(pixels);
  } else {
    stbi_uc* pixels = stbi_load_from_memory(data, length, &width, &height, &stored_channels, channels);
    GL_CHECK(pixels, name, ": cannot decode the image (", stbi_failure_reason(), ")");
    scatter(pixels, 255.f);
    stbi_image_free(pixels);
  }
  return out;
}

Tensor read_image(const std::string& path) { return decode_image(read_bytes(path), path); }

Image8 to_image8(const Tensor& chw) {
  GL_CHECK(chw.rank() == 3 && (chw.dim(0) == 1 || chw.dim(0) == 3),
           "an image to render must be [1 or 3, H, W], got ", chw.shape().str());
  const int64_t C = chw.dim(0), H = chw.dim(1), W = chw.dim(2), plane = H * W;
  Image8 img(H, W, C);
  for (int64_t i = 0; i < plane; ++i)
    for (int64_t c = 0; c < C; ++c) {
      const float v = std::clamp(chw[c * plane + i], 0.f, 1.f);
      img.pixels[size_t(i * C + c)] = uint8_t(std::lround(v * 255.f));
    }
  return img;
}

std::string encode_png(const Image8& image) {
  GL_CHECK(image.channels >= 1 && image.channels <= 4 && image.height > 0 && image.width > 0 &&
               int64_t(image.pixels.size()) == image.height * image.width * image.channels,
           "PNG encoding of an invalid image (", image.height, "x", image.width, "x", image.channels, ")");
  std::string bytes;
  const int ok = stbi_write_png_to_func(append_bytes, &bytes, int(image.width), int(image.height),
                                        int(image.channels), image.pixels.data(),
                                        int(image.width * image.channels));
  GL_CHECK(ok, "PNG encoding failed (", image.height, "x", image.width, ")");
  return bytes;
}

void write_png(const std::string& path, const Image8& image) {
  std::string bytes;
  try {
    bytes = encode_png(image);
  } catch (const Error& e) {
    fail(path, ": ", e.what());
  }
  write_file_atomically(path, bytes);
}

bool has_image_extension(const std::string& path) {
  const size_t dot = path.find_last_of('.');
  if (dot == std::string::npos || path.find('/', dot) != std::string::npos) return false;
  std::string ext = path.substr(dot + 1);
  for (char& ch : ext) ch = char(std::tolower(static_cast<unsigned char>(ch)));
  return ext == "png" || ext == "jpg" || ext == "jpeg" || ext == "bmp";
}

}  // namespace gradlens
