// The format table (include/tinygptv/quant.h): one row per block format, the typed
// functions of src/quant/<format>.cpp behind untyped pointers (the kernels and the
// file writer pick a format at run time by dtype).
#include "tinygptv/quant.h"

namespace tgv {
namespace {

// Untyped adapters of the typed row functions.
template <class Block, void (*F)(Block*, const float*, size_t)>
void quantize_as(void* out, const float* x, size_t n) { F(static_cast<Block*>(out), x, n); }

template <class Block, void (*F)(float*, const Block*, size_t)>
void dequantize_as(float* out, const void* in, size_t n) { F(out, static_cast<const Block*>(in), n); }

template <class W, class X, float (*F)(size_t, const W*, const X*)>
float vec_dot_as(size_t n, const void* w, const void* x) { return F(n, static_cast<const W*>(w), static_cast<const X*>(x)); }

// type, name, block_size, block_bytes, vec_dot_type, quantize_row, dequantize_row, vec_dot
const QuantFormat kFormats[] = {
    {DType::Q8_0, "Q8_0", kQK, sizeof(BlockQ8_0), DType::Q8_0,
     quantize_as<BlockQ8_0, quantize_row_q8_0>, dequantize_as<BlockQ8_0, dequantize_row_q8_0>,
     vec_dot_as<BlockQ8_0, BlockQ8_0, vec_dot_q8_0_q8_0>},
    {DType::Q4_0, "Q4_0", kQK, sizeof(BlockQ4_0), DType::Q8_0,
     quantize_as<BlockQ4_0, quantize_row_q4_0>, dequantize_as<BlockQ4_0, dequantize_row_q4_0>,
     vec_dot_as<BlockQ4_0, BlockQ8_0, vec_dot_q4_0_q8_0>},
    {DType::Q4_1, "Q4_1", kQK, sizeof(BlockQ4_1), DType::Q8_1,
     quantize_as<BlockQ4_1, quantize_row_q4_1>, dequantize_as<BlockQ4_1, dequantize_row_q4_1>,
     vec_dot_as<BlockQ4_1, BlockQ8_1, vec_dot_q4_1_q8_1>},
    {DType::Q5_0, "Q5_0", kQK, sizeof(BlockQ5_0), DType::Q8_0,
     quantize_as<BlockQ5_0, quantize_row_q5_0>, dequantize_as<BlockQ5_0, dequantize_row_q5_0>,
     vec_dot_as<BlockQ5_0, BlockQ8_0, vec_dot_q5_0_q8_0>},
    {DType::Q5_1, "Q5_1", kQK, sizeof(BlockQ5_1), DType::Q8_1,
     quantize_as<BlockQ5_1, quantize_row_q5_1>, dequantize_as<BlockQ5_1, dequantize_row_q5_1>,
     vec_dot_as<BlockQ5_1, BlockQ8_1, vec_dot_q5_1_q8_1>},
    {DType::Q4_K, "Q4_K", kQK_K, sizeof(BlockQ4_K), DType::Q8_K,
     quantize_as<BlockQ4_K, quantize_row_q4_K>, dequantize_as<BlockQ4_K, dequantize_row_q4_K>,
     vec_dot_as<BlockQ4_K, BlockQ8_K, vec_dot_q4_K_q8_K>},
    {DType::Q6_K, "Q6_K", kQK_K, sizeof(BlockQ6_K), DType::Q8_K,
     quantize_as<BlockQ6_K, quantize_row_q6_K>, dequantize_as<BlockQ6_K, dequantize_row_q6_K>,
     vec_dot_as<BlockQ6_K, BlockQ8_K, vec_dot_q6_K_q8_K>},
    // The activation formats: quantized once per matmul, never the weights of a dot.
    {DType::Q8_1, "Q8_1", kQK, sizeof(BlockQ8_1), DType::Q8_1,
     quantize_as<BlockQ8_1, quantize_row_q8_1>, dequantize_as<BlockQ8_1, dequantize_row_q8_1>, nullptr},
    {DType::Q8_K, "Q8_K", kQK_K, sizeof(BlockQ8_K), DType::Q8_K,
     quantize_as<BlockQ8_K, quantize_row_q8_K>, dequantize_as<BlockQ8_K, dequantize_row_q8_K>, nullptr},
};

}  // namespace

const QuantFormat* quant_format(DType t) {
  for (const QuantFormat& f : kFormats)
    if (f.type == t) return &f;
  return nullptr;
}

}  // namespace tgv
