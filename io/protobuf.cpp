#include "io/protobuf.h"

#include <cstring>

#include "engine/error.h"

#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ != __ORDER_LITTLE_ENDIAN__
#error "the protobuf reader assumes a little-endian host (fixed32/fixed64 are copied as is)"
#endif

namespace gradlens::pb {

Reader::Reader(std::string_view buffer, std::string source)
    : buf_(buffer), pos_(0), end_(buffer.size()), source_(std::move(source)) {}

Reader::Reader(std::string_view buffer, size_t begin, size_t end, const std::string& source)
    : buf_(buffer), pos_(begin), end_(end), source_(source) {}

void Reader::fail_here(const std::string& what) const {
  fail(source_, ": ", what, " (field ", field_, " at byte ", field_offset_, ")");
}

uint64_t Reader::read_varint(size_t& pos, size_t end) const {
  uint64_t value = 0;
  for (int shift = 0; shift < 70; shift += 7) {
    if (pos >= end) fail(source_, ": truncated varint at byte ", pos);
    uint8_t byte = uint8_t(buf_[pos++]);
    if (shift == 63 && byte > 1) fail(source_, ": varint overflows 64 bits at byte ", pos - 1);
    value |= uint64_t(byte & 0x7f) << shift;
    if (!(byte & 0x80)) return value;
  }
  fail(source_, ": varint longer than 10 bytes at byte ", pos);
}

bool Reader::next() {
  for (;;) {
    if (pos_ >= end_) return false;
    field_offset_ = pos_;
    uint64_t tag = read_varint(pos_, end_);
    uint64_t number = tag >> 3;
    if (number == 0 || number > 0x1fffffff)
      fail(source_, ": invalid field number ", number, " at byte ", field_offset_);
    field_ = uint32_t(number);
    uint8_t w = uint8_t(tag & 7);
    switch (w) {
      case 0:
        scalar_ = read_varint(pos_, end_);
        break;
      case 1:
        if (end_ - pos_ < 8) fail_here("truncated fixed64");
        std::memcpy(&scalar_, buf_.data() + pos_, 8);  // little-endian host
        pos_ += 8;
        break;
      case 5: {
        if (end_ - pos_ < 4) fail_here("truncated fixed32");
        uint32_t v;
        std::memcpy(&v, buf_.data() + pos_, 4);
        scalar_ = v;
        pos_ += 4;
        break;
      }
      case 2: {
        uint64_t len = read_varint(pos_, end_);
        if (len > end_ - pos_)
          fail_here(str("length ", len, " runs past the end of its message (", end_ - pos_,
                        " bytes left)"));
        payload_ = pos_;
        payload_len_ = size_t(len);
        pos_ += size_t(len);
        break;
      }
      case 3:
        skip_group(field_);
        continue;  // groups are never wanted: skip like any unknown field
      case 4:
        fail_here("unmatched end-group tag");
      default:
        fail(source_, ": invalid wire type ", int(w), " at byte ", field_offset_);
    }
    wire_ = WireType(w);
    return true;
  }
}

// Skips a (possibly nested) group whose start tag has just been read.
void Reader::skip_group(uint32_t number) {
  std::vector<uint32_t> open{number};
  while (!open.empty()) {
    if (pos_ >= end_) fail(source_, ": unterminated group ", open.back());
    size_t at = pos_;
    uint64_t tag = read_varint(pos_, end_);
    uint64_t n = tag >> 3;
    if (n == 0 || n > 0x1fffffff) fail(source_, ": invalid field number ", n, " at byte ", at);
    switch (tag & 7) {
      case 0: read_varint(pos_, end_); break;
      case 1:
        if (end_ - pos_ < 8) fail(source_, ": truncated fixed64 at byte ", at);
        pos_ += 8;
        break;
      case 5:
        if (end_ - pos_ < 4) fail(source_, ": truncated fixed32 at byte ", at);
        pos_ += 4;
        break;
      case 2: {
        uint64_t len = read_varint(pos_, end_);
        if (len > end_ - pos_) fail(source_, ": length ", len, " runs past the end at byte ", at);
        pos_ += size_t(len);
        break;
      }
      case 3: open.push_back(uint32_t(n)); break;
      case 4:
        if (n != open.back()) fail(source_, ": mismatched end-group tag at byte ", at);
        open.pop_back();
        break;
      default: fail(source_, ": invalid wire type ", int(tag & 7), " at byte ", at);
    }
  }
}

static const char* wire_name(WireType w) {
  switch (w) {
    case WireType::varint: return "varint";
    case WireType::fixed64: return "fixed64";
    case WireType::bytes: return "length-delimited";
    case WireType::fixed32: return "fixed32";
    default: return "group";
  }
}

void Reader::expect(WireType w, const char* what) const {
  if (wire_ != w)
    fail_here(str("expected ", what, " (", wire_name(w), "), found wire type ", wire_name(wire_)));
}

uint64_t Reader::as_uint64() const {
  expect(WireType::varint, "a varint");
  return scalar_;
}
int64_t Reader::as_int64() const { return int64_t(as_uint64()); }
int32_t Reader::as_int32() const { return int32_t(uint32_t(as_uint64())); }

float Reader::as_float() const {
  expect(WireType::fixed32, "a float");
  uint32_t bits = uint32_t(scalar_);
  float f;
  std::memcpy(&f, &bits, 4);
  return f;
}

double Reader::as_double() const {
  expect(WireType::fixed64, "a double");
  double d;
  std::memcpy(&d, &scalar_, 8);
  return d;
}

std::string_view Reader::as_bytes() const {
  expect(WireType::bytes, "a length-delimited value");
  return buf_.substr(payload_, payload_len_);
}

Reader Reader::as_message() const {
  expect(WireType::bytes, "an embedded message");
  return Reader(buf_, payload_, payload_ + payload_len_, source_);
}

void Reader::append_varints(std::vector<int64_t>& out) const {
  if (wire_ == WireType::varint) {
    out.push_back(int64_t(scalar_));
    return;
  }
  expect(WireType::bytes, "varints");
  size_t count = 0;  // every varint ends in exactly one byte without the continuation bit
  for (size_t i = payload_; i < payload_ + payload_len_; ++i) count += !(uint8_t(buf_[i]) & 0x80);
  out.reserve(out.size() + count);
  size_t pos = payload_, end = payload_ + payload_len_;
  while (pos < end) out.push_back(int64_t(read_varint(pos, end)));
}

namespace {
template <class T>
void append_fixed(const Reader& r, std::string_view payload, std::vector<T>& out) {
  if (payload.size() % sizeof(T) != 0)
    r.fail_here(str("packed payload of ", payload.size(), " bytes is not a multiple of ", sizeof(T)));
  size_t n = payload.size() / sizeof(T);
  size_t old = out.size();
  out.resize(old + n);
  if (n) std::memcpy(out.data() + old, payload.data(), n * sizeof(T));  // little-endian host
}
}  // namespace

void Reader::append_floats(std::vector<float>& out) const {
  if (wire_ == WireType::fixed32) {
    out.push_back(as_float());
    return;
  }
  expect(WireType::bytes, "floats");
  append_fixed<float>(*this, as_bytes(), out);
}

void Reader::append_doubles(std::vector<double>& out) const {
  if (wire_ == WireType::fixed64) {
    out.push_back(as_double());
    return;
  }
  expect(WireType::bytes, "doubles");
  append_fixed<double>(*this, as_bytes(), out);
}

}  // namespace gradlens::pb
