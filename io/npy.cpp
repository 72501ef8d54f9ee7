#include "io/npy.h"

#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <cctype>
#include <map>

#include "engine/error.h"
#include "io/atomic_file.h"

namespace gradlens {

namespace {

constexpr char kMagic[] = "\x93NUMPY";
constexpr size_t kMagicSize = 6;

// The header is a Python dict literal, e.g. {'descr': '<f4', 'fortran_order': False,
// 'shape': (2, 3), }. Values are strings, booleans or tuples of integers.
struct HeaderValue {
  enum class Kind { string, boolean, tuple } kind = Kind::string;
  std::string text;
  bool flag = false;
  std::vector<int64_t> ints;
};

class HeaderParser {
 public:
  HeaderParser(const std::string& text, const std::string& path) : s_(text), path_(path) {}

  std::map<std::string, HeaderValue> parse() {
    std::map<std::string, HeaderValue> out;
    expect('{');
    for (;;) {
      skip_space();
      if (peek() == '}') break;
      std::string key = quoted();
      expect(':');
      HeaderValue v = value();
      GL_CHECK(out.emplace(key, v).second, path_, ": bad .npy header: key '", key, "' repeated");
      skip_space();
      if (peek() == ',') ++i_;
      else if (peek() != '}') bad("expected ',' or '}'");
    }
    ++i_;
    skip_space();
    if (i_ != s_.size()) bad("text after the closing '}'");
    return out;
  }

 private:
  [[noreturn]] void bad(const char* what) const {
    fail(path_, ": bad .npy header: ", what, " at character ", i_);
  }
  char peek() const { return i_ < s_.size() ? s_[i_] : '\0'; }
  void skip_space() {
    while (i_ < s_.size() && (s_[i_] == ' ' || s_[i_] == '\n' || s_[i_] == '\t' || s_[i_] == '\r')) ++i_;
  }
  void expect(char c) {
    skip_space();
    if (peek() != c) bad(c == '{' ? "expected '{'" : c == ':' ? "expected ':'" : "unexpected character");
    ++i_;
  }
  std::string quoted() {
    skip_space();
    char q = peek();
    if (q != '\'' && q != '"') bad("expected a quoted string");
    size_t end = s_.find(q, i_ + 1);
    if (end == std::string::npos) bad("unterminated string");
    std::string out = s_.substr(i_ + 1, end - i_ - 1);
    i_ = end + 1;
    return out;
  }
  HeaderValue value() {
    skip_space();
    HeaderValue v;
    if (peek() == '\'' || peek() == '"') {
      v.text = quoted();
    } else if (s_.compare(i_, 4, "True") == 0 || s_.compare(i_, 5, "False") == 0) {
      v.kind = HeaderValue::Kind::boolean;
      v.flag = s_[i_] == 'T';
      i_ += v.flag ? 4 : 5;
    } else if (peek() == '(') {
      v.kind = HeaderValue::Kind::tuple;
      ++i_;
      for (;;) {
        skip_space();
        if (peek() == ')') break;
        v.ints.push_back(integer());
        skip_space();
        if (peek() == 'L') ++i_;  // Python 2 long suffix
        skip_space();
        if (peek() == ',') ++i_;
        else if (peek() != ')') bad("expected ',' or ')' in the shape");
      }
      ++i_;
    } else {
      bad("unsupported value");
    }
    return v;
  }
  int64_t integer() {
    bool negative = peek() == '-';
    if (negative) ++i_;
    if (!std::isdigit(static_cast<unsigned char>(peek()))) bad("expected an integer");
    int64_t v = 0;
    while (std::isdigit(static_cast<unsigned char>(peek()))) {
      if (__builtin_mul_overflow(v, 10, &v) || __builtin_add_overflow(v, s_[i_] - '0', &v))
        bad("integer out of range");
      ++i_;
    }
    return negative ? -v : v;
  }

