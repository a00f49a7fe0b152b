// Inflate, zlib, checksums and the small deflater.
// Expected bytes come from Python's zlib (tests/reference/make_image.py writes the
// streams at several levels and strategies next to the original data) and from
// hand-built bit streams whose meaning is worked out in the comments.
#include <doctest/doctest.h>

#include <filesystem>
#include <random>
#include <string>

#include "tinygptv/error.h"
#include "tinygptv/mapped_file.h"
#include "tinygptv/inflate.h"

namespace fs = std::filesystem;
using Bytes = std::vector<uint8_t>;

namespace {

const fs::path kDir = fs::path(TGV_TEST_DATA) / "compress";

// LSB-first bit packer for hand-made DEFLATE streams.
struct Bits {
  Bytes out;
  int n = 0;
  void put(uint32_t v, int count) {
    for (int i = 0; i < count; i++, n++) {
      if (n % 8 == 0) out.push_back(0);
      out.back() |= static_cast<uint8_t>(((v >> i) & 1) << (n % 8));
    }
  }
  void code(uint32_t c, int len) {  // Huffman codes go MSB first
    for (int i = len - 1; i >= 0; i--) put((c >> i) & 1, 1);
  }
};

std::string inflate_error(const Bytes& d) {
  try {
    tgv::inflate_raw(d.data(), d.size(), 1 << 20);
  } catch (const tgv::Error& e) {
    return e.what();
  }
  return "";
}

}  // namespace

TEST_CASE("checksums match their published check values") {
  const std::string s = "123456789";
  CHECK(tgv::crc32(0, reinterpret_cast<const uint8_t*>(s.data()), s.size()) == 0xCBF43926u);  // CRC-32/ISO-HDLC check
  const std::string w = "Wikipedia";
  CHECK(tgv::adler32(1, reinterpret_cast<const uint8_t*>(w.data()), w.size()) == 0x11E60398u);  // RFC 1950 example
  Bytes zeros(100000, 0xFF);  // long input: the deferred modulo must not overflow
  uint32_t a = 1;
  for (int i = 0; i < 100000; i++) a = ((a & 0xFFFF) + 0xFF) % 65521 | ((((a >> 16) + ((a & 0xFFFF) + 0xFF) % 65521) % 65521) << 16);
  CHECK(tgv::adler32(1, zeros.data(), zeros.size()) == a);
  // Incremental use gives the same value as one call.
  CHECK(tgv::crc32(tgv::crc32(0, zeros.data(), 777), zeros.data() + 777, zeros.size() - 777) ==
        tgv::crc32(0, zeros.data(), zeros.size()));
}

TEST_CASE("zlib streams from Python's zlib decompress exactly (all levels and strategies)") {
  int files = 0;
  for (const auto& e : fs::directory_iterator(kDir)) {
    const fs::path p = e.path();
    if (p.extension() != ".z") continue;
    std::string base = p.filename().string();
    base = base.substr(0, base.find('.'));
    CAPTURE(p.filename().string());
    Bytes z = tgv::read_file_bytes(p), want = tgv::read_file_bytes(kDir / (base + ".bin"));
    CHECK(tgv::zlib_decompress(z.data(), z.size(), want.size()) == want);
    if (!want.empty()) CHECK_THROWS_AS(tgv::zlib_decompress(z.data(), z.size(), want.size() - 1), tgv::Error);  // the cap
    files++;
  }
  CHECK(files >= 30);
}

TEST_CASE("raw DEFLATE reports how many bytes it used") {
  for (const char* name : {"text", "noise", "runs", "empty", "one"}) {
    CAPTURE(name);
    Bytes d = tgv::read_file_bytes(kDir / (std::string(name) + ".deflate")), want = tgv::read_file_bytes(kDir / (std::string(name) + ".bin"));
    size_t used = 0;
    CHECK(tgv::inflate_raw(d.data(), d.size(), 1 << 20, &used) == want);
    CHECK(used == d.size() - 3);  // the fixture appends "END" after the stream
  }
}

TEST_CASE("zlib_compress round-trips and its stream is what inflate expects") {
  for (const char* name : {"text", "noise", "runs", "empty", "one"}) {
    CAPTURE(name);
    Bytes data = tgv::read_file_bytes(kDir / (std::string(name) + ".bin"));
    Bytes z = tgv::zlib_compress(data.data(), data.size());
    CHECK(tgv::zlib_decompress(z.data(), z.size(), data.size()) == data);
  }
  Bytes rep(70000, 'a');  // long runs: matches at distance 1, the 258 cap
  Bytes z = tgv::zlib_compress(rep.data(), rep.size());
  CHECK(z.size() < 2000);
  CHECK(tgv::zlib_decompress(z.data(), z.size(), rep.size()) == rep);
}

TEST_CASE("hand-made streams: fixed block, single-code distance tree") {
  // Fixed block: literal 'A' (0x41 -> 8-bit code 0x30+0x41), match length 3 (symbol 257,
  // 7-bit code 1) at distance 1 (5-bit code 0), end of block (7-bit code 0) -> "AAAA".
  Bits b;
  b.put(1, 1);
  b.put(1, 2);
  b.code(0x30 + 'A', 8);
  b.code(1, 7);
  b.code(0, 5);
  b.code(0, 7);
  CHECK(tgv::inflate_raw(b.out.data(), b.out.size(), 100) == Bytes{'A', 'A', 'A', 'A'});
}

