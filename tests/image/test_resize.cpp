// PIL's BICUBIC resize and torchvision's preprocessing against the fixtures of
// tests/reference/make_image.py:
//   SRC__WxH.npy   = PIL Image.resize((W, H), BICUBIC)            -> must match exactly
//   SRC__prepS.npy = torchvision Resize((S,S), BICUBIC), ToTensor, Normalize(CLIP)
//                    -> max abs diff <= 1e-5 (measured: 0, the same float32 operations)
#include <doctest/doctest.h>

#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <unistd.h>

#include "tinygptv/error.h"
#include "tinygptv/image.h"
#include "tinygptv/npy.h"
#include "tinygptv/preprocess.h"

namespace fs = std::filesystem;

namespace {

const fs::path kDir = fs::path(TGV_TEST_DATA) / "image" / "resize";

tgv::ImageRGB8 load_source(const std::string& name) { return tgv::load_image((kDir / (name + ".png")).string()); }

}  // namespace

TEST_CASE("resize_bicubic is bit-exact with PIL, up and down, odd and 1-pixel sizes") {
  int checked = 0;
  for (const auto& e : fs::directory_iterator(kDir)) {
    std::string f = e.path().filename().string();
    size_t sep = f.find("__");
    if (sep == std::string::npos || f.find("prep") != std::string::npos) continue;
    int w = 0, h = 0;
    REQUIRE(std::sscanf(f.c_str() + sep + 2, "%dx%d.npy", &w, &h) == 2);
    CAPTURE(f);
    tgv::ImageRGB8 out = tgv::resize_bicubic(load_source(f.substr(0, sep)), w, h);
    tgv::NpyArray want = tgv::read_npy(e.path().string());
    REQUIRE(want.shape == std::vector<int64_t>{h, w, 3});
    int max_diff = 0;
    for (size_t i = 0; i < out.pixels.size(); i++) max_diff = std::max(max_diff, std::abs(out.pixels[i] - want.bytes[i]));
    CHECK(max_diff == 0);
    checked++;
  }
  CHECK(checked >= 25);
}

TEST_CASE("preprocess_image matches torchvision within 1e-5") {
  int checked = 0;
  for (const auto& e : fs::directory_iterator(kDir)) {
    std::string f = e.path().filename().string();
    size_t sep = f.find("__prep");
    if (sep == std::string::npos) continue;
    int s = std::atoi(f.c_str() + sep + 6);
    CAPTURE(f);
    std::vector<float> got = tgv::preprocess_image(load_source(f.substr(0, sep)), s);
    std::vector<float> want = tgv::read_npy(e.path().string()).to_f32();
    REQUIRE(want.size() == got.size());
    double max_diff = 0;
    for (size_t i = 0; i < got.size(); i++) max_diff = std::max(max_diff, std::fabs(double(got[i]) - want[i]));
    CHECK(max_diff <= 1e-5);  // measured 0
    checked++;
  }
  CHECK(checked >= 6);
}

TEST_CASE("tinygptv image decode / preprocess write the same arrays") {
  REQUIRE_MESSAGE(fs::exists(TGV_BINARY), "tinygptv is not built (the test targets depend on it)");
  fs::path tmp = fs::temp_directory_path() / ("tgv_image_test_" + std::to_string(::getpid()));
  fs::create_directories(tmp);
  std::string src = (kDir / "rose70x46.png").string();
  std::string cmd = std::string(TGV_BINARY) + " image decode " + src + " --out " + (tmp / "d.npy").string() + " && " +
                    TGV_BINARY + " image preprocess " + src + " --size 56 --out " + (tmp / "p.npy").string();
  REQUIRE(std::system(cmd.c_str()) == 0);
  tgv::NpyArray d = tgv::read_npy((tmp / "d.npy").string());
  CHECK(d.shape == std::vector<int64_t>{46, 70, 3});
  CHECK(d.bytes == load_source("rose70x46").pixels);
  tgv::NpyArray p = tgv::read_npy((tmp / "p.npy").string());
  CHECK(p.shape == std::vector<int64_t>{3, 56, 56});
  CHECK(p.to_f32() == tgv::read_npy((kDir / "rose70x46__prep56.npy").string()).to_f32());
  std::string bad = std::string(TGV_BINARY) + " image decode " + (kDir / "rose70x46__prep56.npy").string() + " --out " +
                    (tmp / "x.npy").string() + " 2>/dev/null";
  CHECK(std::system(bad.c_str()) != 0);  // not an image: a clean error exit
  fs::remove_all(tmp);
}
