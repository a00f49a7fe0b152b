// ImageEncoder: the three image-side stages chained, against the PyTorch reference
// end to end (tests/data/pipeline/<config>/: the encoder starts from pixels.npy, so
// unlike tests/{vision,qformer,projector} each stage here also carries the previous
// stages' float32 error). Also load_pixels and the demo model.
#include <doctest/doctest.h>

#include <cmath>
#include <map>
#include <string>
#include <vector>

#include "compare.h"
#include "tinygptv/error.h"
#include "tinygptv/image_encoder.h"
#include "tinygptv/npy.h"
#include "tolerances.h"

using namespace tgv;

namespace {

void check_encoder(const std::string& config) {
  const std::string dir = std::string(TGV_TEST_DATA) + "/pipeline/" + config;
  ModelFile mf(dir + "/model.safetensors");
  ImageEncoder enc(mf);
  const std::vector<float> pixels = load_pixels(dir + "/pixels.npy", enc.image_size());
  std::map<std::string, std::vector<float>> got;
  std::map<std::string, std::vector<int64_t>> shapes;
  const std::vector<float> emb = enc.encode(pixels.data(), [&](const std::string& name, const float* d,
                                                                const std::vector<int64_t>& s) {
    size_t n = 1;
    for (int64_t x : s) n *= static_cast<size_t>(x);
    got[name].assign(d, d + n);
    shapes[name] = s;
  });
  const ModelConfig& c = mf.config();
  CHECK(got.size() == static_cast<size_t>(3 + c.vision.layers + 1 + c.qformer.layers + 2));
  for (const auto& [name, values] : got) {
    const NpyArray want = read_npy(dir + "/" + name + ".npy");
    CHECK(want.shape == shapes[name]);
    test::check_close("encoder " + config + " " + name, values, want.to_f32(),
                      test::tolerance_for("pipeline/" + config, name));
  }
  CHECK(emb.size() == static_cast<size_t>(enc.num_image_tokens()) * enc.embed_dim());
  CHECK(emb == got["projector.fc2"]);
}

}  // namespace

TEST_CASE("image encoder matches the reference end to end: tiny") { check_encoder("tiny"); }
TEST_CASE("image encoder matches the reference end to end: heads") { check_encoder("heads"); }

TEST_CASE("load_pixels checks a .npy pixel array's shape") {
  const std::string p = std::string(TGV_TEST_DATA) + "/pipeline/tiny/pixels.npy";  // [3, 28, 28]
  CHECK(load_pixels(p, 28).size() == 3u * 28 * 28);
  CHECK_THROWS_AS(load_pixels(p, 42), Error);
  CHECK_THROWS_AS(load_pixels(std::string(TGV_TEST_DATA) + "/pipeline/no-such-file.npy", 28), Error);
}

TEST_CASE("the demo model's image side runs at 224 px") {
  ModelFile mf(std::string(TGV_TEST_DATA) + "/models/tiny-pipeline.safetensors");
  ImageEncoder enc(mf);
  REQUIRE(enc.image_size() == 224);
  std::vector<float> pixels(3u * 224 * 224, 0.25f);
  const std::vector<float> emb = enc.encode(pixels.data(), {});
  CHECK(emb.size() == static_cast<size_t>(enc.num_image_tokens()) * enc.embed_dim());
  bool finite = true;
  for (float x : emb) finite = finite && std::isfinite(x);
  CHECK(finite);
}
