// The protobuf wire reader on hand-encoded bytes: every wire type, packed and unpacked repeated
// fields, unknown fields and groups skipped, and each malformed input rejected with an Error.
#include <cstdint>
#include <limits>

#include "engine/error.h"
#include "io/protobuf.h"
#include "protobuf_writer.h"
#include "support.h"

using namespace gradlens;
using gradlens::test::PbWriter;

namespace {
pb::Reader reader(const std::string& bytes) { return pb::Reader(bytes, "test.pb"); }

// Collects every varint of field `field` (packed or not) in a message.
std::vector<int64_t> varints_of(const std::string& bytes, uint32_t field) {
  std::vector<int64_t> out;
  pb::Reader r = reader(bytes);
  while (r.next())
    if (r.field() == field) r.append_varints(out);
  return out;
}

// Reads every field of a message, returning how many it saw.
int walk(const std::string& bytes) {
  pb::Reader r = reader(bytes);
  int n = 0;
  while (r.next()) ++n;
  return n;
}
}  // namespace

TEST_CASE("protobuf: varints of every length decode exactly") {
  const uint64_t values[] = {0, 1, 127, 128, 300, 16383, 16384, uint64_t(1) << 35,
                             uint64_t(std::numeric_limits<int64_t>::max()),
                             std::numeric_limits<uint64_t>::max()};
  PbWriter w;
  for (uint64_t v : values) w.u64(3, v);
  pb::Reader r = reader(w.bytes());
  for (uint64_t v : values) {
    REQUIRE(r.next());
    CHECK(r.field() == 3);
    CHECK(r.wire() == pb::WireType::varint);
    CHECK(r.as_uint64() == v);
  }
  CHECK_FALSE(r.next());
  // 300 is the spec's example: AC 02.
  CHECK(PbWriter().varint(300).bytes() == std::string("\xac\x02", 2));
}

TEST_CASE("protobuf: negative int64 and int32 use ten-byte two's complement varints") {
  PbWriter w;
  w.i64(1, -1).i64(2, std::numeric_limits<int64_t>::min()).i64(3, -123456789);
  CHECK(w.bytes().size() == 3 * 11);  // tag + 10 bytes each
  pb::Reader r = reader(w.bytes());
  REQUIRE(r.next());
  CHECK(r.as_int64() == -1);
  CHECK(r.as_int32() == -1);
  REQUIRE(r.next());
  CHECK(r.as_int64() == std::numeric_limits<int64_t>::min());
  REQUIRE(r.next());
  CHECK(r.as_int64() == -123456789);
  CHECK(r.as_int32() == -123456789);
}

TEST_CASE("protobuf: fixed32, fixed64, strings and nested messages") {
  PbWriter inner;
  inner.str(1, "inner").f32(2, 2.5f);
  PbWriter w;
  w.f32(1, -0.75f).f64(2, 1e300).str(3, std::string("a\0b", 3)).msg(4, inner).str(5, "");
  pb::Reader r = reader(w.bytes());
  REQUIRE(r.next());
  CHECK(r.as_float() == -0.75f);
  REQUIRE(r.next());
  CHECK(r.as_double() == 1e300);
  REQUIRE(r.next());
  CHECK(r.as_bytes() == std::string_view("a\0b", 3));
  REQUIRE(r.next());
  pb::Reader m = r.as_message();
  REQUIRE(m.next());
  CHECK(m.as_string() == "inner");
  REQUIRE(m.next());
  CHECK(m.as_float() == 2.5f);
  CHECK_FALSE(m.next());
  REQUIRE(r.next());
  CHECK(r.as_bytes().empty());
  CHECK_FALSE(r.next());
}

TEST_CASE("protobuf: packed and unpacked repeated fields give the same values and concatenate") {
  const std::vector<int64_t> ints = {0, -1, 5, 300, std::numeric_limits<int64_t>::max()};
  PbWriter packed, unpacked;
  packed.packed_varints(7, ints);
  for (int64_t v : ints) unpacked.i64(7, v);
  CHECK(varints_of(packed.bytes(), 7) == ints);
  CHECK(varints_of(unpacked.bytes(), 7) == ints);
  // Protobuf parsers must accept both encodings, mixed, in one message.
  PbWriter mixed;
  mixed.i64(7, 1).packed_varints(7, {2, 3}).i64(7, 4);
  CHECK(varints_of(mixed.bytes(), 7) == std::vector<int64_t>{1, 2, 3, 4});

  const std::vector<float> floats = {1.5f, -2.f, 1e-30f};
  PbWriter pf, uf;
  pf.packed_floats(4, floats);
  for (float f : floats) uf.f32(4, f);
  for (const auto* w : {&pf, &uf}) {
    std::vector<float> got;
    pb::Reader r = reader(w->bytes());
    while (r.next()) r.append_floats(got);
    CHECK(got == floats);
  }
  const std::vector<double> doubles = {1.0 / 3, -1e-300};
  PbWriter pd, ud;
  pd.packed_doubles(10, doubles);
  for (double d : doubles) ud.f64(10, d);
  for (const auto* w : {&pd, &ud}) {
    std::vector<double> got;
    pb::Reader r = reader(w->bytes());
    while (r.next()) r.append_doubles(got);
    CHECK(got == doubles);
  }
}

