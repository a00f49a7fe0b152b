// The projector (llama_proj, llama_proj2) against the PyTorch reference
// (tests/reference/vision_ref.py, fixtures by make_pipeline.py); input: the
// reference's last Q-Former layer.
#include <doctest/doctest.h>

#include <map>
#include <string>
#include <vector>

#include "compare.h"
#include "tinygptv/error.h"
#include "tinygptv/npy.h"
#include "tinygptv/projector.h"
#include "tolerances.h"

using namespace tgv;

namespace {

void check_projector(const std::string& config) {
  const std::string dir = std::string(TGV_TEST_DATA) + "/pipeline/" + config;
  const std::string fixture = "pipeline/" + config;
  ModelFile mf(dir + "/model.safetensors");
  const ModelConfig& cfg = mf.config();
  const ProjectorWeights w = load_projector(mf, cfg);
  const int Q = cfg.qformer.query_tokens;
  const NpyArray in = read_npy(dir + "/qformer.layer." + std::to_string(cfg.qformer.layers - 1) + ".npy");
  REQUIRE(in.shape == std::vector<int64_t>{Q, cfg.qformer.hidden});
  const std::vector<float> q = in.to_f32();

  std::map<std::string, std::vector<float>> got;
  std::map<std::string, std::vector<int64_t>> shapes;
  std::vector<float> out(static_cast<size_t>(Q) * cfg.llm.hidden);
  projector_forward(out.data(), q.data(), w, Q, [&](const std::string& name, const float* d, const std::vector<int64_t>& s) {
    got[name].assign(d, d + s[0] * s[1]);
    shapes[name] = s;
  });
  const std::map<std::string, std::vector<int64_t>> want_shapes = {{"projector.fc1", {Q, cfg.projector.mid}},
                                                                   {"projector.fc2", {Q, cfg.llm.hidden}}};
  REQUIRE(got.size() == 2);
  for (const auto& [name, shape] : want_shapes) {
    const NpyArray want = read_npy(dir + "/" + name + ".npy");
    CHECK(want.shape == shape);
    CHECK(shapes[name] == shape);
    test::check_close(config + " " + name, got[name], want.to_f32(), test::tolerance_for(fixture, name));
  }
  CHECK(out == got["projector.fc2"]);
}

}  // namespace

TEST_CASE("projector matches the reference: tiny config") { check_projector("tiny"); }
TEST_CASE("projector matches the reference: heads config (F16)") { check_projector("heads"); }

TEST_CASE("load_projector checks shapes against the config") {
  ModelFile mf(std::string(TGV_TEST_DATA) + "/pipeline/tiny/model.safetensors");
  ModelConfig cfg = mf.config();
  cfg.projector.mid += 1;
  try {
    load_projector(mf, cfg);
    FAIL("expected an error");
  } catch (const Error& e) {
    CHECK(std::string(e.what()).find("llama_proj.weight") != std::string::npos);
  }
}
