// `tinygptv convert` (src/checkpoint/convert.cpp) on small files in every published
// layout, against the conversion tests/reference/make_checkpoint.py computed with
// PyTorch: name mapping, LoRA merge, per-head q/k/v fusing, defaults, block drop,
// pos_embed interpolation, config derivation, laziness and refusals.
#include <doctest/doctest.h>

#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <memory>
#include <string>

#include "compare.h"
#include "tinygptv/npy.h"
#include "tolerances.h"
#include "tinygptv/convert.h"
#include "tinygptv/error.h"
#include "tinygptv/mapped_file.h"
#include "tinygptv/model_file.h"
#include "tinygptv/safetensors.h"

using namespace tgv;

namespace {

const std::string kDir = TGV_TEST_DATA "/checkpoint/";

std::string temp_path(const std::string& name) {
  return (std::filesystem::temp_directory_path() / ("tgv_convert_" + std::to_string(::getpid()) + "_" + name)).string();
}

ConvertOptions options(const std::string& stage, const std::string& out) {
  ConvertOptions o;
  o.phi2 = kDir + "phi2";
  o.vit = kDir + "eva_vit_g.pth";
  o.qformer = kDir + "blip2_pretrained.pth";
  o.stage = stage.empty() ? "" : kDir + stage;
  o.out = temp_path(out);
  o.vit_heads = 2;  // the tiny ViT's width 16 is not a multiple of EVA's head dim 88
  return o;
}

bool is_computed(const std::string& name) {  // LoRA merges and the interpolated table; the rest are copies
  return name.find("query_key_value.weight") != std::string::npos || name.find("self_attn.dense.weight") != std::string::npos ||
         name == "visual_encoder.pos_embed";
}

// Every tensor equal to the expected one (looked up in `want_path`, then in
// `fallback_path`): bit for bit for copies, <= 1e-6 relative for computed ones; the
// same names; the config of `want_path`.
void check_against(const std::string& got_path, const std::string& want_path, DType dtype = DType::F32,
                   const std::string& fallback_path = "") {
  ModelFile got(got_path);
  SafetensorsFile want(want_path);
  std::unique_ptr<SafetensorsFile> fallback;
  if (!fallback_path.empty()) fallback = std::make_unique<SafetensorsFile>(fallback_path);
  CHECK(got.file().tensors().size() == (fallback ? fallback->tensors().size() : want.tensors().size()));
  for (const Tensor& g : got.file().tensors()) {
    CAPTURE(g.name);
    const Tensor* w = want.find(g.name);
    if (!w && fallback) w = fallback->find(g.name);
    REQUIRE(w);
    REQUIRE(g.shape == w->shape);
    // The dtype recipe (include/tinygptv/quantize.h): matrices (".weight" of 2+ dims) in
    // `dtype`, vectors and tables always F32.
    const bool matrix = g.shape.size() >= 2 && g.name.size() > 7 && g.name.substr(g.name.size() - 7) == ".weight";
    CHECK(g.dtype == (matrix ? dtype : DType::F32));
    std::vector<float> want_values = tensor_f32(*w);
    if (g.dtype == DType::F16)
      for (float& v : want_values) v = f16_to_f32(f32_to_f16(v));
    if (g.dtype == DType::BF16)
      for (float& v : want_values) v = bf16_to_f32(f32_to_bf16(v));
    const std::vector<float> got_values = tensor_f32(g);
    if (is_computed(g.name) && dtype == DType::F32) {
      // measured: LoRA merges 0 (both sum in double), pos_embed 5.7e-8
      test::check_close(g.name, got_values, want_values, 1e-6);
    } else if (!is_computed(g.name)) {
      CHECK(got_values == want_values);
    }
  }
  const Json want_cfg = Json::parse(want.metadata().at("config"));
  CHECK(got.config().to_json().dump() == ModelConfig::from_json(want_cfg).to_json().dump());
}

}  // namespace

