#include "io/image.h"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "engine/error.h"
#include "engine/memory.h"
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
// Only the formats the README promises are compiled in (GIF, PSD, HDR, PNM, TGA, PIC are not).
#define STBI_ONLY_PNG
#define STBI_ONLY_JPEG
#define STBI_ONLY_BMP
#define STBI_NO_STDIO
#define STBI_MAX_DIMENSIONS 65536
#include <stb_image.h>
#define STB_IMAGE_WRITE_IMPLEMENTATION
#include <stb_image_write.h>
#pragma GCC diagnostic pop

namespace gradlens {

namespace {
std::string read_bytes(const std::string& path) {
  std::error_code ec;
  GL_CHECK(std::filesystem::is_regular_file(path, ec), path, ": not a regular file (or missing)");
  check_memory(int64_t(std::filesystem::file_size(path, ec)), (path + ": reading the file").c_str());
  std::ifstream in(path, std::ios::binary);
  GL_CHECK(in, path, ": cannot open the image file");
  std::ostringstream ss;
  ss << in.rdbuf();
  GL_CHECK(!in.bad(), path, ": read error");
  return ss.str();
}

// The format from the file's first bytes (the extension is not trusted): PNG, JPEG or BMP.
enum class ImageFormat { png, jpeg, bmp };
ImageFormat sniff_format(const std::string& b, const std::string& name) {
  if (b.compare(0, 8, "\x89PNG\r\n\x1a\n") == 0) return ImageFormat::png;
  if (b.size() >= 3 && uint8_t(b[0]) == 0xFF && uint8_t(b[1]) == 0xD8 && uint8_t(b[2]) == 0xFF)
    return ImageFormat::jpeg;
  if (b.compare(0, 2, "BM") == 0) return ImageFormat::bmp;
  fail(name, ": not a PNG, JPEG or BMP file (by its first bytes)");
}

// Width and height as the file's header declares them (0 when it is too short to say), read
// here so that the size is checked before any decoder runs: PNG's IHDR, BMP's info header,
// JPEG's first SOFn segment (found by check_jpeg_tables).
int64_t be(const std::string& b, size_t at, int n) {
  int64_t v = 0;
  for (int i = 0; i < n; ++i) v = v << 8 | (at + size_t(i) < b.size() ? uint8_t(b[at + size_t(i)]) : 0);
  return v;
}
int64_t le32(const std::string& b, size_t at) {
  uint32_t v = 0;
  for (int i = 3; i >= 0; --i) v = v << 8 | (at + size_t(i) < b.size() ? uint8_t(b[at + size_t(i)]) : 0);
  return int64_t(int32_t(v));
}

// Guards stb_image 2.27's JPEG Huffman code (stb issues #1289/#1291, fixed upstream in 2.28):
// every DHT table must hold at most 256 codes whose lengths form a valid prefix code, else stb
// writes past its 257-entry tables. Walks the marker segments up to the first scan; tables
// defined after it (progressive JPEGs define some between scans) are walked too.
void check_jpeg_tables(const std::string& b, const std::string& name, int64_t& width, int64_t& height) {
  size_t at = 2;
  auto byte = [&](size_t i) -> unsigned { return i < b.size() ? uint8_t(b[i]) : 0u; };
  while (at + 4 <= b.size()) {
    if (byte(at) != 0xFF) {  // entropy-coded data: skip to the next marker
      ++at;
      continue;
    }
    const unsigned marker = byte(at + 1);
    if (marker == 0xFF || marker == 0x00 || (marker >= 0xD0 && marker <= 0xD7) || marker == 0x01) {
      at += marker == 0xFF ? 1 : 2;
      continue;
    }
    if (marker == 0xD9) return;  // end of image
    const size_t length = byte(at + 2) << 8 | byte(at + 3);
    GL_CHECK(length >= 2 && at + 2 + length <= b.size(), name, ": corrupt JPEG (segment 0x",
             std::hex, marker, " overruns the file)");
    const bool sof = marker >= 0xC0 && marker <= 0xCF && marker != 0xC4 && marker != 0xC8 && marker != 0xCC;
    if (sof && width == 0 && length >= 7) {  // SOFn: precision, height, width
      height = be(b, at + 5, 2);
      width = be(b, at + 7, 2);
    }
    if (marker == 0xC4) {  // DHT: one or more tables of 1 + 16 + n bytes
      size_t p = at + 4;
      const size_t end = at + 2 + length;
      while (p < end) {
        GL_CHECK(p + 17 <= end && (byte(p) >> 4) <= 1 && (byte(p) & 15) <= 3, name,
                 ": corrupt JPEG (bad Huffman table header)");
        unsigned total = 0, code = 0;
        for (unsigned len = 1; len <= 16; ++len) {
          const unsigned count = byte(p + len);
          total += count;
          code += count;
          GL_CHECK(code <= (1u << len), name, ": corrupt JPEG (Huffman code lengths overflow)");
          code <<= 1;
        }
        GL_CHECK(total <= 256 && p + 17 + total <= end, name,
                 ": corrupt JPEG (Huffman table of ", total, " codes)");
        p += 17 + total;
      }
    }
    at += 2 + length;
  }
}

// Drops empty IDAT chunks: they carry no data, and stb_image 2.27 copies a zero-length first IDAT
// to a null buffer (memcpy(NULL, src, 0), undefined behaviour; found by fuzz_image). Returns the
// empty string when the file has none (the common case: no copy); a malformed chunk list is left
// for stb to report.
std::string without_empty_idat(const std::string& b) {
  std::string out;
  size_t at = 8, kept = 0;  // after the signature
  while (at + 12 <= b.size()) {
    const int64_t length = be(b, at, 4);
    if (length < 0 || uint64_t(length) > b.size() - at - 12) break;
    const size_t next = at + 12 + size_t(length);
    if (length == 0 && b.compare(at + 4, 4, "IDAT") == 0) {
      out.append(b, kept, at - kept);
      kept = next;
    }
    at = next;
  }
  if (kept == 0) return {};
  out.append(b, kept, std::string::npos);
  return out;
}

void append_bytes(void* context, void* data, int size) {
  static_cast<std::string*>(context)->append(static_cast<const char*>(data), size_t(size));
}
}  // namespace

Tensor decode_image(const std::string& file, const std::string& name) {
  GL_CHECK(!file.empty(), name, ": empty file, not an image");
  const std::string cleaned = sniff_format(file, name) == ImageFormat::png ? without_empty_idat(file) : "";
  const std::string& bytes = cleaned.empty() ? file : cleaned;
  GL_CHECK(bytes.size() < size_t(1) << 31, name, ": file too large to decode");
  const auto* data = reinterpret_cast<const stbi_uc*>(bytes.data());
  const int length = int(bytes.size());
  int width = 0, height = 0, stored_channels = 0;
  int64_t declared_w = 0, declared_h = 0;
  switch (sniff_format(bytes, name)) {
    case ImageFormat::png: declared_w = be(bytes, 16, 4), declared_h = be(bytes, 20, 4); break;
    case ImageFormat::bmp:  // BITMAPCOREHEADER (12 bytes) has 16-bit sizes, later headers 32-bit
      if (le32(bytes, 14) == 12) declared_w = le32(bytes, 18) & 0xffff, declared_h = le32(bytes, 20) & 0xffff;
      else declared_w = std::abs(le32(bytes, 18)), declared_h = std::abs(le32(bytes, 22));
      break;
    case ImageFormat::jpeg: check_jpeg_tables(bytes, name, declared_w, declared_h); break;
  }
  GL_CHECK(double(declared_w) * double(declared_h) <= double(kMaxImagePixels), name, ": image of ",
           declared_w, "x", declared_h, " exceeds the limit of ", kMaxImagePixels, " pixels");
  GL_CHECK(stbi_info_from_memory(data, length, &width, &height, &stored_channels), name,
           ": not a readable image (", stbi_failure_reason(), ")");
  // The header's size is checked before stb allocates anything: at most kMaxImagePixels, and
  // stb's buffer plus the float tensor within the memory limit.
  GL_CHECK(width > 0 && height > 0 && int64_t(width) * height <= kMaxImagePixels, name,
           ": image of ", width, "x", height, " exceeds the limit of ", kMaxImagePixels, " pixels");
  check_memory(int64_t(width) * height * (4 * 2 + 3 * int64_t(sizeof(float))),
               (name + ": decoding an image of " + std::to_string(width) + "x" +
                std::to_string(height))
                   .c_str());
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
