// JPEG decoder against PIL: every tests/data/jpeg/<name>.jpg with a <name>.npy (written
// by tests/reference/make_jpeg.py from PIL 9.4 + libjpeg-turbo 2.1.5,
// np.asarray(Image.open(f).convert("RGB"))) must decode bit-exactly (tolerance 0;
// measured max abs diff 0 on every one of them, including damaged_*.jpg whose corrupt
// entropy data PIL decodes with warnings). bad_*.jpg must be refused with tgv::Error.
// Then damaged and hostile inputs: truncations, bit flips, forged headers -- each must
// either decode or throw tgv::Error (run under ASan/UBSan for the memory side).
#include <doctest/doctest.h>

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <random>
#include <string>
#include <vector>

#include "jpeg/jpeg_internal.h"
#include "tinygptv/error.h"
#include "tinygptv/image.h"
#include "tinygptv/npy.h"

namespace fs = std::filesystem;

namespace {

const fs::path kDir = fs::path(TGV_TEST_DATA) / "jpeg";

std::vector<uint8_t> read_bytes(const fs::path& p) {
  std::ifstream f(p, std::ios::binary);
  REQUIRE_MESSAGE(f.good(), "cannot open " << p);
  return std::vector<uint8_t>(std::istreambuf_iterator<char>(f), {});
}

std::vector<fs::path> corpus(bool bad) {
  std::vector<fs::path> out;
  for (const auto& e : fs::directory_iterator(kDir)) {
    const fs::path& p = e.path();
    if (p.extension() != ".jpg") continue;
    if ((p.filename().string().rfind("bad_", 0) == 0) == bad) out.push_back(p);
  }
  std::sort(out.begin(), out.end());
  return out;
}

// Decodes or throws tgv::Error; anything else (another exception type) fails the test.
bool decodes(const std::vector<uint8_t>& bytes, uint64_t max_pixels = 1u << 22) {
  try {
    tgv::jpeg::decode(bytes.data(), bytes.size(), max_pixels);
    return true;
  } catch (const tgv::Error&) {
    return false;
  }
}

std::string error_of(const std::vector<uint8_t>& bytes) {
  try {
    tgv::decode_jpeg(bytes.data(), bytes.size());
  } catch (const tgv::Error& e) {
    return e.what();
  }
  return "";
}

// Offset of the first segment with the given marker code (at its 0xFF).
size_t find_segment(const std::vector<uint8_t>& b, int code) {
  size_t i = 2;
  while (i + 4 <= b.size()) {
    if (b[i + 1] == code) return i;
    if (b[i + 1] == 0xDA) break;
    i += 2 + ((b[i + 2] << 8) | b[i + 3]);
  }
  FAIL("marker not found");
  return 0;
}

}  // namespace

TEST_CASE("jpeg: corpus matches PIL bit for bit") {
  auto files = corpus(false);
  REQUIRE(files.size() >= 30);
  int exact = 0, worst = 0;
  std::string worst_name;
  for (const fs::path& p : files) {
    fs::path npy = p;
    npy.replace_extension(".npy");
    REQUIRE_MESSAGE(fs::exists(npy), "missing reference " << npy);
    tgv::NpyArray ref = tgv::read_npy(npy.string());
    auto bytes = read_bytes(p);
    tgv::ImageRGB8 img;
    try {
      img = tgv::decode_jpeg(bytes.data(), bytes.size());
    } catch (const tgv::Error& e) {
      FAIL_CHECK(p.filename().string() << ": " << e.what());
      continue;
    }
    REQUIRE(ref.shape.size() == 3);
    CHECK_MESSAGE((img.height == ref.shape[0] && img.width == ref.shape[1]), p.filename().string());
    if (img.pixels.size() != ref.bytes.size()) continue;
    int maxdiff = 0;
    size_t first = img.pixels.size();
    for (size_t i = 0; i < img.pixels.size(); i++) {
      int diff = std::abs(int(img.pixels[i]) - int(ref.bytes[i]));
      if (diff && first == img.pixels.size()) first = i;
      maxdiff = std::max(maxdiff, diff);
    }
    if (maxdiff == 0) exact++;
    if (maxdiff > worst) {
      worst = maxdiff;
      worst_name = p.filename().string();
    }
    CHECK_MESSAGE(maxdiff == 0, p.filename().string() << ": max abs diff " << maxdiff << ", first at pixel "
                                                      << first / 3 << " channel " << first % 3);
  }
  MESSAGE(exact << "/" << files.size() << " files exact; worst max abs diff " << worst << " " << worst_name);
}