TEST_CASE("convert: stage 3 layout (peft 0.2 names, alpha 8 from the saved config, 224)") {
  ConvertOptions o = options("stage3.pth", "s3.safetensors");
  const ConvertSummary s = convert_checkpoints(o);
  check_against(o.out, kDir + "expected_stage3.safetensors");
  CHECK(s.merged == 4);       // query_key_value and dense in 2 layers
  CHECK(s.fused == 2);        // separate q/k/v in the Phi-2 shards
  CHECK(s.defaulted == 4);    // the q/k LayerNorm biases (the stage file saves weights only)
  CHECK(s.interpolated == 0);
  CHECK(s.lora_alpha == 8);
  CHECK(s.lora_scale == 2);
  // read: ViT 4 + 40 x 13 = 524; BLIP-2 99 (text path, buffers and extras included);
  // Phi-2 1 + 2 x 14 + 4 = 33; stage 4 + 2 x 8 + 1 = 21.
  CHECK(s.read == 677);
  CHECK(s.written == 623);  // the expected file's tensor count is checked in check_against
  // used: every written tensor not defaulted, + 4 more per fused layer (6 inputs -> 2), + A and B per merge
  CHECK(s.dropped == s.read - (s.written - s.defaulted + 4 * s.fused + 2 * s.merged));
  std::remove(o.out.c_str());
}

TEST_CASE("convert: stage 4 layout (new peft names, base_layer, alpha default 16, 448, pos_embed interpolated)") {
  for (const char* stage : {"stage4.pth", "stage4_deflated.pth", "stage4_zip64.pth"}) {
    CAPTURE(stage);
    ConvertOptions o = options(stage, "s4.safetensors");
    const ConvertSummary s = convert_checkpoints(o);
    check_against(o.out, kDir + "expected_stage4.safetensors", DType::F32, kDir + "expected_stage3.safetensors");
    CHECK(s.lora_alpha == 16);
    CHECK(s.interpolated == 1);
    CHECK(s.config.vision.image_size == 448);
    std::remove(o.out.c_str());
  }
}

TEST_CASE("convert: the optimizer state is never read (its entry is corrupt)") {
  ConvertOptions o = options("stage3_bad_optimizer.pth", "lazy.safetensors");
  convert_checkpoints(o);
  check_against(o.out, kDir + "expected_stage3.safetensors");
  std::remove(o.out.c_str());
}

TEST_CASE("convert: Phi-2 as PyTorch shards (pytorch_model.bin.index.json)") {
  ConvertOptions o = options("stage3.pth", "bin.safetensors");
  o.phi2 = kDir + "phi2_bin";
  convert_checkpoints(o);
  check_against(o.out, kDir + "expected_stage3.safetensors");
  std::remove(o.out.c_str());
}

TEST_CASE("convert: TinyGPT-V's Phi-2 copy (fused query_key_value, q/k LayerNorm biases present)") {
  ConvertOptions o = options("stage3.pth", "fused.safetensors");
  o.phi2 = kDir + "phi2_fused";
  const ConvertSummary s = convert_checkpoints(o);
  CHECK(s.fused == 0);
  CHECK(s.defaulted == 0);
  ModelFile got(o.out);
  SafetensorsFile want(kDir + "expected_stage3.safetensors"), phi(kDir + "phi2_fused/model.safetensors");
  CHECK(got.file().tensors().size() == want.tensors().size());
  for (const Tensor& g : got.file().tensors()) {
    CAPTURE(g.name);
    const bool bias = g.name.find("layernorm.bias") != std::string::npos && g.name.find("self_attn.") != std::string::npos;
    // the stage file saves only the q/k LayerNorm weights: the biases are this Phi-2's
    const Tensor& w = bias ? phi.get(g.name.substr(std::string("llama_model.").size())) : want.get(g.name);
    if (is_computed(g.name)) test::check_close(g.name, tensor_f32(g), tensor_f32(w), 1e-6);
    else CHECK(tensor_f32(g) == tensor_f32(w));
  }
  std::remove(o.out.c_str());
}

TEST_CASE("convert: f16 and bf16 output (matrices; vectors stay F32)") {
  for (DType d : {DType::F16, DType::BF16}) {
    ConvertOptions o = options("stage3.pth", "half.safetensors");
    o.dtype = d;
    convert_checkpoints(o);
    check_against(o.out, kDir + "expected_stage3.safetensors", d);
    std::remove(o.out.c_str());
  }
}

