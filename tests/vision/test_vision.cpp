// EVA ViT-g/14 + ln_vision against the PyTorch reference (tests/reference/vision_ref.py,
// fixtures by make_pipeline.py): every vision.* activation on the "tiny" config (all
// F32) and on "heads" (real head dim 88, F16 matrices, a position table made for a
// 2x2 grid that the loader must interpolate to the model's 3x3). Plus the bicubic
// position-table interpolation alone against F.interpolate, and load-time errors.
#include <doctest/doctest.h>

#include <map>
#include <string>
#include <vector>

#include "compare.h"
#include "tinygptv/error.h"
#include "tinygptv/npy.h"
#include "tinygptv/vision.h"
#include "tolerances.h"

using namespace tgv;

namespace {

std::vector<float> load(const std::string& path, std::vector<int64_t>* shape = nullptr) {
  NpyArray a = read_npy(path);
  if (shape) *shape = a.shape;
  return a.to_f32();
}

void check_vit(const std::string& config) {
  const std::string dir = std::string(TGV_TEST_DATA) + "/pipeline/" + config;
  const std::string fixture = "pipeline/" + config;
  ModelFile mf(dir + "/model.safetensors");
  const VisionConfig& cfg = mf.config().vision;
  const VitWeights w = load_vit(mf, cfg);
  std::vector<int64_t> pshape;
  const std::vector<float> pixels = load(dir + "/pixels.npy", &pshape);
  REQUIRE(pshape == std::vector<int64_t>{3, cfg.image_size, cfg.image_size});

  const int g = cfg.image_size / cfg.patch_size, T = g * g + 1;
  std::map<std::string, std::vector<float>> got;
  std::map<std::string, std::vector<int64_t>> shapes;
  std::vector<float> out(static_cast<size_t>(T) * cfg.width);
  vit_forward(out.data(), pixels.data(), w, cfg, [&](const std::string& name, const float* d, const std::vector<int64_t>& s) {
    size_t n = 1;
    for (int64_t x : s) n *= static_cast<size_t>(x);
    got[name].assign(d, d + n);
    shapes[name] = s;
  });
  std::vector<std::string> names = {"vision.embed"};
  for (int i = 0; i < cfg.layers; i++) names.push_back("vision.block." + std::to_string(i));
  names.push_back("vision.ln");
  REQUIRE(got.size() == names.size());
  for (const auto& name : names) {
    std::vector<int64_t> want_shape;
    const std::vector<float> want = load(dir + "/" + name + ".npy", &want_shape);
    CHECK(shapes[name] == want_shape);
    CHECK(shapes[name] == std::vector<int64_t>{T, cfg.width});
    test::check_close(config + " " + name, got[name], want, test::tolerance_for(fixture, name));
  }
  CHECK(out == got["vision.ln"]);
}

// A float32 tensor view over `data` (a table [1, rows, C]).
Tensor f32_view(const std::vector<float>& data, std::vector<int64_t> shape) {
  Tensor t;
  t.name = "visual_encoder.pos_embed";
  t.dtype = DType::F32;
  t.shape = std::move(shape);
  t.data = data.data();
  return t;
}

}  // namespace

TEST_CASE("vit matches the reference: tiny config (F32)") { check_vit("tiny"); }

TEST_CASE("vit matches the reference: heads config (head dim 88, F16, interpolated position table)") {
  check_vit("heads");
}

TEST_CASE("position table interpolation matches F.interpolate(bicubic, align_corners=False) in float32") {
  const int cases[][3] = {{2, 3, 5}, {4, 7, 3}, {5, 3, 4}, {16, 32, 2}};  // G, G2, C
  for (const auto& c : cases) {
    const int G = c[0], G2 = c[1], C = c[2];
    const std::string base = std::string(TGV_TEST_DATA) + "/pipeline/interp/" + std::to_string(G) + "_" + std::to_string(G2);
    std::vector<int64_t> in_shape, out_shape;
    const std::vector<float> in = load(base + ".in.npy", &in_shape);
    const std::vector<float> want = load(base + ".out.npy", &out_shape);
    REQUIRE(in_shape == std::vector<int64_t>{1, G * G + 1, C});
    REQUIRE(out_shape == std::vector<int64_t>{1, G2 * G2 + 1, C});
    const std::vector<float> got = position_table(f32_view(in, in_shape), G2, C);
    const std::string name = "interp " + std::to_string(G) + "->" + std::to_string(G2);
    test::check_close(name, got, want, test::tolerance_for("pipeline/interp", "interp"));
    // the grid part alone, through the raw function
    std::vector<float> grid(static_cast<size_t>(G2) * G2 * C);
    interpolate_pos_grid(grid.data(), in.data() + C, G, G2, C);
    CHECK(std::vector<float>(got.begin() + C, got.end()) == grid);
    CHECK(std::vector<float>(got.begin(), got.begin() + C) == std::vector<float>(in.begin(), in.begin() + C));  // cls kept
  }
}

TEST_CASE("position table: same grid is copied, bad shapes are errors") {
  std::vector<float> t(5 * 3);
  for (size_t i = 0; i < t.size(); i++) t[i] = static_cast<float>(i) * 0.25f;
  CHECK(position_table(f32_view(t, {1, 5, 3}), 2, 3) == t);
  CHECK_THROWS_AS(position_table(f32_view(t, {1, 5, 3}), 2, 4), Error);    // width
  CHECK_THROWS_AS(position_table(f32_view(t, {5, 3}), 2, 3), Error);       // rank
  std::vector<float> u(6 * 3);
  CHECK_THROWS_AS(position_table(f32_view(u, {1, 6, 3}), 2, 3), Error);    // 5 grid cells: not square
  std::vector<float> one(3);
  CHECK_THROWS_AS(position_table(f32_view(one, {1, 1, 3}), 2, 3), Error);  // no grid at all
}

TEST_CASE("load_vit names the tensor whose shape disagrees with the config") {
  ModelFile mf(std::string(TGV_TEST_DATA) + "/pipeline/tiny/model.safetensors");
  VisionConfig cfg = mf.config().vision;
  cfg.mlp_dim += 1;
  try {
    load_vit(mf, cfg);
    FAIL("expected an error");
  } catch (const Error& e) {
    CHECK(std::string(e.what()).find("visual_encoder.blocks.0.mlp.fc1.weight") != std::string::npos);
  }
  cfg = mf.config().vision;
  cfg.layers += 1;  // a block the file does not have
  CHECK_THROWS_AS(load_vit(mf, cfg), Error);
}
