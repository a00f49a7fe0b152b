// `tinygptv quantize` and the dtype recipe it shares with `convert --dtype`
// (include/tinygptv/quantize.h, docs/quantization.md), run as a user runs them:
//  - the recipe on the real model's tensor names and shapes;
//  - every committed tiny model quantized to every dtype: each tensor in the dtype
//    the recipe names (written here from the rule's text, not from recipe_dtype),
//    the values those of the input, the file loads through `info` and `dump`, and
//    each activation of the pipeline fixtures stays within the measured bound of the
//    float64 PyTorch reference (tests/tolerances.h, rows "quant-<dtype>/...");
//  - bad input: one line on stderr, non-zero status.
#include <doctest/doctest.h>

#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <map>
#include <string>
#include <vector>

#include "compare.h"
#include "llm/fixture.h"
#include "tinygptv/model_file.h"
#include "tinygptv/npy.h"
#include "tinygptv/quant.h"
#include "tinygptv/quantize.h"
#include "tinygptv/safetensors.h"
#include "tinygptv/session.h"
#include "tolerances.h"

using namespace tgv;
using namespace tgv::test;
namespace fs = std::filesystem;

namespace {

fs::path temp(const std::string& tag) {
  return fs::temp_directory_path() / ("tgv_test_quantize_" + tag + "_" + std::to_string(::getpid()));
}

// Runs the CLI; returns its exit status, stdout and stderr.
int run(const std::string& args, std::string* out, std::string* err) {
  const fs::path o = temp("stdout"), e = temp("stderr");
  const std::string cmd = std::string("\"") + TGV_BINARY + "\" " + args + " >\"" + o.string() + "\" 2>\"" + e.string() + "\"";
  const int rc = std::system(cmd.c_str());
  *out = read_text(o.string());
  *err = read_text(e.string());
  fs::remove(o);
  fs::remove(e);
  return rc;
}

const char* const kDTypes[] = {"f16", "bf16", "q8_0", "q4_0", "q4_1", "q5_0", "q5_1", "q4_k", "q6_k"};

const std::string kData = TGV_TEST_DATA;
const std::string kModels[] = {kData + "/models/tiny-pipeline.safetensors", kData + "/pipeline/tiny/model.safetensors",
                               kData + "/pipeline/heads/model.safetensors"};

DType dtype_of(const std::string& upper) {
  DType t;
  REQUIRE(dtype_from_name(upper, &t));
  return t;
}

std::string upper(std::string s) {
  for (char& c : s) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return s;
}

// The recipe, written from its description (docs/quantization.md) independently of
// recipe_dtype: vectors F32; matrices the dtype; embedding/lm_head Q8_0 (Q6_K for
// the K recipes); rows not whole blocks: Q4_K -> Q5_0, Q6_K -> Q8_0, else F32.
DType expected_dtype(const std::string& name, const std::vector<int64_t>& shape, const std::string& recipe, bool pure) {
  const bool matrix = shape.size() >= 2 && name.size() > 7 && name.substr(name.size() - 7) == ".weight";
  if (!matrix) return DType::F32;
  std::string want = recipe;
  const bool k = recipe == "q4_k" || recipe == "q6_k";
  if (!pure && recipe[0] == 'q' && (name == "llama_model.model.embed_tokens.weight" || name == "llama_model.lm_head.weight"))
    want = k ? "q6_k" : "q8_0";
  if (want == "f16" || want == "bf16") return dtype_of(upper(want));
  int64_t cols = 1;
  for (size_t i = 1; i < shape.size(); i++) cols *= shape[i];
  if (want == "q4_k" && cols % 256) want = "q5_0";
  if (want == "q6_k" && cols % 256) want = "q8_0";
  if (cols % 32) return DType::F32;
  return dtype_of(upper(want));
}

}  // namespace