TEST_CASE("convert: options override the inferred settings") {
  ConvertOptions o = options("stage3.pth", "opt.safetensors");
  o.image_size = 28;
  o.vit_layers = 40;
  o.lora_alpha = 4;
  const ConvertSummary s = convert_checkpoints(o);
  CHECK(s.config.vision.image_size == 28);
  CHECK(s.config.vision.layers == 40);
  CHECK(s.lora_scale == 1.0);
  ModelFile m(o.out);
  CHECK(m.file().get("visual_encoder.pos_embed").shape == std::vector<int64_t>{1, 5, 16});
  CHECK(m.has("visual_encoder.blocks.39.mlp.fc2.bias"));
  std::remove(o.out.c_str());
}

TEST_CASE("convert: refusals name the problem") {
  ConvertOptions o = options("", "bad.safetensors");
  CHECK_THROWS_WITH_AS(convert_checkpoints(o), doctest::Contains("missing tensor 'llama_proj.weight' (expected in the --tinygptv stage file)"), Error);
  o = options("stage3.pth", "bad.safetensors");
  o.phi2 = kDir + "phi2_bad";
  CHECK_THROWS_WITH_AS(convert_checkpoints(o),
                       doctest::Contains("tensor 'llama_model.model.layers.1.mlp.fc1.bias' in " TGV_TEST_DATA "/checkpoint/phi2_bad/model.safetensors has shape [63]; the config wants [64]"),
                       Error);
  o = options("stage3.pth", "bad.safetensors");
  o.image_size = 300;
  CHECK_THROWS_WITH_AS(convert_checkpoints(o), doctest::Contains("not a multiple of the patch size 14"), Error);
  o = options("stage3.pth", "bad.safetensors");
  o.vit_heads = 0;
  CHECK_THROWS_WITH_AS(convert_checkpoints(o), doctest::Contains("not a multiple of EVA's head dim 88"), Error);
  o = options("stage3.pth", "bad.safetensors");
  o.llm_heads = 3;
  CHECK_THROWS_WITH_AS(convert_checkpoints(o), doctest::Contains("not a multiple of 3 heads"), Error);
  o = options("stage3.pth", "bad.safetensors");
  o.vit = kDir + "stage3.pth";  // the wrong file in the wrong place
  CHECK_THROWS_WITH_AS(convert_checkpoints(o), doctest::Contains("missing tensor 'visual_encoder.patch_embed.proj.weight'"), Error);
  o = options("stage3.pth", "bad.safetensors");
  o.vit_layers = 41;
  CHECK_THROWS_WITH_AS(convert_checkpoints(o), doctest::Contains("only 40 blocks"), Error);
  std::remove(o.out.c_str());
}

TEST_CASE("convert: the command line") {
  REQUIRE_MESSAGE(std::filesystem::exists(TGV_BINARY), TGV_BINARY " is not built (the test targets depend on it)");
  const std::string out = temp_path("cli.safetensors");
  const std::string cmd = std::string(TGV_BINARY) + " convert --phi2 " + kDir + "phi2 --vit " + kDir + "eva_vit_g.pth --qformer " + kDir +
                          "blip2_pretrained.pth --tinygptv " + kDir + "stage3.pth --vit-heads 2 --dtype f32 --out " + out + " > /dev/null";
  CHECK(std::system(cmd.c_str()) == 0);
  check_against(out, kDir + "expected_stage3.safetensors");
  std::remove(out.c_str());
  const std::string bad = std::string(TGV_BINARY) + " convert --phi2 " + kDir + "phi2 --vit /nonexistent --qformer x --out " + out + " 2> /dev/null";
  CHECK(std::system(bad.c_str()) != 0);
}

