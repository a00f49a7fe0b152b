// PNG decoding against PIL: every file in tests/data/image/png must decode to
// exactly PIL's np.asarray(Image.open(f).convert("RGB")) (max abs diff 0), every
// file in tests/data/image/bad must be refused with a tgv::Error, and no prefix
// or small corruption of any of them may crash (ASan/UBSan builds check reads).
#include <doctest/doctest.h>

#include <algorithm>
#include <filesystem>
#include <random>
#include <string>

#include "tinygptv/error.h"
#include "tinygptv/mapped_file.h"
#include "tinygptv/image.h"
#include "tinygptv/npy.h"

namespace fs = std::filesystem;
using Bytes = std::vector<uint8_t>;

namespace {

std::vector<fs::path> files_in(const fs::path& dir, const std::string& ext) {
  std::vector<fs::path> out;
  for (const auto& e : fs::directory_iterator(dir))
    if (e.path().extension() == ext) out.push_back(e.path());
  std::sort(out.begin(), out.end());
  return out;
}

const fs::path kData = fs::path(TGV_TEST_DATA) / "image";

}  // namespace

TEST_CASE("every PNG of the corpus decodes exactly as PIL") {
  auto pngs = files_in(kData / "png", ".png");
  CHECK(pngs.size() >= 100);
  for (const auto& p : pngs) {
    CAPTURE(p.filename().string());
    Bytes d = tgv::read_file_bytes(p);
    tgv::ImageRGB8 img = tgv::decode_png(d.data(), d.size());
    tgv::NpyArray want = tgv::read_npy(fs::path(p).replace_extension(".npy").string());
    REQUIRE(want.dtype == "|u1");
    REQUIRE(want.shape == std::vector<int64_t>{img.height, img.width, 3});
    size_t diffs = 0, first = 0;
    for (size_t i = 0; i < img.pixels.size(); i++)
      if (img.pixels[i] != want.bytes[i] && diffs++ == 0) first = i;
    CAPTURE(first);
    CHECK(diffs == 0);
  }
}

TEST_CASE("files PIL refuses are refused with a one-line error") {
  auto bad = files_in(kData / "bad", ".png");
  CHECK(bad.size() >= 20);
  for (const auto& p : bad) {
    CAPTURE(p.filename().string());
    Bytes d = tgv::read_file_bytes(p);
    std::string msg;
    try {
      tgv::decode_image(d.data(), d.size());
    } catch (const tgv::Error& e) {
      msg = e.what();
    }
    CHECK(!msg.empty());
    CHECK(msg.find('\n') == std::string::npos);
  }
  Bytes bomb = tgv::read_file_bytes(kData / "bad" / "bomb.png");  // 20000 x 20000 > 178,956,970 pixels
  CHECK_THROWS_WITH_AS(tgv::decode_png(bomb.data(), bomb.size()),
                       "png: image of 400000000 pixels exceeds the limit of 178956970", tgv::Error);
}

TEST_CASE("decode_image picks the decoder from the bytes") {
  Bytes d = tgv::read_file_bytes(kData / "png" / "ct2_d8_i0.png");
  CHECK(tgv::decode_image(d.data(), d.size()).width == 17);
  Bytes junk = {'G', 'I', 'F', '8', '9', 'a', 0, 0};
  CHECK_THROWS_WITH_AS(tgv::decode_image(junk.data(), junk.size()), "unrecognised image format (not PNG or JPEG)", tgv::Error);
  CHECK_THROWS_WITH_AS(tgv::decode_image(nullptr, 0), "unrecognised image format (not PNG or JPEG)", tgv::Error);
  CHECK_THROWS_AS(tgv::load_image((kData / "no-such-file.png").string()), tgv::Error);
}

TEST_CASE("prefixes and random damage of the corpus never crash") {
  std::mt19937 rng(11);
  auto pngs = files_in(kData / "png", ".png");
  for (size_t f = 0; f < pngs.size(); f += 3) {
    Bytes d = tgv::read_file_bytes(pngs[f]);
    CAPTURE(pngs[f].filename().string());
    for (size_t cut = 0; cut < d.size(); cut += 1 + d.size() / 64) {
      try {
        tgv::decode_png(d.data(), cut);
      } catch (const tgv::Error&) {
      }
    }
    for (int t = 0; t < 20; t++) {
      Bytes m = d;
      for (int k = 0; k < 1 + t % 3; k++) m[rng() % m.size()] ^= static_cast<uint8_t>(1 + rng() % 255);
      try {
        tgv::decode_png(m.data(), m.size());
      } catch (const tgv::Error&) {
      }
    }
  }
}

TEST_CASE("encode_png writes what decode_png reads back") {
  tgv::ImageRGB8 img;
  img.width = 37;
  img.height = 5;
  std::mt19937 rng(3);
  for (int i = 0; i < 37 * 5 * 3; i++) img.pixels.push_back(static_cast<uint8_t>(i < 200 ? rng() : i / 7));
  Bytes png = tgv::encode_png(img);
  tgv::ImageRGB8 back = tgv::decode_png(png.data(), png.size());
  CHECK(back.width == 37);
  CHECK(back.height == 5);
  CHECK(back.pixels == img.pixels);
  // The same through a corpus image (the real content of ImageMagick's "rose:").
  Bytes rose = tgv::read_file_bytes(kData / "png" / "magick_rose.png");
  tgv::ImageRGB8 r = tgv::decode_png(rose.data(), rose.size());
  Bytes again = tgv::encode_png(r);
  CHECK(tgv::decode_png(again.data(), again.size()).pixels == r.pixels);
}