TEST_CASE("protobuf: unknown fields of every wire type, and groups, are skipped") {
  PbWriter w;
  w.u64(1, 42);
  w.fixed32(100, 0xdeadbeef).fixed64(101, 1).str(102, "ignored").u64(103, 9);
  // A group (wire types 3/4) with a nested group and fields of every kind inside.
  w.tag(104, 3).u64(1, 5).str(2, "x").tag(9, 3).fixed32(3, 1).tag(9, 4).fixed64(4, 2).tag(104, 4);
  w.str(2, "after");
  pb::Reader r = reader(w.bytes());
  std::vector<uint32_t> seen;
  std::string after;
  while (r.next()) {
    seen.push_back(r.field());
    if (r.field() == 2) after = r.as_string();
  }
  // The group disappears entirely; the other unknown fields are visible but harmless.
  CHECK(seen == std::vector<uint32_t>{1, 100, 101, 102, 103, 2});
  CHECK(after == "after");
}

TEST_CASE("protobuf: malformed input is rejected with an Error naming the source") {
  auto rejects = [](const std::string& bytes, const char* what) {
    INFO(what);
    CHECK_THROWS_AS(walk(bytes), Error);
  };
  rejects(std::string("\x08\x80", 2), "truncated varint");
  rejects(std::string("\x08") + std::string(10, '\xff') + "\x01", "varint longer than 10 bytes");
  rejects(std::string("\x08") + std::string(9, '\xff') + "\x02", "varint overflowing 64 bits");
  rejects(std::string("\x0d\x01\x02\x03", 4), "truncated fixed32");
  rejects(std::string("\x09\x01\x02\x03\x04\x05\x06\x07", 8), "truncated fixed64");
  rejects(std::string("\x0a\x05" "abc", 5), "length past the end");
  rejects(std::string("\x0a\xff\xff\xff\xff\x0f", 6), "4 GB length");
  rejects(std::string("\x0a\xff\xff\xff\xff\xff\xff\xff\xff\x7f", 10), "2^63 length");
  rejects(std::string("\x00\x01", 2), "field number 0");
  rejects(std::string("\x0e\x01", 2), "wire type 6");
  rejects(std::string("\x0f\x01", 2), "wire type 7");
  rejects(std::string("\x0c", 1), "end-group without a start");
  rejects(std::string("\x0b\x10\x01", 3), "unterminated group");
  rejects(std::string("\x0b\x14", 2), "group closed by another field's end tag");
  rejects(PbWriter().tag(0x20000000, 0).varint(1).bytes(), "field number beyond 2^29-1");

  try {
    walk(std::string("\x08\x01\x0a\x05" "abc", 7));
    FAIL("no error");
  } catch (const Error& e) {
    const std::string msg = e.what();
    CHECK(msg.find("test.pb") == 0);
    CHECK(msg.find("byte 2") != std::string::npos);  // the offending tag's offset
  }
}

TEST_CASE("protobuf: a nested message cannot read past its own end") {
  // Outer message: field 1 = 3 bytes holding a nested field whose length (5) runs past those 3
  // bytes but not past the outer buffer.
  std::string bytes("\x0a\x03\x0a\x05x" "yyyyyy", 11);
  pb::Reader r = reader(bytes);
  REQUIRE(r.next());
  pb::Reader m = r.as_message();
  CHECK_THROWS_AS(m.next(), Error);
  // Packed payloads are bounded the same way: a varint cut at the end of its payload.
  PbWriter w;
  w.str(7, std::string("\x01\x80", 2)).u64(8, 1);
  pb::Reader p = reader(w.bytes());
  REQUIRE(p.next());
  std::vector<int64_t> out;
  CHECK_THROWS_AS(p.append_varints(out), Error);
  PbWriter f;
  f.str(4, "abcde");  // 5 bytes: not a whole number of floats
  pb::Reader q = reader(f.bytes());
  REQUIRE(q.next());
  std::vector<float> floats;
  CHECK_THROWS_AS(q.append_floats(floats), Error);
}

TEST_CASE("protobuf: accessors check the wire type") {
  PbWriter w;
  w.u64(1, 1).str(2, "s").f32(3, 1.f);
  pb::Reader r = reader(w.bytes());
  REQUIRE(r.next());
  CHECK_THROWS_AS(r.as_bytes(), Error);
  CHECK_THROWS_AS(r.as_float(), Error);
  REQUIRE(r.next());
  CHECK_THROWS_AS(r.as_uint64(), Error);
  CHECK_THROWS_AS(r.as_double(), Error);
  REQUIRE(r.next());
  CHECK_THROWS_AS(r.as_message(), Error);
  std::vector<int64_t> ints;
  CHECK_THROWS_AS(r.append_varints(ints), Error);
}