TEST_CASE("convert: tinygptv dump of the converted stage-3 files matches the reference run on the originals") {
  REQUIRE_MESSAGE(std::filesystem::exists(TGV_BINARY), TGV_BINARY " is not built (the test targets depend on it)");
  const std::string ref = kDir + "dump_stage3_28/";
  ConvertOptions o = options("stage3.pth", "dump.safetensors");
  o.image_size = 28;  // pos_embed interpolated 16x16 -> 2x2: small activations
  convert_checkpoints(o);
  const std::string out = temp_path("dump");
  std::filesystem::create_directories(out);
  const std::string cmd = std::string(TGV_BINARY) + " dump --model " + o.out + " --image " + ref + "pixels.npy --prompt-ids 1,2,3\\|4,5 --out " + out + " 2> " + out + "/stderr.txt";
  const int rc = std::system(cmd.c_str());
  if (rc != 0) {
    const std::vector<uint8_t> err = read_file_bytes(out + "/stderr.txt");
    FAIL_CHECK("tinygptv dump failed: " << std::string(err.begin(), err.end()));
  } else {
    size_t compared = 0;
    for (const auto& e : std::filesystem::directory_iterator(ref)) {
      const std::string name = e.path().stem().string();
      if (e.path().extension() != ".npy" || name == "pixels") continue;
      CAPTURE(name);
      REQUIRE(std::filesystem::exists(out + "/" + name + ".npy"));
      const NpyArray want = read_npy(e.path().string());
      const NpyArray got = read_npy(out + "/" + name + ".npy");
      CHECK(got.shape == want.shape);
      test::check_close(name, got.to_f32(), want.to_f32(), test::tolerance_for("checkpoint", name));
      compared++;
    }
    CHECK(compared == 53);  // vision pixels, embed, 39 blocks, ln; Q-Former embed + 3 layers; 2 projector; LLM embeds, 2 layers, final_norm, logits
    const std::vector<uint8_t> a = read_file_bytes(ref + "prompt_segments.json"), b = read_file_bytes(out + "/prompt_segments.json");
    CHECK(Json::parse(std::string(b.begin(), b.end())).dump() == Json::parse(std::string(a.begin(), a.end())).dump());
  }
  std::filesystem::remove_all(out);
  std::remove(o.out.c_str());
}

TEST_CASE("convert --dtype q8_0: matrices quantized block by block, the model still runs close to the reference") {
  ConvertOptions o = options("stage3.pth", "q8.safetensors");
  o.dtype = DType::Q8_0;
  convert_checkpoints(o);
  ModelFile got(o.out);
  SafetensorsFile want(kDir + "expected_stage3.safetensors");
  size_t quantized = 0;
  for (const Tensor& g : got.file().tensors()) {
    CAPTURE(g.name);
    const Tensor& w = want.get(g.name, g.shape);
    const std::vector<float> expected = tensor_f32(w);
    if (g.dtype == DType::Q8_0) {
      // Exactly quantize_row_q8_0 of the float32 conversion; never a vector or a 588-wide patch row.
      REQUIRE(g.shape.size() >= 2);
      REQUIRE(g.cols() % kQ8Block == 0);
      std::vector<BlockQ8_0> blocks(expected.size() / kQ8Block);
      quantize_row_q8_0(blocks.data(), expected.data(), expected.size());
      CHECK(std::memcmp(g.data, blocks.data(), blocks.size() * sizeof(BlockQ8_0)) == 0);
      quantized++;
    } else {
      CHECK(g.dtype == DType::F32);
      CHECK(tensor_f32(g) == expected);
    }
  }
  CHECK(quantized > 10);  // the LLM's and Q-Former's matrices at least

  // The whole model from the quantized file, against the float64 reference on the
  // original weights. Q8_0 rounds each weight to 1/254 of its block's largest: the
  // outputs move by a few 1e-3 relative (tests/tolerances.h), far from the 1e-5 of f32.
  o.image_size = 28;
  o.out = temp_path("q8_28.safetensors");
  convert_checkpoints(o);
  const std::string ref = kDir + "dump_stage3_28/", out = temp_path("q8dump");
  std::filesystem::create_directories(out);
  const std::string cmd = std::string(TGV_BINARY) + " dump --model " + o.out + " --image " + ref +
                          "pixels.npy --prompt-ids 1,2,3\\|4,5 --out " + out + " 2> /dev/null";
  REQUIRE(std::system(cmd.c_str()) == 0);
  for (const char* name : {"vision.ln", "qformer.layer.2", "projector.fc2", "llm.logits"}) {
    const std::vector<float> a = read_npy(out + "/" + name + ".npy").to_f32(), b = read_npy(ref + name + ".npy").to_f32();
    test::check_close(std::string("q8_0 ") + name, a, b, test::tolerance_for("checkpoint-q8_0", name));
  }
  std::filesystem::remove_all(out);
  std::remove(o.out.c_str());
  std::remove(temp_path("q8.safetensors").c_str());
}
