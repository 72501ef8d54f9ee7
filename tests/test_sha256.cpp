// SHA-256 against the FIPS 180-4 example vectors (NIST CSRC "SHA256.pdf", "SHA2_Additional"),
// the padding boundaries, streaming in odd pieces, and a file.
#include <doctest/doctest.h>

#include <fstream>
#include <string>

#include "engine/error.h"
#include "io/sha256.h"
#include "scratch_dir.h"

namespace gradlens {

TEST_CASE("sha256: FIPS 180-4 example vectors") {
  CHECK(sha256_hex("") == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  CHECK(sha256_hex("abc") == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  CHECK(sha256_hex("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq") ==
        "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
  CHECK(sha256_hex("abcdefghbcdefghicdefghijdefghijkefghijklfghijklmghijklmnhijklmnoijklmnopjklmnopqklmnopqrlmnopqrsmnopqrstnopqrstu") ==
        "cf5b16a778af8380036ce59e7b0492370b249b11e8f07a51afac45037afee9d1");
  // One million 'a' (FIPS 180-2 appendix B.3).
  CHECK(sha256_hex(std::string(1000000, 'a')) == "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
  // SHA2_Additional: 55 and 56 bytes of 0x00 straddle the one-block padding limit.
  CHECK(sha256_hex(std::string(55, '\0')) == "02779466cdec163811d078815c633f21901413081449002f24aa3e80f0b88ef7");
  CHECK(sha256_hex(std::string(56, '\0')) == "d4817aa5497628e7c77e6b606107042bbba3130888c5f47a375e6179be789fbb");
  CHECK(sha256_hex(std::string(1000, 'A')) == "c2e686823489ced2017f6059b8b239318b6364f6dcd835d0a519105a1eadd6e4");
}

TEST_CASE("sha256: streaming in pieces equals one update; files hash their bytes") {
  std::string text;
  for (int i = 0; i < 1000; ++i) text += char('a' + (i * 7) % 26);
  for (size_t piece : {1, 3, 63, 64, 65, 200}) {
    Sha256 s;
    for (size_t at = 0; at < text.size(); at += piece) s.update(std::string_view(text).substr(at, piece));
    CHECK(s.hex() == sha256_hex(text));
  }
  test::ScratchDir dir;
  const std::string file = (dir.path() / "abc.bin").string();
  std::ofstream(file, std::ios::binary) << "abc";
  CHECK(sha256_file(file) == sha256_hex("abc"));
  CHECK_THROWS_WITH_AS(sha256_file((dir.path() / "missing").string()), doctest::Contains("missing"), Error);
}

}  // namespace gradlens
