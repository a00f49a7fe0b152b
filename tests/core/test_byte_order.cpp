// Byte order and 32-bit sizes: the little-endian helpers against byte patterns written
// out by hand from the formats' definitions; the per-dtype swap on every host (it
// runs for real only on big-endian ones); checked_size and MappedFile on a file
// larger than 4 GiB (sparse, so it costs no disk): mapped on 64-bit hosts, one clear
// error where size_t is 32 bits.
#include <doctest/doctest.h>
#include <unistd.h>

#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <string>

#include "tinygptv/byte_order.h"
#include "tinygptv/error.h"
#include "tinygptv/mapped_file.h"
#include "tinygptv/tensor.h"

namespace fs = std::filesystem;

TEST_CASE("little-endian loads and stores follow the byte order, not the host") {
  const uint8_t b[8] = {0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08};
  CHECK(tgv::load_le16(b) == 0x0201);
  CHECK(tgv::load_le32(b) == 0x04030201u);
  CHECK(tgv::load_le64(b) == 0x0807060504030201ull);
  CHECK(tgv::load_be16(b) == 0x0102);
  CHECK(tgv::load_be32(b) == 0x01020304u);
  const uint8_t one[4] = {0x00, 0x00, 0x80, 0x3f};  // 1.0f as IEEE 754, little-endian
  CHECK(tgv::load_le_f32(one) == 1.0f);
  const uint8_t minus_two[8] = {0, 0, 0, 0, 0, 0, 0x00, 0xc0};  // -2.0 as a little-endian double
  CHECK(tgv::load_le_f64(minus_two) == -2.0);
  uint8_t out[8] = {};
  tgv::store_le_f32(out, 1.0f);
  CHECK(std::memcmp(out, one, 4) == 0);
  tgv::store_le64(out, 0x0807060504030201ull);
  CHECK(std::memcmp(out, b, 8) == 0);
  tgv::store_be32(out, 0x01020304u);
  CHECK(std::memcmp(out, b, 4) == 0);
}

TEST_CASE("dtype_swap_bytes swaps each dtype's multi-byte fields and nothing else") {
  uint8_t f32[8] = {1, 2, 3, 4, 5, 6, 7, 8};
  tgv::dtype_swap_bytes(tgv::DType::F32, f32, 2);
  const uint8_t f32_swapped[8] = {4, 3, 2, 1, 8, 7, 6, 5};
  CHECK(std::memcmp(f32, f32_swapped, 8) == 0);
  uint8_t f16[4] = {1, 2, 3, 4};
  tgv::dtype_swap_bytes(tgv::DType::BF16, f16, 2);
  const uint8_t f16_swapped[4] = {2, 1, 4, 3};
  CHECK(std::memcmp(f16, f16_swapped, 4) == 0);

  tgv::BlockQ8_0 blocks[2];
  uint8_t* raw = reinterpret_cast<uint8_t*>(blocks);
  for (size_t i = 0; i < sizeof blocks; i++) raw[i] = static_cast<uint8_t>(i);
  tgv::dtype_swap_bytes(tgv::DType::Q8_0, blocks, 2 * tgv::kQ8Block);
  for (size_t i = 0; i < sizeof blocks; i++) {
    const size_t in_block = i % sizeof(tgv::BlockQ8_0);
    const size_t expect = in_block == 0 ? i + 1 : in_block == 1 ? i - 1 : i;  // only the half scale d swaps
    CHECK(raw[i] == expect);
  }
  // Host order <-> little-endian: identity here on a little-endian host, a swap on a big-endian one.
  const float x = 1.5f;
  uint8_t le[4];
  tgv::store_le_f32(le, x);
  tgv::dtype_swap_le_host(tgv::DType::F32, le, 1);
  float host;
  std::memcpy(&host, le, 4);
  CHECK(host == x);
}

TEST_CASE("checked_size: 64-bit sizes fit, or a clear error on a 32-bit platform") {
  const uint64_t five_gib = uint64_t{5} << 30;
  if (sizeof(size_t) >= 8) {
    CHECK(tgv::checked_size(five_gib, "x") == five_gib);
  } else {
    CHECK_THROWS_WITH_AS(tgv::checked_size(five_gib, "offset"),
                         "offset: 5368709120 bytes do not fit in this platform's 32-bit address space", tgv::Error);
    CHECK(tgv::checked_size(0xFFFFFFFFu, "x") == 0xFFFFFFFFu);
  }
}

TEST_CASE("a file over 4 GiB: mapped whole on 64-bit, a clear error on 32-bit, never a wrapped size") {
  const fs::path p = fs::temp_directory_path() / ("tgv_big_" + std::to_string(getpid()) + ".bin");
  const uint64_t size = (uint64_t{1} << 32) + 4096;  // 4 GiB + 4 KiB: mod 2^32 it would look like 4 KiB
  {
    std::ofstream f(p, std::ios::binary);
    f << "head";
  }
  std::error_code ec;
  fs::resize_file(p, size, ec);  // sparse: no disk used
  if (ec) {
    MESSAGE("no sparse 4 GiB file possible here (" << ec.message() << "); skipped");
    fs::remove(p);
    return;
  }
  if (fs::file_size(p) != size) {  // emscripten 3.1's truncate() keeps the low 32 bits of the length
    MESSAGE("resize_file made " << fs::file_size(p) << " bytes; the last byte is written instead");
    FILE* f = std::fopen(p.string().c_str(), "r+b");
    REQUIRE(f);
    REQUIRE(fseeko(f, static_cast<off_t>(size - 1), SEEK_SET) == 0);
    REQUIRE(std::fputc(0, f) == 0);
    std::fclose(f);
  }
  REQUIRE(fs::file_size(p) == size);
  if (sizeof(size_t) >= 8) {
    const tgv::MappedFile m(p.string());
    CHECK(m.size() == size);
    CHECK(std::memcmp(m.data(), "head", 4) == 0);
    CHECK(m.data()[size - 1] == 0);
  } else {
    try {
      const tgv::MappedFile m(p.string());
      FAIL("a 4 GiB file was opened with a 32-bit size_t (size " << m.size() << ")");
    } catch (const tgv::Error& e) {
      const std::string what = e.what();
      CHECK(what.find("cannot map") != std::string::npos);
      CHECK(what.find("4294971392 bytes") != std::string::npos);
    }
  }
  fs::remove(p);
}