TEST_CASE("jpeg: refused files (bad_*.jpg) give a one-line tgv::Error") {
  auto files = corpus(true);
  REQUIRE(files.size() >= 5);
  for (const fs::path& p : files) {
    std::string msg = error_of(read_bytes(p));
    CHECK_MESSAGE(!msg.empty(), p.filename().string() << " was accepted");
    CHECK(msg.find('\n') == std::string::npos);
    MESSAGE(p.filename().string() << ": " << msg);
  }
  CHECK(error_of(read_bytes(kDir / "bad_arith.jpg")).find("unsupported: arithmetic") != std::string::npos);
  CHECK(error_of(read_bytes(kDir / "bad_12bit.jpg")).find("unsupported: 12-bit") != std::string::npos);
  CHECK(error_of(read_bytes(kDir / "bad_lossless_sof3.jpg")).find("unsupported: lossless") != std::string::npos);
  CHECK(error_of(read_bytes(kDir / "bad_huge.jpg")).find("too large") != std::string::npos);
  CHECK(error_of(read_bytes(kDir / "bad_no_eoi.jpg")).find("truncated") != std::string::npos);
}

TEST_CASE("jpeg: every truncation of a few files is refused, never a crash") {
  // Any prefix lacks EOI, so every one must be an Error (PIL: "image file is truncated").
  for (const char* name : {"prog_420.jpg", "restart_mcu.jpg", "base_mix.jpg", "cmyk_magick_prog.jpg"}) {
    auto bytes = read_bytes(kDir / name);
    for (size_t n = 0; n < bytes.size(); n++) {
      std::vector<uint8_t> cut(bytes.begin(), bytes.begin() + static_cast<long>(n));
      CHECK_MESSAGE(!decodes(cut), name << " cut at " << n << " was accepted");
    }
  }
}

TEST_CASE("jpeg: random damage decodes or throws tgv::Error") {
  std::mt19937 rng(12345);
  int accepted = 0, refused = 0;
  for (const char* name : {"base_420.jpg", "prog_420.jpg", "restart_prog.jpg", "prog_custom.jpg", "ycck_pil.jpg",
                           "gray_prog.jpg", "base_lumalow.jpg", "restart_rows.jpg"}) {
    auto bytes = read_bytes(kDir / name);
    for (int trial = 0; trial < 300; trial++) {
      auto b = bytes;
      int edits = 1 + static_cast<int>(rng() % 4);
      for (int e = 0; e < edits; e++) {
        size_t at = rng() % b.size();
        switch (rng() % 3) {
          case 0: b[at] ^= static_cast<uint8_t>(1u << (rng() % 8)); break;
          case 1: b[at] = static_cast<uint8_t>(rng()); break;
          case 2: b[at] = 0xFF; break;
        }
      }
      (decodes(b) ? accepted : refused)++;
    }
  }
  MESSAGE("damaged files: " << accepted << " decoded, " << refused << " refused");
  CHECK(accepted + refused == 8 * 300);
}

