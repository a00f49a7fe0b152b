// The Q-Former against the PyTorch reference (tests/reference/vision_ref.py, fixtures
// by make_pipeline.py). Input: the reference's vision.ln (so only the Q-Former is
// under test). "tiny": 3 layers (cross-attention on 0 and 2), F32, unusual eps;
// "heads": head dim 64, cross-attention keys/values 176 -> 128, F16 matrices.
#include <doctest/doctest.h>

#include <map>
#include <string>
#include <vector>

#include "compare.h"
#include "tinygptv/error.h"
#include "tinygptv/npy.h"
#include "tinygptv/qformer.h"
#include "tolerances.h"

using namespace tgv;

namespace {

std::vector<float> load(const std::string& path, std::vector<int64_t>* shape = nullptr) {
  NpyArray a = read_npy(path);
  if (shape) *shape = a.shape;
  return a.to_f32();
}

void check_qformer(const std::string& config) {
  const std::string dir = std::string(TGV_TEST_DATA) + "/pipeline/" + config;
  const std::string fixture = "pipeline/" + config;
  ModelFile mf(dir + "/model.safetensors");
  const QFormerConfig& cfg = mf.config().qformer;
  const QFormerWeights w = load_qformer(mf, cfg, mf.config().vision.width);
  std::vector<int64_t> ishape;
  const std::vector<float> image = load(dir + "/vision.ln.npy", &ishape);
  REQUIRE(ishape.size() == 2);
  REQUIRE(ishape[1] == mf.config().vision.width);

  std::map<std::string, std::vector<float>> got;
  std::map<std::string, std::vector<int64_t>> shapes;
  std::vector<float> out(static_cast<size_t>(cfg.query_tokens) * cfg.hidden);
  qformer_forward(out.data(), image.data(), static_cast<int>(ishape[0]), w, cfg,
                  [&](const std::string& name, const float* d, const std::vector<int64_t>& s) {
                    got[name].assign(d, d + s[0] * s[1]);
                    shapes[name] = s;
                  });
  std::vector<std::string> names = {"qformer.embed"};
  for (int i = 0; i < cfg.layers; i++) names.push_back("qformer.layer." + std::to_string(i));
  REQUIRE(got.size() == names.size());
  for (const auto& name : names) {
    std::vector<int64_t> want_shape;
    const std::vector<float> want = load(dir + "/" + name + ".npy", &want_shape);
    CHECK(shapes[name] == want_shape);
    CHECK(shapes[name] == std::vector<int64_t>{cfg.query_tokens, cfg.hidden});
    test::check_close(config + " " + name, got[name], want, test::tolerance_for(fixture, name));
  }
  CHECK(out == got[names.back()]);
}

}  // namespace

TEST_CASE("qformer matches the reference: tiny config") { check_qformer("tiny"); }
TEST_CASE("qformer matches the reference: heads config (head dim 64, F16)") { check_qformer("heads"); }

TEST_CASE("cross-attention every cross_attention_freq-th layer from 0") {
  QFormerConfig cfg;
  cfg.cross_attention_freq = 2;
  CHECK(qformer_has_cross(0, cfg));
  CHECK_FALSE(qformer_has_cross(1, cfg));
  CHECK(qformer_has_cross(2, cfg));
  cfg.cross_attention_freq = 1;
  CHECK(qformer_has_cross(1, cfg));
}

TEST_CASE("load_qformer wants cross-attention tensors exactly where they are used") {
  ModelFile mf(std::string(TGV_TEST_DATA) + "/pipeline/tiny/model.safetensors");
  QFormerConfig cfg = mf.config().qformer;
  cfg.cross_attention_freq = 1;  // layer 1 would need crossattention.* too: the file has none
  try {
    load_qformer(mf, cfg, mf.config().vision.width);
    FAIL("expected an error");
  } catch (const Error& e) {
    CHECK(std::string(e.what()).find("Qformer.bert.encoder.layer.1.crossattention") != std::string::npos);
  }
  cfg = mf.config().qformer;
  CHECK_THROWS_AS(load_qformer(mf, cfg, mf.config().vision.width + 1), Error);  // key/value width
}
