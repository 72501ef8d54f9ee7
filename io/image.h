// Image files through stb_image (reading PNG, JPEG, BMP only — recognised by their first bytes,
// whatever the extension; stb's other decoders are not compiled in) and stb_image_write (PNG out).
// Hostile files: the header's width × height is checked against kMaxImagePixels and the memory
// limit (engine/memory.h) before stb allocates; JPEG Huffman tables are validated before stb
// 2.27 sees them (its DHT parser overruns on tables of more than 256 codes, stb #1289/#1291).
//   read_image: [C, H, W] float32 in [0, 1] (8-bit samples / 255, 16-bit PNG samples / 65535),
//               C = 1 for grey and grey+alpha files, 3 for RGB and RGBA (alpha is dropped).
//   Image8:     8-bit interleaved pixels (H × W × channels) for rendering; to_image8 rounds
//               v·255 to nearest after clamping to [0, 1].
//   write_png:  atomic (temporary file + rename, io/atomic_file.h).
// Every failure is an Error naming the file.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "engine/tensor.h"

namespace gradlens {

struct Image8 {
  int64_t height = 0, width = 0, channels = 0;  // channels 1 (grey), 3 (RGB) or 4 (RGBA)
  std::vector<uint8_t> pixels;                  // row-major, interleaved: (y·W + x)·channels + c
  Image8() = default;
  Image8(int64_t h, int64_t w, int64_t c, uint8_t fill = 0)
      : height(h), width(w), channels(c), pixels(size_t(h * w * c), fill) {}
  uint8_t* at(int64_t y, int64_t x) { return pixels.data() + (y * width + x) * channels; }
  const uint8_t* at(int64_t y, int64_t x) const { return pixels.data() + (y * width + x) * channels; }
};

// Largest image read or produced by preprocessing: 2^25 pixels (e.g. 8192 × 4096).
constexpr int64_t kMaxImagePixels = int64_t(1) << 25;

Tensor read_image(const std::string& path);
// Decodes an in-memory file; `name` is used in error messages.
Tensor decode_image(const std::string& bytes, const std::string& name);

// [C, H, W] with C = 1 or 3 → Image8.
Image8 to_image8(const Tensor& chw);
// PNG file contents (zlib compressed by stb_image_write).
std::string encode_png(const Image8& image);
void write_png(const std::string& path, const Image8& image);

// Extensions read_image is meant for, case-insensitive: .png .jpg .jpeg .bmp.
bool has_image_extension(const std::string& path);

}  // namespace gradlens
