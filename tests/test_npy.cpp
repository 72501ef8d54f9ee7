// .npy reading and writing: numpy-written fixtures (tests/data/npy, made by make_fixtures.py) of
// every accepted dtype and format version, each rejected case, byte-identical output to numpy's
// np.save, and atomic writes that leave no temp file behind.
#include <filesystem>
#include <fstream>
#include <iterator>

#include "engine/error.h"
#include "hostile_files.h"
#include "io/npy.h"
#include "scratch_dir.h"
#include "support.h"

using namespace gradlens;
using gradlens::test::ScratchDir;
namespace fs = std::filesystem;

namespace {
std::string fixture(const std::string& name) { return std::string(GRADLENS_TEST_DATA) + "/npy/" + name; }

std::string bytes_of(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
}

std::string error_of(const std::string& path) {
  try {
    read_npy(path);
  } catch (const Error& e) {
    return e.what();
  }
  FAIL_CHECK(path << ": expected an Error");
  return "";
}

// Files in `dir` whose name contains ".tmp.".
int temp_files_in(const fs::path& dir) {
  int n = 0;
  for (const auto& e : fs::directory_iterator(dir)) n += e.path().filename().string().find(".tmp.") != std::string::npos;
  return n;
}

const Tensor kValues(Shape{2, 3}, {1.5f, -2.f, 3.25f, 0.f, 1e-3f, -7.f});
}  // namespace

TEST_CASE("npy: every accepted dtype and format version reads as float") {
  for (const char* name : {"f4.npy", "v2.npy", "v3.npy"}) {
    INFO(name);
    CHECK(gradlens::test::bitwise_equal(read_npy(fixture(name)), kValues));
  }
  Tensor f8 = read_npy(fixture("f8.npy"));  // float64 0.001 rounds to the same float32
  CHECK(gradlens::test::bitwise_equal(f8, kValues));
  Tensor i8 = read_npy(fixture("i8.npy"));
  CHECK(i8.shape() == Shape{2, 3});
  const float want8[] = {1, -2, 3, 1099511627776.f, -1099511627776.f, 0};
  for (int i = 0; i < 6; ++i) CHECK(i8[i] == want8[i]);
  Tensor i4 = read_npy(fixture("i4.npy"));
  const float want4[] = {1, -2, 3, 1073741824.f, -2147483648.f, 0};
  for (int i = 0; i < 6; ++i) CHECK(i4[i] == want4[i]);

  std::string dtype;
  Tensor u1 = read_npy(fixture("uint8.npy"), dtype);  // numpy's '|u1': no byte order
  CHECK(dtype == "u1");
  CHECK(u1.shape() == Shape{2, 3});
  for (int i = 0; i < 6; ++i) CHECK(u1[i] == float(i));

  Tensor scalar = read_npy(fixture("scalar.npy"));
  CHECK(scalar.rank() == 0);
  CHECK(scalar[0] == 4.5f);
  CHECK(read_npy(fixture("empty.npy")).shape() == Shape{0, 3});
  Tensor rank5 = read_npy(fixture("rank5.npy"));
  CHECK(rank5.shape() == Shape{2, 1, 3, 1, 2});
  for (int i = 0; i < 12; ++i) CHECK(rank5[i] == float(i));
}

TEST_CASE("npy: rejected files give one-line Errors naming the file") {
  const std::pair<const char*, const char*> cases[] = {
      {"fortran.npy", "Fortran-order"},
      {"big_endian.npy", "big-endian"},
      {"complex.npy", "unsupported dtype '<c8'"},
      {"structured.npy", "bad .npy header"},
      {"truncated.npy", "truncated data"},
      {"trailing.npy", "4 bytes after the array data"},
      {"bad_magic.npy", "not a .npy file"},
      {"bad_version.npy", "version 4.0"},
      {"bad_header.npy", "bad .npy header"},
      {"header_past_end.npy", "truncated .npy header"},
      {"make_fixtures.py", "not a .npy file"},
      {"absent.npy", "no such file"},
  };
  for (const auto& [name, what] : cases) {
    const std::string msg = error_of(fixture(name));
    INFO(name << ": " << msg);
    CHECK(msg.find(fixture(name)) == 0);
    CHECK(msg.find(what) != std::string::npos);
    CHECK(msg.find('\n') == std::string::npos);
  }
}

