// `tinygptv convert`: the published checkpoints -> one model file (interface.md).
//
//   tinygptv convert --phi2 DIR --vit eva_vit_g.pth --qformer blip2_pretrained_flant5xxl.pth
//                    [--tinygptv TinyGPT-V_for_StageK.pth] [--image-size N] [--dtype f32|f16|bf16|q8_0|q4_0|q4_1|q5_0|q5_1|q4_k|q6_k]
//                    [--vit-layers N] [--vit-heads N] [--qformer-heads N] [--llm-heads N]
//                    [--lora-alpha A] [--lora-r R] [--quiet] --out model.safetensors
// The work is in src/checkpoint/convert.cpp; this file parses options and prints
// the summary. --dtype follows the recipe `tinygptv quantize` uses (quantize.h).
#include <cstdio>

#include "cli/args.h"
#include "cli/commands.h"
#include "cli/progress.h"
#include "tinygptv/convert.h"
#include "tinygptv/error.h"
#include "tinygptv/quantize.h"

namespace tgv::cli {

int cmd_convert(int argc, char** argv) {
  Args args(argc, argv,
            {"--phi2", "--vit", "--qformer", "--tinygptv", "--out", "--image-size", "--dtype", "--vit-layers", "--vit-heads",
             "--qformer-heads", "--llm-heads", "--lora-alpha", "--lora-r"},
            {"--quiet"});
  if (!args.positional().empty()) fail("unexpected argument '" + args.positional()[0] + "'");
  ConvertOptions o;
  o.phi2 = args.required("--phi2");
  o.vit = args.required("--vit");
  o.qformer = args.required("--qformer");
  o.stage = args.get_or("--tinygptv", "");
  o.out = args.required("--out");
  const std::string dtype = args.get_or("--dtype", "f32");
  if (!recipe_dtype_from_name(dtype, &o.dtype)) fail("--dtype must be one of " + std::string(recipe_dtype_names()) + ", not '" + dtype + "'");
  auto positive = [&](const char* name, long fallback) {
    const long v = args.integer_or(name, fallback);
    if (args.has(name) && (v < (std::string(name) == "--vit-layers" ? 0 : 1) || v > 1000000)) fail(std::string(name) + " is out of range");
    return static_cast<int>(v);
  };
  o.image_size = positive("--image-size", 0);
  o.vit_layers = positive("--vit-layers", -1);
  o.vit_heads = positive("--vit-heads", 0);
  o.qformer_heads = positive("--qformer-heads", 0);
  o.llm_heads = positive("--llm-heads", 0);
  o.lora_r = positive("--lora-r", 0);
  o.lora_alpha = args.number_or("--lora-alpha", 0);
  if (args.has("--lora-alpha") && !(o.lora_alpha > 0)) fail("--lora-alpha must be positive");
  Progress bar;  // draws only on a terminal
  if (!args.has("--quiet")) {
    bar.start("converting");
    o.progress = [&bar](size_t done, size_t total) { bar.step(static_cast<int>(done), static_cast<int>(total)); };
  }
  const ConvertSummary s = convert_checkpoints(o);
  if (!args.has("--quiet")) bar.done();
  for (const std::string& n : s.notes) std::printf("%s\n", n.c_str());
  std::printf("tensors: %zu read, %zu written (%zu LoRA merged, %zu q/k/v fused, %zu defaulted, %zu interpolated), %zu dropped\n",
              s.read, s.written, s.merged, s.fused, s.defaulted, s.interpolated, s.dropped);
  std::printf("config: %s\n", s.config.to_json().dump().c_str());
  std::printf("wrote %s: %llu bytes\n", o.out.c_str(), static_cast<unsigned long long>(s.bytes_written));
  return 0;
}

}  // namespace tgv::cli