TEST_CASE("corrupt DEFLATE and zlib streams are errors, never crashes") {
  CHECK(inflate_error({0x07}).find("block type") != std::string::npos);  // BFINAL 1, BTYPE 3
  CHECK(inflate_error({0x01, 0x05, 0x00, 0x00, 0x00}).find("complement") != std::string::npos);  // LEN 5, NLEN 0
  {
    Bits b;  // fixed block whose first symbol is a match: nothing to copy from
    b.put(1, 1);
    b.put(1, 2);
    b.code(1, 7);
    b.code(0, 5);
    CHECK(inflate_error(b.out).find("too far back") != std::string::npos);
  }
  {
    Bits b;  // fixed block with literal/length symbol 286 (8-bit code 0xC6): reserved
    b.put(1, 1);
    b.put(1, 2);
    b.code(0xC0 + 6, 8);
    CHECK(inflate_error(b.out).find("invalid literal/length") != std::string::npos);
  }
  {
    Bits b;  // dynamic block, all 19 code-length codes of length 1: over-subscribed
    b.put(1, 1);
    b.put(2, 2);
    b.put(0, 5);
    b.put(0, 5);
    b.put(15, 4);
    for (int i = 0; i < 19; i++) b.put(1, 3);
    CHECK(inflate_error(b.out).find("over-subscribed") != std::string::npos);
  }
  {
    Bits b;  // dynamic block, one code-length code of length 1: incomplete (zlib refuses it)
    b.put(1, 1);
    b.put(2, 2);
    b.put(0, 5);
    b.put(0, 5);
    b.put(0, 4);
    b.put(1, 3);
    b.put(0, 3);
    b.put(0, 3);
    b.put(0, 3);
    b.put(0, 32);
    CHECK(inflate_error(b.out).find("incomplete") != std::string::npos);
  }
  {
    Bits b;  // dynamic block whose first code-length symbol is 16 (repeat previous): no previous
    b.put(1, 1);
    b.put(2, 2);
    b.put(0, 5);
    b.put(0, 5);
    b.put(0, 4);          // 4 code-length codes, in order 16, 17, 18, 0
    for (int i = 0; i < 4; i++) b.put(2, 3);  // all of length 2: complete
    b.code(1, 2);         // canonical order 0, 16, 17, 18: code 01 is symbol 16
    b.put(0, 16);
    CHECK(inflate_error(b.out).find("no previous") != std::string::npos);
  }
  Bytes z = tgv::read_file_bytes(kDir / "text.l9.z");
  Bytes want = tgv::read_file_bytes(kDir / "text.bin");
  for (size_t cut : {size_t{0}, size_t{1}, size_t{2}, size_t{3}, z.size() / 2, z.size() - 5, z.size() - 1}) {
    CAPTURE(cut);
    CHECK_THROWS_AS(tgv::zlib_decompress(z.data(), cut, 1 << 20), tgv::Error);
  }
  Bytes bad = z;
  bad.at(bad.size() - 1) ^= 1;
  CHECK_THROWS_WITH_AS(tgv::zlib_decompress(bad.data(), bad.size(), 1 << 20), "zlib: Adler-32 checksum mismatch", tgv::Error);
  bad = z;
  bad[1] ^= 1;
  CHECK_THROWS_AS(tgv::zlib_decompress(bad.data(), bad.size(), 1 << 20), tgv::Error);
  // Random damage: decode or throw tgv::Error (under ASan this also proves no bad reads).
  std::mt19937 rng(7);
  for (int t = 0; t < 300; t++) {
    bad = z;
    for (int k = 0; k < 1 + t % 4; k++) bad[2 + rng() % (bad.size() - 2)] ^= static_cast<uint8_t>(1 + rng() % 255);
    try {
      tgv::zlib_decompress(bad.data(), bad.size(), want.size() + 1000);
    } catch (const tgv::Error&) {
    }
  }
}

TEST_CASE("zlib_decompress_prefix stops where PIL's zlib would") {
  Bytes z = tgv::read_file_bytes(kDir / "text.l9.z"), want = tgv::read_file_bytes(kDir / "text.bin");
  Bytes got = tgv::zlib_decompress_prefix(z.data(), z.size(), 1000);
  CHECK(got == Bytes(want.begin(), want.begin() + 1000));
  CHECK(tgv::zlib_decompress_prefix(z.data(), z.size(), want.size()) == want);
  CHECK_THROWS_AS(tgv::zlib_decompress_prefix(z.data(), z.size(), want.size() + 1), tgv::Error);  // stream too short
  CHECK(tgv::zlib_decompress_prefix(z.data(), z.size() - 4, want.size()) == want);  // no Adler-32: fine
  Bytes bad = z;
  bad.at(bad.size() - 1) ^= 1;  // Adler-32 present and wrong right after the data: zlib reports it
  CHECK_THROWS_AS(tgv::zlib_decompress_prefix(bad.data(), bad.size(), want.size()), tgv::Error);
  CHECK(tgv::zlib_decompress_prefix(bad.data(), bad.size(), want.size() - 1).size() == want.size() - 1);
}