  const std::string& s_;
  const std::string& path_;
  size_t i_ = 0;
};

uint32_t read_le(const unsigned char* p, int bytes) {
  uint32_t v = 0;
  for (int i = bytes - 1; i >= 0; --i) v = v << 8 | p[i];
  return v;
}

std::string make_header(const char* descr, const Shape& shape) {
  // The shape as Python writes a tuple: (), (5,), (2, 3).
  std::string dims;
  for (int i = 0; i < shape.rank(); ++i) dims += (i ? ", " : "") + std::to_string(shape[i]);
  if (shape.rank() == 1) dims += ",";
  std::string dict = str("{'descr': '", descr, "', 'fortran_order': False, 'shape': (", dims, "), }");
  // Magic (6) + version (2) + length (2) + dict + padding + '\n', a multiple of 64 bytes.
  size_t total = kMagicSize + 4 + dict.size() + 1;
  dict.append((64 - total % 64) % 64, ' ');
  dict += '\n';
  GL_CHECK(dict.size() <= 65535, "npy header too long");
  std::string header(kMagic, kMagicSize);
  header += '\x01';
  header += '\x00';
  header += char(dict.size() & 0xff);
  header += char(dict.size() >> 8);
  return header + dict;
}

}  // namespace

Tensor read_npy(const std::string& path) {
  std::string dtype;
  return read_npy(path, dtype);
}

Tensor read_npy(const std::string& path, std::string& dtype) {
  std::error_code ec;
  GL_CHECK(std::filesystem::is_regular_file(path, ec), path, ": no such file");
  const uint64_t file_size = std::filesystem::file_size(path, ec);
  GL_CHECK(!ec, path, ": cannot read the file size");
  std::ifstream in(path, std::ios::binary);
  GL_CHECK(in.good(), path, ": cannot open for reading");

  unsigned char prefix[12] = {};
  in.read(reinterpret_cast<char*>(prefix), 12);
  GL_CHECK(in.gcount() >= 10 && std::memcmp(prefix, kMagic, kMagicSize) == 0, path,
           ": not a .npy file (no \\x93NUMPY magic)");
  const int major = prefix[6], minor = prefix[7];
  GL_CHECK((major == 1 || major == 2 || major == 3) && minor == 0, path,
           ": unsupported .npy format version ", major, ".", minor);
  const size_t length_bytes = major == 1 ? 2 : 4;
  GL_CHECK(size_t(in.gcount()) >= 8 + length_bytes, path, ": truncated .npy header");
  const uint64_t header_len = read_le(prefix + 8, int(length_bytes));
  const uint64_t data_offset = 8 + length_bytes + header_len;
  GL_CHECK(data_offset <= file_size, path, ": truncated .npy header (", header_len,
           " bytes declared, file has ", file_size, ")");
  std::string header(size_t(header_len), '\0');
  in.seekg(std::streamoff(8 + length_bytes));
  in.read(header.data(), std::streamsize(header_len));
  GL_CHECK(in.gcount() == std::streamsize(header_len), path, ": truncated .npy header");

  const auto dict = HeaderParser(header, path).parse();
  for (const char* key : {"descr", "fortran_order", "shape"})
    GL_CHECK(dict.count(key), path, ": bad .npy header: no '", key, "'");
  GL_CHECK(dict.size() == 3, path, ": bad .npy header: unexpected keys");
  const HeaderValue& descr = dict.at("descr");
  const HeaderValue& fortran = dict.at("fortran_order");
  const HeaderValue& shape_value = dict.at("shape");
  GL_CHECK(descr.kind == HeaderValue::Kind::string && fortran.kind == HeaderValue::Kind::boolean &&
               shape_value.kind == HeaderValue::Kind::tuple,
           path, ": bad .npy header: descr, fortran_order or shape has the wrong type");
  GL_CHECK(!fortran.flag, path, ": Fortran-order arrays are not supported (save in C order)");

  const std::string& d = descr.text;
  GL_CHECK(d.size() >= 2, path, ": unsupported dtype '", d, "'");
  const char order = d[0];
  const std::string kind = d.substr(1);
  const bool known = kind == "f4" || kind == "f8" || kind == "i8" || kind == "i4" || kind == "i2" ||
                     kind == "i1" || kind == "u1";
  GL_CHECK(known, path, ": unsupported dtype '", d,
           "' (float32, float64, int64, int32, int16, int8 and uint8 are read)");
  const size_t item = size_t(kind[1] - '0');
  GL_CHECK(order != '>' || item == 1, path, ": big-endian dtype '", d, "' is not supported");
  // One-byte types have no byte order: numpy writes '|u1'.
  GL_CHECK(order == '<' || (item == 1 && order == '|'), path, ": unsupported dtype '", d, "'");
  dtype = kind;

  const std::vector<int64_t>& dims = shape_value.ints;
  GL_CHECK(int(dims.size()) <= kMaxRank, path, ": rank ", dims.size(), " exceeds ", kMaxRank);
  int64_t numel = 1;
  for (int64_t dim : dims) {
    GL_CHECK(dim >= 0, path, ": negative dimension ", dim, " in the .npy shape");
    GL_CHECK(!__builtin_mul_overflow(numel, dim, &numel) && numel <= kMaxTensorElements, path,
             ": array has more than ", kMaxTensorElements, " elements");
  }
  const uint64_t want = uint64_t(numel) * item, have = file_size - data_offset;
  GL_CHECK(have >= want, path, ": truncated data: ", have, " bytes, the shape needs ", want);
  GL_CHECK(have == want, path, ": ", have - want, " bytes after the array data");

  Tensor out{Shape(dims)};
  std::vector<char> raw(static_cast<size_t>(want));
  in.seekg(std::streamoff(data_offset));
  in.read(raw.data(), std::streamsize(want));
  GL_CHECK(in.gcount() == std::streamsize(want), path, ": could not read the array data");
  const char* p = raw.data();
  for (int64_t i = 0; i < numel; ++i, p += item) {
    if (kind == "f4") { float v; std::memcpy(&v, p, 4); out[i] = v; }
    else if (kind == "f8") { double v; std::memcpy(&v, p, 8); out[i] = float(v); }
    else if (kind == "i8") { int64_t v; std::memcpy(&v, p, 8); out[i] = float(v); }
    else if (kind == "i4") { int32_t v; std::memcpy(&v, p, 4); out[i] = float(v); }
    else if (kind == "i2") { int16_t v; std::memcpy(&v, p, 2); out[i] = float(v); }
    else if (kind == "i1") { int8_t v; std::memcpy(&v, p, 1); out[i] = float(v); }
    else { uint8_t v; std::memcpy(&v, p, 1); out[i] = float(v); }
  }
  return out;
}

void write_npy(const std::string& path, const Tensor& tensor) {
  const std::string header = make_header("<f4", tensor.shape());
  write_file_atomically(path, {{header.data(), header.size()},
                               {tensor.data(), size_t(tensor.numel()) * sizeof(float)}});
}

void write_npy_int64(const std::string& path, const Shape& shape, const std::vector<int64_t>& values) {
  GL_CHECK(int64_t(values.size()) == shape.numel(), path, ": ", values.size(),
           " values for shape ", shape.str());
  const std::string header = make_header("<i8", shape);
  write_file_atomically(path, {{header.data(), header.size()},
                               {values.data(), values.size() * sizeof(int64_t)}});
}

}  // namespace gradlens