TEST_CASE("the recipe on the real model's tensors") {
  const std::string emb = "llama_model.model.embed_tokens.weight", head = "llama_model.lm_head.weight";
  struct Case {
    std::string name;
    std::vector<int64_t> shape;
    DType wanted;
    bool pure;
    DType want, preferred;
  } cases[] = {
      {"llama_model.model.layers.0.mlp.fc1.weight", {10240, 2560}, DType::Q4_0, false, DType::Q4_0, DType::Q4_0},
      {"llama_model.model.layers.0.mlp.fc1.bias", {10240}, DType::Q4_0, false, DType::F32, DType::F32},
      {"llama_model.model.layers.0.input_layernorm.weight", {2560}, DType::Q4_K, false, DType::F32, DType::F32},
      {"llama_model.model.layers.0.input_layernorm.weight", {2560}, DType::F16, false, DType::F32, DType::F32},
      {"visual_encoder.pos_embed", {1, 257, 1408}, DType::Q8_0, false, DType::F32, DType::F32},
      {"visual_encoder.cls_token", {1, 1, 1408}, DType::Q8_0, false, DType::F32, DType::F32},
      {"query_tokens", {1, 32, 768}, DType::Q4_0, false, DType::F32, DType::F32},
      {emb, {51200, 2560}, DType::Q4_0, false, DType::Q8_0, DType::Q8_0},
      {head, {51200, 2560}, DType::Q5_1, false, DType::Q8_0, DType::Q8_0},
      {emb, {51200, 2560}, DType::Q4_K, false, DType::Q6_K, DType::Q6_K},
      {head, {51200, 2560}, DType::Q6_K, false, DType::Q6_K, DType::Q6_K},
      {emb, {51200, 2560}, DType::Q4_0, true, DType::Q4_0, DType::Q4_0},
      {head, {51200, 2560}, DType::F16, false, DType::F16, DType::F16},
      {head, {51200, 2560}, DType::F32, false, DType::F32, DType::F32},
      // rows of 1408 (ViT, Q-Former cross-attention key/value): whole 32-blocks, not 256-blocks
      {"visual_encoder.blocks.0.attn.qkv.weight", {4224, 1408}, DType::Q4_K, false, DType::Q5_0, DType::Q4_K},
      {"Qformer.bert.encoder.layer.0.crossattention.self.key.weight", {768, 1408}, DType::Q6_K, false, DType::Q8_0, DType::Q6_K},
      {"visual_encoder.blocks.0.mlp.fc2.weight", {1408, 6144}, DType::Q4_K, false, DType::Q4_K, DType::Q4_K},
      // the patch embedding, rows of 3*14*14 = 588: no block fits
      {"visual_encoder.patch_embed.proj.weight", {1408, 3, 14, 14}, DType::Q4_K, false, DType::F32, DType::Q4_K},
      {"visual_encoder.patch_embed.proj.weight", {1408, 3, 14, 14}, DType::Q8_0, true, DType::F32, DType::Q8_0},
      {"visual_encoder.patch_embed.proj.weight", {1408, 3, 14, 14}, DType::BF16, false, DType::BF16, DType::BF16},
  };
  for (const Case& c : cases) {
    CAPTURE(c.name);
    CAPTURE(dtype_name(c.wanted));
    const RecipeChoice r = recipe_dtype(c.name, c.shape, c.wanted, c.pure);
    CHECK(dtype_name(r.dtype) == std::string(dtype_name(c.want)));
    CHECK(dtype_name(r.preferred) == std::string(dtype_name(c.preferred)));
  }
  DType t;
  for (const char* name : kDTypes) CHECK(recipe_dtype_from_name(name, &t));
  for (const char* name : {"f32", "q8_0"}) CHECK(recipe_dtype_from_name(name, &t));
  for (const char* name : {"q8_1", "q8_k", "Q4_0", "q4_K", "int8", ""}) CHECK_FALSE(recipe_dtype_from_name(name, &t));
}

