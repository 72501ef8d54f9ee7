// Test-only protobuf encoder: builds wire-format bytes field by field, so tests can make small
// ONNX models and TensorProtos (and malformed ones) without libprotobuf.
#pragma once
#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>
#include <vector>

namespace gradlens::test {

class PbWriter {
 public:
  const std::string& bytes() const { return out_; }

  PbWriter& raw(std::string_view b) { out_.append(b); return *this; }
  PbWriter& varint(uint64_t v) {
    do {
      uint8_t byte = v & 0x7f;
      v >>= 7;
      out_.push_back(char(v ? byte | 0x80 : byte));
    } while (v);
    return *this;
  }
  PbWriter& tag(uint32_t field, int wire) { return varint(uint64_t(field) << 3 | uint64_t(wire)); }

  PbWriter& u64(uint32_t field, uint64_t v) { return tag(field, 0).varint(v); }
  PbWriter& i64(uint32_t field, int64_t v) { return u64(field, uint64_t(v)); }
  PbWriter& f32(uint32_t field, float v) { tag(field, 5); return put(&v, 4); }
  PbWriter& f64(uint32_t field, double v) { tag(field, 1); return put(&v, 8); }
  PbWriter& fixed32(uint32_t field, uint32_t v) { tag(field, 5); return put(&v, 4); }
  PbWriter& fixed64(uint32_t field, uint64_t v) { tag(field, 1); return put(&v, 8); }
  PbWriter& str(uint32_t field, std::string_view s) {
    tag(field, 2).varint(s.size());
    return raw(s);
  }
  PbWriter& msg(uint32_t field, const PbWriter& m) { return str(field, m.bytes()); }

  PbWriter& packed_varints(uint32_t field, const std::vector<int64_t>& v) {
    PbWriter p;
    for (int64_t x : v) p.varint(uint64_t(x));
    return msg(field, p);
  }
  PbWriter& packed_floats(uint32_t field, const std::vector<float>& v) {
    return str(field, std::string_view(reinterpret_cast<const char*>(v.data()), v.size() * 4));
  }
  PbWriter& packed_doubles(uint32_t field, const std::vector<double>& v) {
    return str(field, std::string_view(reinterpret_cast<const char*>(v.data()), v.size() * 8));
  }

 private:
  PbWriter& put(const void* p, size_t n) {
    out_.append(static_cast<const char*>(p), n);
    return *this;
  }
  std::string out_;
};

}  // namespace gradlens::test