TEST_CASE("jpeg: forged headers are refused before allocating") {
  auto base = read_bytes(kDir / "base_444.jpg");
  const size_t sof = find_segment(base, 0xC0);  // FF C0 len(2) P(1) H(2) W(2) N(1) ...
  auto with = [&](size_t offset, std::vector<uint8_t> bytes) {
    auto b = base;
    std::copy(bytes.begin(), bytes.end(), b.begin() + static_cast<long>(offset));
    return b;
  };
  // 65500 x 65500 is far over the 178,956,970-pixel limit: refused from the header.
  CHECK(error_of(with(sof + 5, {0xFF, 0xDC, 0xFF, 0xDC})).find("too large") != std::string::npos);
  // 13380 x 13380 = 179,024,400 pixels: just over the limit.
  CHECK(error_of(with(sof + 5, {0x34, 0x44, 0x34, 0x44})).find("too large") != std::string::npos);
  // over JPEG_MAX_DIMENSION on one side
  CHECK(error_of(with(sof + 5, {0x00, 0x10, 0xFF, 0xF0})).find("too large") != std::string::npos);
  CHECK(error_of(with(sof + 5, {0x00, 0x00})).find("zero") != std::string::npos);
  CHECK(!error_of(with(sof + 9, {2})).empty());          // 2 components: PIL cannot open
  CHECK(!error_of(with(sof + 11, {0x51})).empty());      // sampling factor 5
  CHECK(!error_of(with(sof + 11, {0x00})).empty());      // sampling factor 0
  {  // luma 3x1, chroma 2x1: a ratio of 3/2, which libjpeg refuses
    auto b = with(sof + 11, {0x31});
    b[sof + 14] = 0x21;
    CHECK(error_of(b).find("fractional") != std::string::npos);
  }
  CHECK(!error_of(with(sof + 1, {0xC9})).empty());       // arithmetic SOF9
  CHECK(!error_of(with(sof + 2, {0x00, 0x05})).empty()); // SOF length too short
  CHECK(!error_of(with(sof + 2, {0xFF, 0xFF})).empty()); // SOF length past the end
  const size_t dqt = find_segment(base, 0xDB);
  CHECK(!error_of(with(dqt + 4, {0x07})).empty());       // DQT table index 7
  const size_t dht = find_segment(base, 0xC4);
  CHECK(!error_of(with(dht + 4, {0x25})).empty());       // DHT class 2
  // DHT claiming 255 codes of length 1: bad table, used by the scan -> Error
  CHECK(!error_of(with(dht + 5, {0xFF})).empty());
  const size_t sos = find_segment(base, 0xDA);
  CHECK(!error_of(with(sos + 5, {0x09})).empty());       // unknown component id
  CHECK(!error_of(with(sos + 4, {0x00})).empty());       // zero components in scan
  // garbage everywhere after SOI
  std::vector<uint8_t> junk = {0xFF, 0xD8, 0xFF};
  std::mt19937 rng(7);
  for (int i = 0; i < 5000; i++) junk.push_back(static_cast<uint8_t>(rng()));
  CHECK(!decodes(junk));
  CHECK(!decodes({}));
  CHECK(!decodes({0xFF, 0xD8}));
  CHECK(!decodes({0xFF, 0xD8, 0xFF, 0xD9}));
}

TEST_CASE("jpeg: the fuzz-size pixel limit is honoured") {
  auto b = read_bytes(kDir / "prog_444_big.jpg");  // 80 x 64
  CHECK(decodes(b, 80 * 64));
  CHECK(!decodes(b, 80 * 64 - 1));
}

TEST_CASE("jpeg: a flood of scans is refused (libjpeg-turbo's 500-scan limit)") {
  // prog_gray.jpg with its first scan (SOS + entropy data) repeated 600 times before EOI.
  auto b = read_bytes(kDir / "gray_prog.jpg");
  const size_t sos = find_segment(b, 0xDA);
  size_t end = sos + 2 + ((b[sos + 2] << 8) | b[sos + 3]);
  while (!(b[end] == 0xFF && b[end + 1] != 0 && (b[end + 1] < 0xD0 || b[end + 1] > 0xD7))) end++;
  std::vector<uint8_t> scan(b.begin() + static_cast<long>(sos), b.begin() + static_cast<long>(end));
  std::vector<uint8_t> flood(b.begin(), b.end() - 2);
  for (int i = 0; i < 600; i++) flood.insert(flood.end(), scan.begin(), scan.end());
  flood.push_back(0xFF);
  flood.push_back(0xD9);
  CHECK(error_of(flood).find("too many scans") != std::string::npos);
  // a second scan in a baseline (single-scan) file
  auto base = read_bytes(kDir / "gray.jpg");
  const size_t s2 = find_segment(base, 0xDA);
  std::vector<uint8_t> twice(base.begin(), base.end() - 2);
  twice.insert(twice.end(), base.begin() + static_cast<long>(s2), base.end());
  CHECK(error_of(twice).find("second scan") != std::string::npos);
}