TEST_CASE("quantize: every tiny model to every dtype; the recipe's dtypes, the input's values, the file loads") {
  REQUIRE(fs::exists(TGV_BINARY));
  for (const std::string& model : kModels) {
    const SafetensorsFile in(model);
    for (const std::string dtype : kDTypes) {
      CAPTURE(model);
      CAPTURE(dtype);
      const fs::path q = temp("q.safetensors");
      std::string out, err;
      REQUIRE_MESSAGE(run("quantize " + model + " " + q.string() + " --dtype " + dtype, &out, &err) == 0, err);
      CHECK(out.find("wrote " + q.string()) != std::string::npos);
      const ModelFile got(q.string());
      CHECK(got.file().metadata().at("config") == in.metadata().at("config"));
      CHECK(Json::parse(got.file().metadata().at("quantization")).find("dtype")->as_string() == dtype);
      REQUIRE(got.file().tensors().size() == in.tensors().size());
      size_t quantized = 0;
      for (const Tensor& w : in.tensors()) {
        CAPTURE(w.name);
        const Tensor& g = got.file().get(w.name, w.shape);
        const DType want = expected_dtype(w.name, w.shape, dtype, false);
        CHECK(dtype_name(g.dtype) == std::string(dtype_name(want)));
        const std::vector<float> values = tensor_f32(w), stored = tensor_f32(g);
        if (const QuantFormat* f = quant_format(g.dtype)) {  // the quantizer's blocks of the input's values
          std::vector<uint8_t> blocks(g.nbytes());
          f->quantize_row(blocks.data(), values.data(), values.size());
          CHECK(std::memcmp(blocks.data(), g.data, blocks.size()) == 0);
          quantized++;
        } else if (g.dtype == DType::F16) {
          for (size_t i = 0; i < values.size(); i++) REQUIRE(stored[i] == f16_to_f32(f32_to_f16(values[i])));
        } else if (g.dtype == DType::BF16) {
          for (size_t i = 0; i < values.size(); i++) REQUIRE(stored[i] == bf16_to_f32(f32_to_bf16(values[i])));
        } else {
          CHECK(stored == values);
        }
      }
      if (dtype[0] == 'q') CHECK(quantized > 0);
      // The patch embedding's rows of 3*14*14 = 588 fit no block: a warning names it.
      if (dtype[0] == 'q') CHECK(err.find("written as F32 instead of " + upper(dtype) +
                                          ": visual_encoder.patch_embed.proj.weight") != std::string::npos);
      // Loads as the commands load it: every weight of every stage, shape- and dtype-checked.
      const Model loaded(q.string());
      CHECK(loaded.llm.layers.size() == static_cast<size_t>(loaded.config().llm.layers));
      CHECK(run("info --model " + q.string(), &out, &err) == 0);
      CHECK(out.find("quantization") != std::string::npos);
      fs::remove(q);
    }
  }
}

TEST_CASE("quantize --pure: the embedding and lm_head get the dtype too") {
  const fs::path q = temp("pure.safetensors");
  std::string out, err;
  // pipeline/heads: D = 160, rows of 160 are whole 32-blocks
  REQUIRE_MESSAGE(run("quantize " + kModels[2] + " " + q.string() + " --dtype q4_0 --pure --quiet", &out, &err) == 0, err);
  const SafetensorsFile f(q.string());
  CHECK(f.get("llama_model.model.embed_tokens.weight").dtype == DType::Q4_0);
  CHECK(f.get("llama_model.lm_head.weight").dtype == DType::Q4_0);
  CHECK(Json::parse(f.metadata().at("quantization")).find("pure")->as_bool());
  // and a quantized file quantizes again (dequantized first): q4_0 -> q8_0
  const fs::path q2 = temp("again.safetensors");
  REQUIRE_MESSAGE(run("quantize " + q.string() + " " + q2.string() + " --dtype q8_0 --quiet", &out, &err) == 0, err);
  const SafetensorsFile f2(q2.string());
  const Tensor& e = f2.get("llama_model.model.embed_tokens.weight");
  CHECK(e.dtype == DType::Q8_0);
  const std::vector<float> before = tensor_f32(f.get("llama_model.model.embed_tokens.weight"));
  std::vector<BlockQ8_0> blocks(before.size() / 32);
  quantize_row_q8_0(blocks.data(), before.data(), before.size());
  CHECK(std::memcmp(blocks.data(), e.data, e.nbytes()) == 0);
  fs::remove(q);
  fs::remove(q2);
}

