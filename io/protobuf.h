// Protobuf wire-format reader: walks the fields of one message held in memory (no schema, no
// libprotobuf). Every length and offset is checked against the buffer, so truncated or garbage
// input throws gradlens::Error naming `source` and the byte offset; unknown fields and groups are
// skipped as protobuf does. Nothing is allocated beyond what the caller asks for, and repeated
// scalar fields (packed or not) grow only by elements actually present in the input.
#pragma once
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace gradlens::pb {

enum class WireType : uint8_t { varint = 0, fixed64 = 1, bytes = 2, group_start = 3, group_end = 4, fixed32 = 5 };

class Reader {
 public:
  // Reads the message that fills `buffer`; `source` (a file name) starts every error message.
  Reader(std::string_view buffer, std::string source);

  // Moves to the next field; false at the end of the message. The field's value is read (and
  // bounds-checked) eagerly; accessors below convert it and check its wire type.
  bool next();
  uint32_t field() const { return field_; }
  WireType wire() const { return wire_; }
  size_t offset() const { return field_offset_; }  // absolute offset of the current tag
  const std::string& source() const { return source_; }

  uint64_t as_uint64() const;  // varint
  int64_t as_int64() const;    // varint, two's complement (int64, and enums/int32 sign-extended)
  int32_t as_int32() const;    // varint truncated to 32 bits as protobuf does
  float as_float() const;      // fixed32
  double as_double() const;    // fixed64
  std::string_view as_bytes() const;  // length-delimited payload
  std::string as_string() const { return std::string(as_bytes()); }
  Reader as_message() const;   // a reader over the length-delimited payload

  // Repeated scalar fields: append one element (unpacked encoding) or every element of a packed
  // payload (wire type bytes).
  void append_varints(std::vector<int64_t>& out) const;
  void append_floats(std::vector<float>& out) const;    // fixed32
  void append_doubles(std::vector<double>& out) const;  // fixed64

  [[noreturn]] void fail_here(const std::string& what) const;

 private:
  Reader(std::string_view buffer, size_t begin, size_t end, const std::string& source);
  uint64_t read_varint(size_t& pos, size_t end) const;
  void skip_group(uint32_t number);
  void expect(WireType w, const char* what) const;

  std::string_view buf_;
  size_t pos_, end_;
  std::string source_;
  uint32_t field_ = 0;
  WireType wire_ = WireType::varint;
  size_t field_offset_ = 0;
  uint64_t scalar_ = 0;                // varint / fixed32 / fixed64 value
  size_t payload_ = 0, payload_len_ = 0;  // length-delimited payload
};

}  // namespace gradlens::pb
