// `tinygptv convert`: the published checkpoints -> the project's model file
// (interface.md), with no Python. See docs/checkpoints.md for the whole story.
//
// Files are loaded in upstream order, later ones overriding earlier ones:
//   --vit eva_vit_g.pth, --qformer blip2_pretrained_flant5xxl.pth, --phi2 DIR,
//   --tinygptv TinyGPT-V_for_StageK.pth.
// Names are mapped to the interface.md names (PEFT wrapper stripped, both peft
// namings), LoRA merged (W += alpha/r * B @ A), separate q/k/v fused per head,
// missing q/k LayerNorm and RMSNorm weights defaulted, ViT blocks past the used
// depth and everything unused dropped, pos_embed interpolated for the image size.
// Every dimension comes from the tensors' shapes; head counts as model.md section 8.
// Tensors are produced and written one at a time (memory ~ the largest tensor x 3).
#pragma once
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "tinygptv/model_file.h"
#include "tinygptv/tensor.h"

namespace tgv {

struct ConvertOptions {
  std::string phi2;            // directory: safetensors shards (+ index) and config.json
  std::string vit;             // eva_vit_g.pth
  std::string qformer;         // blip2_pretrained_flant5xxl.pth
  std::string stage;           // TinyGPT-V_for_StageK.pth (optional)
  std::string out;             // model.safetensors
  DType dtype = DType::F32;    // the recipe of include/tinygptv/quantize.h (matrices get it, vectors stay F32)
  int image_size = 0;          // 0: the stage checkpoint's saved config, else 224
  int vit_layers = -1;         // -1: the file's block count minus one (upstream builds 39 of 40)
  int vit_heads = 0;           // 0: width / 88
  int qformer_heads = 0;       // 0: hidden / 64
  int llm_heads = 0;           // 0: config.json num_attention_heads
  double lora_alpha = 0;       // 0: the stage checkpoint's saved config, else 16
  int lora_r = 0;              // 0: the rows of lora_A
  // Called after each tensor is written (done = 1..total); the CLI draws a bar with it.
  std::function<void(size_t done, size_t total)> progress;
};

struct ConvertSummary {
  size_t read = 0;             // tensors found in the input files
  size_t written = 0;          // tensors in the model file
  size_t merged = 0;           // LoRA pairs merged
  size_t fused = 0;            // q/k/v triples fused into query_key_value
  size_t defaulted = 0;        // tensors absent from every file, set to ones/zeros
  size_t dropped = 0;          // input tensors not used (text path, buffers, optimizer-free extras, ...)
  size_t interpolated = 0;     // pos_embed resized
  uint64_t bytes_written = 0;  // size of the model file
  double lora_alpha = 0, lora_scale = 0;
  ModelConfig config;
  std::vector<std::string> notes;  // where each inferred setting came from
};

ConvertSummary convert_checkpoints(const ConvertOptions& options);

}  // namespace tgv