TEST_CASE("quantize and the loaders report bad input as one line and a non-zero status") {
  const fs::path q = temp("bad.safetensors"), bad = temp("malformed.safetensors");
  std::string out, err;
  struct Case {
    std::string args, message;
  } cases[] = {
      {"quantize " + kModels[1] + " " + q.string() + " --dtype q3_k", "--dtype must be one of f32|f16|bf16|q8_0"},
      {"quantize " + kModels[1] + " " + q.string() + " --dtype q8_k", "--dtype must be one of"},
      {"quantize " + kModels[1] + " " + q.string(), "missing required option --dtype"},
      {"quantize " + kModels[1] + " --dtype q4_0", "usage: tinygptv quantize IN.safetensors OUT.safetensors"},
      {"quantize " + kData + "/nonexistent.safetensors " + q.string() + " --dtype q4_0", "nonexistent.safetensors"},
      {"quantize " + kModels[1] + " " + kModels[1] + " --dtype q4_0", "is the input file"},
      {"convert --phi2 x --vit y --qformer z --out " + q.string() + " --dtype q2_k", "--dtype must be one of"},
  };
  for (const Case& c : cases) {
    CAPTURE(c.args);
    CHECK(run(c.args, &out, &err) != 0);
    CHECK(err.find(c.message) != std::string::npos);
    CHECK(std::count(err.begin(), err.end(), '\n') == 1);
  }
  CHECK(!fs::exists(q));

  // Hand-made files the recipe never writes: a quantized matrix whose rows are not
  // whole blocks, a quantized vector. quantize and the loaders name the tensor.
  const ModelFile tiny(kModels[1]);
  auto write_with = [&](const std::string& name, DType dtype, const std::vector<int64_t>& shape) {
    std::vector<TensorEntry> entries;
    for (const Tensor& t : tiny.file().tensors()) entries.push_back({t.name, t.name == name ? dtype : t.dtype, t.name == name ? shape : t.shape});
    std::vector<std::pair<std::string, std::string>> meta(tiny.file().metadata().begin(), tiny.file().metadata().end());
    write_safetensors(bad.string(), entries, meta, [&](size_t i, std::vector<uint8_t>& bytes) {
      const Tensor& t = tiny.file().tensors()[i];
      const std::vector<float> v = tensor_f32(t);
      encode_floats(bytes, v.data(), v.size(), entries[i].dtype);
    });
  };
  // llm fc2 [32, 128] written as [128, 32] Q4_K: 4096 weights = 16 blocks, but rows of 32
  const std::string fc2 = "llama_model.model.layers.0.mlp.fc2.weight";
  write_with(fc2, DType::Q4_K, {128, 32});
  CHECK(run("quantize " + bad.string() + " " + q.string() + " --dtype q8_0", &out, &err) != 0);
  CHECK(err.find("tensor '" + fc2 + "' [128, 32] is Q4_K but its rows of 32 are not whole blocks of 256") != std::string::npos);
  CHECK(std::count(err.begin(), err.end(), '\n') == 1);
  // the loader: the shape check comes first for this file, so a right shape with bad rows
  // needs K-blocks: qkv [96, 32] -> 3072 weights = 12 Q4_K blocks, rows of 32
  const std::string qkv = "llama_model.model.layers.1.self_attn.query_key_value.weight";
  write_with(qkv, DType::Q4_K, {96, 32});
  CHECK(run("dump --model " + bad.string() + " --prompt-ids 1,2 --out " + temp("dump").string(), &out, &err) != 0);
  CHECK(err.find("tensor '" + qkv + "' [96, 32] is Q4_K but its rows of 32 are not whole blocks of 256") != std::string::npos);
  CHECK(std::count(err.begin(), err.end(), '\n') == 1);
  const std::string norm = "llama_model.model.layers.0.input_layernorm.weight";  // [32]: one Q8_0 block
  write_with(norm, DType::Q8_0, {32});
  CHECK(run("dump --model " + bad.string() + " --prompt-ids 1,2 --out " + temp("dump").string(), &out, &err) != 0);
  CHECK(err.find("tensor '" + norm + "' is Q8_0; vectors and tables must be F32, F16 or BF16") != std::string::npos);
  CHECK(std::count(err.begin(), err.end(), '\n') == 1);
  const std::string dense = "llama_model.model.layers.1.self_attn.dense.weight";  // [32, 32]: 4 blocks of the activation format Q8_K
  write_with(dense, DType::Q8_K, {32, 32});
  CHECK(run("dump --model " + bad.string() + " --prompt-ids 1,2 --out " + temp("dump").string(), &out, &err) != 0);
  CHECK(err.find("tensor '" + dense + "' is Q8_K, an activation format, not a weight format") != std::string::npos);
  fs::remove(bad);
  fs::remove_all(temp("dump"));
}
