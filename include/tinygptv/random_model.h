// A model with random weights, built in memory: the real TinyGPT-V sizes (or a small
// model of the same shape for tests) with no weights file, for `tinygptv bench
// --random full|tiny`. It is an ordinary model file that happens to live in memory:
// the tensors are laid out as safetensors would store them, in one anonymous mapping,
// and read back through SafetensorsFile / ModelFile / Model, so every loader check and
// every weight struct is the same as for a file on disk. save_model_file writes the
// bytes out as a normal model file (`ask` can then run on it).
//
//   ModelFile mf = random_model_file(full_model_config(224), DType::F16);
//   Model model(std::move(mf));                       // ImageEncoder + Phi2Weights
//   save_model_file(model.file, "random-f16.safetensors", {});
//
// Values: a counter-based hash of (seed, tensor, element), so the model is the same
// whatever the thread count. Matrices, biases, position tables and query tokens are
// N(0, 0.02) (as the published weights are initialised), drawn from a table of 65536
// equally likely quantiles, four per 64-bit hash (bounded by 4.3 sigma, cheap);
// 1-D ".weight" tensors (every LayerNorm / RMSNorm weight) are ones. Quantized
// dtypes go through the format's own quantizer, row by row.
// Activations stay finite through all 39 + 12 + 32 layers at these scales.
#pragma once
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "tinygptv/model_file.h"
#include "tinygptv/safetensors.h"

namespace tgv {

// The real model's dimensions (interface.md) at image size S (224 or 448).
ModelConfig full_model_config(int image_size = 224);
// A small model of the same structure for CI (~13 M weights, most in the embedding and
// lm_head): every matrix row a multiple of 32 wide, 2 layers per stage, the real
// vocabulary (so the real tokenizer works with it).
ModelConfig tiny_model_config(int image_size = 224);

// Every tensor the loaders read for this config (interface.md names, shapes as the
// loaders check them), in the order of the pipeline; dtype F32.
std::vector<TensorEntry> model_tensors(const ModelConfig& config);

// The whole model in memory (one anonymous mapping, the bytes of its safetensors file),
// metadata "config" and "random_weights": "true". Which tensors get `wanted` is the
// recipe of `tinygptv quantize` (recipe_dtype in quantize.h, not --pure: vectors and
// tables F32, the embedding and lm_head of a quantized recipe Q8_0 / Q6_K, llama.cpp's
// fallbacks for rows that are not whole blocks). Filled with all threads of the pool.
ModelFile random_model_file(const ModelConfig& config, DType wanted, uint64_t seed = 1);

// Writes a model file's bytes to `path` as they are (one copy in memory: the model's
// own), calling progress(done, total) in bytes as it goes.
void save_model_file(const ModelFile& model, const std::string& path,
                     const std::function<void(size_t done, size_t total)>& progress);

}  // namespace tgv
