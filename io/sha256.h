// SHA-256 (FIPS 180-4) of bytes and files, as lowercase hex: the fingerprints of models, inputs
// and results in reproducibility receipts.
#pragma once
#include <array>
#include <cstdint>
#include <string>
#include <string_view>

namespace gradlens {

class Sha256 {
 public:
  Sha256();
  void update(const void* data, size_t size);
  void update(std::string_view bytes) { update(bytes.data(), bytes.size()); }
  std::string hex();  // finishes; the object must not be updated afterwards

 private:
  void block(const uint8_t* p);  // one 64-byte block (§6.2.2)
  std::array<uint32_t, 8> h_;
  std::array<uint8_t, 64> buffer_;
  size_t buffered_ = 0;
  uint64_t length_ = 0;  // bytes hashed so far
};

std::string sha256_hex(std::string_view bytes);
// Streams the file; Error naming it when it cannot be read.
std::string sha256_file(const std::string& path);

}  // namespace gradlens
