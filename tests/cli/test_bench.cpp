// `tinygptv bench` and its parts: the random model is an ordinary model file that
// lives in memory (every tensor the loaders read, the dtype rule, N(0, 0.02) values,
// the same bytes whatever the thread count, and the same bytes once saved, which
// `ask --timings` then runs on); the FLOP count agrees with one made independently
// from the tensor list; and `bench --random tiny --reps 1` runs every step and prints
// every row. Nothing here asserts a time.
#include <doctest/doctest.h>

#include <unistd.h>

#include <cmath>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

#include "tinygptv/model_cost.h"
#include "tinygptv/quantize.h"
#include "tinygptv/random_model.h"
#include "tinygptv/session.h"
#include "tinygptv/thread_pool.h"

using namespace tgv;
namespace fs = std::filesystem;

namespace {

fs::path temp_path(const std::string& tag) {
  return fs::temp_directory_path() / ("tgv_test_bench_" + tag + "_" + std::to_string(::getpid()));
}

std::string read_text(const fs::path& p) {
  std::ifstream f(p, std::ios::binary);
  std::stringstream ss;
  ss << f.rdbuf();
  return ss.str();
}

// Runs the CLI; returns its exit status with stdout and stderr in *out and *err.
int run(const std::string& args, std::string* out, std::string* err) {
  const fs::path o = temp_path("stdout"), e = temp_path("stderr");
  const std::string cmd = std::string("\"") + TGV_BINARY + "\" " + args + " >\"" + o.string() + "\" 2>\"" + e.string() + "\"";
  const int rc = std::system(cmd.c_str());
  *out = read_text(o), *err = read_text(e);
  fs::remove(o), fs::remove(e);
  return rc;
}

bool same_bytes(const ModelFile& a, const ModelFile& b) {
  const MappedFile &x = a.file().bytes(), &y = b.file().bytes();
  return x.size() == y.size() && std::memcmp(x.data(), y.data(), x.size()) == 0;
}

}  // namespace

TEST_CASE("random model: every tensor the loaders read, in the dtype the recipe gives, values N(0, 0.02) or ones") {
  const ModelConfig c = tiny_model_config();
  const std::vector<TensorEntry> entries = model_tensors(c);
  for (const DType dt : {DType::F32, DType::F16, DType::BF16, DType::Q8_0, DType::Q4_0, DType::Q5_1, DType::Q4_K}) {
    CAPTURE(dtype_name(dt));
    ModelFile mf = random_model_file(c, dt);
    REQUIRE(mf.file().tensors().size() == entries.size());
    REQUIRE(mf.file().metadata().at("random_weights") == "true");
    for (const TensorEntry& e : entries) {
      const Tensor& t = mf.file().get(e.name, e.shape);
      CHECK(t.dtype == recipe_dtype(e.name, e.shape, dt, false).dtype);
    }
    // The recipe: vectors and tables F32; matrices the dtype (Q4_K falls back to Q5_0 on
    // rows of 128 / 512); the 588-wide patch embedding F32 for the block formats.
    const bool block = dtype_block_size(dt) > 1;
    CHECK(mf.file().get("visual_encoder.pos_embed").dtype == DType::F32);
    CHECK(mf.file().get("llama_model.model.layers.0.mlp.fc1.bias").dtype == DType::F32);
    CHECK(mf.file().get("llama_model.model.layers.0.mlp.fc1.weight").dtype == (dt == DType::Q4_K ? DType::Q5_0 : dt));
    CHECK(mf.file().get("visual_encoder.patch_embed.proj.weight").dtype == (block ? DType::F32 : dt));

    const std::vector<float> w = tensor_f32(mf.file().get("llama_model.model.layers.1.mlp.fc2.weight"));  // 65536 values
    double sum = 0, sq = 0;
    for (float x : w) sum += x, sq += static_cast<double>(x) * x;
    const double mean = sum / w.size(), sd = std::sqrt(sq / w.size() - mean * mean);
    CHECK(std::fabs(mean) < 0.001);      // 0.02 / sqrt(65536) = 8e-5 expected
    CHECK(std::fabs(sd - 0.02) < 0.001 * (dtype_block_size(dt) > 1 && dt != DType::Q8_0 ? 3 : 1));  // sampling error ~0.3 %; 4-5 bit rounding adds a few %
    for (float x : tensor_f32(mf.file().get("llama_model.model.layers.0.post_layernorm.weight"))) REQUIRE(x == 1.0f);

    Model model(std::move(mf));  // the loaders accept it: every name and shape is right
    CHECK(model.llm.layers.size() == static_cast<size_t>(c.llm.layers));
  }
}

TEST_CASE("random model: the same bytes whatever the thread count; another seed, other bytes") {
  const ModelConfig c = tiny_model_config();
  set_num_threads(1);
  const ModelFile one = random_model_file(c, DType::Q8_0);
  set_num_threads(3);
  const ModelFile three = random_model_file(c, DType::Q8_0);
  const ModelFile other = random_model_file(c, DType::Q8_0, 2);
  set_num_threads(0);
  CHECK(same_bytes(one, three));
  CHECK(!same_bytes(one, other));
}