TEST_CASE("npy: int8, int16 and uint8 arrays read as float; their sizes are bounded like float32's") {
  using test::hostile::npy_raw;
  ScratchDir dir;
  const std::string i1 = {char(-128), char(-1), 0, 1, 127, 42};
  const std::string i2 = {char(0x00), char(0x80), char(0xff), char(0xff), 0, 0, 1, 0, char(0xff), char(0x7f), 7, 1};
  const std::string u1 = {0, 1, char(128), char(200), char(255), 9};
  test::write_file(dir / "i1.npy", npy_raw("|i1", {2, 3}, i1));
  test::write_file(dir / "i2.npy", npy_raw("<i2", {2, 3}, i2));
  test::write_file(dir / "u1.npy", npy_raw("|u1", {3, 2}, u1));
  std::string dtype;
  const Tensor a = read_npy(dir / "i1.npy", dtype);
  CHECK(dtype == "i1");
  const float want1[] = {-128, -1, 0, 1, 127, 42};
  for (int i = 0; i < 6; ++i) CHECK(a[i] == want1[i]);
  const Tensor b = read_npy(dir / "i2.npy", dtype);
  CHECK(dtype == "i2");
  const float want2[] = {-32768, -1, 0, 1, 32767, 263};
  for (int i = 0; i < 6; ++i) CHECK(b[i] == want2[i]);
  const Tensor c = read_npy(dir / "u1.npy", dtype);
  CHECK((dtype == "u1" && c.shape() == Shape{3, 2}));
  const float want3[] = {0, 1, 128, 200, 255, 9};
  for (int i = 0; i < 6; ++i) CHECK(c[i] == want3[i]);

  // The limits and checks of float32 files hold for one- and two-byte items too.
  const std::pair<std::string, std::string> rejected[] = {
      {npy_raw("|u1", {1000000, 1000000}, u1), "array has more than"},
      {npy_raw("|u1", {2, 4}, u1), "truncated data: 6 bytes, the shape needs 8"},
      {npy_raw("<i2", {2, 2}, i2), "4 bytes after the array data"},
      {npy_raw("|i1", {-1, 6}, i1), "negative dimension"},
      {npy_raw(">i2", {2, 3}, i2), "big-endian dtype '>i2'"},
      {npy_raw("<u2", {2, 3}, i2), "unsupported dtype '<u2'"},
      {npy_raw("|b1", {6}, u1), "unsupported dtype '|b1'"},
  };
  int k = 0;
  for (const auto& [bytes, what] : rejected) {
    const std::string file = dir / ("bad" + std::to_string(k++) + ".npy");
    test::write_file(file, bytes);
    const std::string msg = error_of(file);
    INFO(file << ": " << msg);
    CHECK(msg.find(file) == 0);
    CHECK(msg.find(what) != std::string::npos);
  }
}

TEST_CASE("npy: write_npy output is byte-identical to numpy's np.save and round-trips") {
  ScratchDir dir;
  const std::pair<const char*, Tensor> cases[] = {
      {"f4.npy", kValues},
      {"scalar.npy", Tensor(Shape{}, {4.5f})},
      {"empty.npy", Tensor(Shape{0, 3})},
      {"rank5.npy", Tensor(Shape{2, 1, 3, 1, 2}, {0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11})},
  };
  for (const auto& [name, tensor] : cases) {
    INFO(name);
    const std::string out = dir / name;
    write_npy(out, tensor);
    CHECK(bytes_of(out) == bytes_of(fixture(name)));
    CHECK(gradlens::test::bitwise_equal(read_npy(out), tensor));
  }
  write_npy_int64(dir / "i8.npy", Shape{2, 3}, {1, -2, 3, int64_t(1) << 40, -(int64_t(1) << 40), 0});
  CHECK(bytes_of(dir / "i8.npy") == bytes_of(fixture("i8.npy")));
  CHECK_THROWS_AS(write_npy_int64(dir / "x.npy", Shape{2}, {1}), Error);

  const Tensor big = gradlens::test::random_tensor(Shape{3, 4, 5, 6}, 11);
  write_npy(dir / "big.npy", big);
  CHECK(gradlens::test::bitwise_equal(read_npy(dir / "big.npy"), big));
  CHECK(temp_files_in(dir.path()) == 0);
}

TEST_CASE("npy: writes are atomic and leave no temp file on failure") {
  ScratchDir dir;
  // Overwriting replaces the whole file.
  write_npy(dir / "a.npy", gradlens::test::random_tensor(Shape{50, 50}, 1));
  write_npy(dir / "a.npy", kValues);
  CHECK(gradlens::test::bitwise_equal(read_npy(dir / "a.npy"), kValues));
  // A directory that does not exist: nothing is created anywhere.
  const std::string missing = (dir.path() / "no" / "such" / "dir" / "b.npy").string();
  try {
    write_npy(missing, kValues);
    FAIL("no error");
  } catch (const Error& e) {
    CHECK(std::string(e.what()).find(missing) == 0);
  }
  CHECK_FALSE(fs::exists(dir.path() / "no"));
  // The temp file is written but cannot be renamed over a directory: it must be removed.
  fs::create_directories(dir.path() / "taken.npy");
  CHECK_THROWS_AS(write_npy(dir / "taken.npy", kValues), Error);
  CHECK(fs::is_directory(dir.path() / "taken.npy"));
  CHECK(temp_files_in(dir.path()) == 0);
  // Exactly the two entries we made remain.
  CHECK(std::distance(fs::directory_iterator(dir.path()), fs::directory_iterator()) == 2);
}
