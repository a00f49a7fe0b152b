// Which dtype each tensor of a model file is stored in, and re-writing a model file
// in another dtype (`tinygptv quantize`, and `tinygptv convert --dtype`, which share
// this one rule). docs/quantization.md explains the recipe and its fallbacks.
//
// The recipe for `--dtype X`:
//   - every tensor that is not a matrix (1-D vectors: norms, biases; position tables,
//     cls and query tokens, whose names do not end in ".weight") stays F32;
//   - a matrix (a ".weight" of 2 or more dims; its rows are everything after dim 0,
//     so the [W, 3, P, P] patch embedding has rows of 3*P*P) gets X;
//   - unless `pure`, the token embedding and the lm_head of a quantized recipe get
//     Q8_0 (Q6_K for the K recipes q4_k and q6_k): they decide every token, and
//     llama.cpp's recipes keep them at higher precision too;
//   - a matrix whose rows are not whole blocks of its format falls back, as llama.cpp
//     does: Q4_K -> Q5_0, Q6_K -> Q8_0 (rows of a multiple of 32), and a 32-block
//     format whose rows are not a multiple of 32 -> F32 (only the patch embedding of
//     the real model, 588 = 3*14*14 wide: 0.8 M weights, kept exact).
//     Each fallback is reported (RecipeChoice::fallback) so the caller can warn.
#pragma once
#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <vector>

#include "tinygptv/tensor.h"

namespace tgv {

// The dtype names the commands accept: f32 f16 bf16 q8_0 q4_0 q4_1 q5_0 q5_1 q4_k q6_k.
// Returns false for anything else (the activation formats q8_1 / q8_k included).
bool recipe_dtype_from_name(const std::string& name, DType* out);
const char* recipe_dtype_names();  // "f32|f16|bf16|q8_0|q4_0|q4_1|q5_0|q5_1|q4_k|q6_k"
std::string recipe_name(DType t);  // DType::Q4_K -> "q4_k"

struct RecipeChoice {
  DType dtype;        // what the tensor is stored in
  DType preferred;    // what the recipe asked for before any fallback
  bool fallback() const { return dtype != preferred; }
};

// The recipe above for one tensor (its checkpoint name and shape), for `--dtype wanted`.
RecipeChoice recipe_dtype(const std::string& name, const std::vector<int64_t>& shape, DType wanted, bool pure);

// n floats -> dtype, as stored in a model file (`n` is whole rows of whole blocks for
// the quantized dtypes). Quantized blocks are made in parallel on the thread pool.
void encode_floats(std::vector<uint8_t>& out, const float* x, size_t n, DType dtype);

// One line per group of fallbacks ("warning: 156 matrices with rows of 1408 ... written
// as Q5_0 instead of Q4_K: name, name, ..."), naming the tensors.
struct RecipeFallback {
  std::string name;
  std::vector<int64_t> shape;
  DType preferred, dtype;
};
std::vector<std::string> fallback_warnings(const std::vector<RecipeFallback>& fallbacks);

// ---------------------------------------------------------------- tinygptv quantize
struct QuantizeOptions {
  std::string in, out;          // model files (out must not be in)
  DType dtype = DType::Q8_0;    // the recipe
  bool pure = false;            // no Q8_0/Q6_K exception for the embedding and lm_head
  // Called after each tensor is written (done = 1..total).
  std::function<void(size_t done, size_t total)> progress;
};

struct QuantizeSummary {
  size_t tensors = 0;
  uint64_t bytes_in = 0, bytes_out = 0;        // the tensors' data, before and after
  uint64_t file_in = 0, file_out = 0;          // the files' sizes
  std::map<std::string, size_t> count_in, count_out;  // tensors per dtype name ("F32", "Q4_0")
  std::vector<RecipeFallback> fallbacks;
};

// Reads IN (any dtype; quantized tensors are dequantized to float first), writes OUT
// tensor by tensor in the recipe's dtypes (memory ~ the largest tensor), keeping
// IN's __metadata__ (the config) and adding "quantization": {"dtype": ..., "pure": ...}.
QuantizeSummary quantize_model(const QuantizeOptions& options);

}  // namespace tgv