TEST_CASE("encode_flops counts every matrix product of the image side") {
  // Independently: 2 x (rows x cols) per matrix per row it multiplies, from the tensor
  // list, plus attention (QK^T and AV: 2 x 2 x rows x keys x width).
  const ModelConfig c = tiny_model_config();
  const double g = c.vision.image_size / c.vision.patch_size, N = g * g + 1, Q = c.qformer.query_tokens;
  double expect = 0;
  for (const TensorEntry& e : model_tensors(c)) {
    if (e.shape.size() < 2 || e.name.find(".weight") == std::string::npos || e.name.find("llama_model") == 0) continue;
    double size = 1;
    for (int64_t d : e.shape) size *= static_cast<double>(d);
    double rows = Q;                                                      // Q-Former and projector rows: the queries
    if (e.name.find("visual_encoder.blocks") == 0) rows = N;              // ViT rows: every token
    if (e.name.find("patch_embed") != std::string::npos) rows = N - 1;    // the patches
    if (e.name.find("crossattention.self.key") != std::string::npos ||
        e.name.find("crossattention.self.value") != std::string::npos) rows = N;  // keys/values of the image tokens
    expect += 2 * size * rows;
  }
  expect += c.vision.layers * 4 * N * N * c.vision.width;
  for (int i = 0; i < c.qformer.layers; i++) expect += 4 * Q * Q * c.qformer.hidden + (i % 2 == 0 ? 4 * Q * N * c.qformer.hidden : 0);
  CHECK(encode_flops(c) == doctest::Approx(expect).epsilon(1e-9));
}

TEST_CASE("save_model_file writes a normal model file that ask runs on, with --timings") {
  REQUIRE(fs::exists(TGV_BINARY));
  const fs::path path = temp_path("model.safetensors");
  const ModelFile mf = random_model_file(tiny_model_config(), DType::F16);
  size_t last = 0;
  save_model_file(mf, path.string(), [&](size_t done, size_t total) {
    CHECK(done <= total);
    last = done;
  });
  CHECK(last == mf.file().bytes().size());
  {
    const ModelFile back(path.string());
    CHECK(same_bytes(mf, back));
  }
  std::string out, err;
  const std::string image = std::string(TGV_TEST_DATA) + "/../../weights/examples/chelsea.jpg";
  const int rc = run("ask --model \"" + path.string() + "\" --image \"" + image + "\" --max-tokens 4 --timings \"What is this?\"", &out, &err);
  fs::remove(path);
  CHECK(rc == 0);
  CAPTURE(err);
  CHECK(err.find("timings: load") != std::string::npos);
  CHECK(err.find("image encode") != std::string::npos);
  CHECK(err.find("timings: prompt") != std::string::npos);
  CHECK(err.find("timings: answer 4 tokens") != std::string::npos);
}

TEST_CASE("bench --random tiny --reps 1 runs every step and prints every row") {
  REQUIRE(fs::exists(TGV_BINARY));
  std::string out, err;
  const int rc = run("bench --random tiny --reps 1 --threads 2", &out, &err);
  CAPTURE(out);
  CAPTURE(err);
  CHECK(rc == 0);  // non-zero also when a step produced inf/NaN
  for (const char* row : {"| load ", "| encode 224 px ", "| prefill 64 ", "| prefill 256 ", "| decode 64 @ 600 ", "machine: read bandwidth",
                          "FMA peak", "of weights +", "KV cache per token", "peak RSS", "random tiny F16"})
    CHECK_MESSAGE(out.find(row) != std::string::npos, row);
  size_t fractions = 0;
  for (size_t at = out.find("% of "); at != std::string::npos; at = out.find("% of ", at + 1)) fractions++;
  CHECK(fractions == 4);  // encode, two prefills, decode
  CHECK(out.find("non-finite") == std::string::npos);

  CHECK(run("bench --random huge", &out, &err) != 0);
  CHECK(err.find("--random must be full or tiny") != std::string::npos);
  CHECK(run("bench --random tiny --dtype q8_1", &out, &err) != 0);
  CHECK(err.find("--dtype must be one of") != std::string::npos);

  // --depth: the decode row names it; one that leaves no room for 64 tokens in the
  // 2,048-position context (or is negative) is an error whatever the steps.
  CHECK(run("bench --random tiny --reps 1 --steps decode --depth 100", &out, &err) == 0);
  CHECK(out.find("| decode 64 @ 100 ") != std::string::npos);
  for (const char* depth : {"1985", "-1", "99999999999"}) {
    CAPTURE(depth);
    CHECK(run(std::string("bench --random tiny --reps 1 --steps encode --depth ") + depth, &out, &err) != 0);
    CHECK(err.find("leaves no room for 64 tokens") != std::string::npos);
  }
  CHECK(run("bench --random tiny --reps 1 --steps decode --depth 1984", &out, &err) == 0);
}
