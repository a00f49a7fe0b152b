// The quantized number formats (src/quant/, one file per format; docs/quantization.md).
//
// Every format cuts a row of weights into blocks and stores each block as a POD struct
// laid out byte for byte as ggml's (ggml-common.h), so a porter can compare our blocks
// with llama.cpp's. The quantizers are ggml's reference quantizers
// (`quantize_row_*_ref`), with the same rounding; dequantization is exact.
//
//   format  weights/block  bytes  bits/weight  activation format for the integer dot
//   Q4_0        32           18      4.5        Q8_0
//   Q4_1        32           20      5.0        Q8_1
//   Q5_0        32           22      5.5        Q8_0
//   Q5_1        32           24      6.0        Q8_1
//   Q8_0        32           34      8.5        Q8_0
//   Q4_K       256          144      4.5        Q8_K
//   Q6_K       256          210      6.5625     Q8_K
//   Q8_1 / Q8_K are activation formats (the input row quantized once per matmul).
//
// Multi-byte fields (the half scales, Q8_K's float d and int16 bsums) are stored
// little-endian in files, as ggml writes them.
#pragma once
#include <cstddef>
#include <cstdint>

#include "tinygptv/tensor.h"

namespace tgv {

constexpr int kQK = 32;     // weights per block of the 32-formats (ggml QK4_0 ... QK8_1)
constexpr int kQK_K = 256;  // weights per super-block of the K-formats (ggml QK_K)

// BlockQ8_0 lives in tensor.h (it predates this module).

struct BlockQ4_0 {      // w = d * (q - 8), q in 0..15
  uint16_t d;           // half scale
  uint8_t qs[kQK / 2];  // weight j in the low nibble of qs[j], weight j+16 in the high nibble
};
static_assert(sizeof(BlockQ4_0) == 18, "ggml block_q4_0");

struct BlockQ4_1 {      // w = d * q + m, q in 0..15
  uint16_t d, m;        // half scale and minimum
  uint8_t qs[kQK / 2];  // as Q4_0
};
static_assert(sizeof(BlockQ4_1) == 20, "ggml block_q4_1");

struct BlockQ5_0 {      // w = d * (q - 16), q in 0..31
  uint16_t d;           // half scale
  uint8_t qh[4];        // bit j of this little-endian 32-bit word = 5th bit of weight j
  uint8_t qs[kQK / 2];  // the low 4 bits, as Q4_0
};
static_assert(sizeof(BlockQ5_0) == 22, "ggml block_q5_0");

struct BlockQ5_1 {      // w = d * q + m, q in 0..31
  uint16_t d, m;
  uint8_t qh[4];
  uint8_t qs[kQK / 2];
};
static_assert(sizeof(BlockQ5_1) == 24, "ggml block_q5_1");

struct BlockQ8_1 {      // activation format: w = d * q, plus s = d * sum(q)
  uint16_t d, s;        // halves
  int8_t qs[kQK];
};
static_assert(sizeof(BlockQ8_1) == 36, "ggml block_q8_1");

struct BlockQ4_K {             // 8 sub-blocks of 32: w = d * sc_j * q - dmin * m_j, q in 0..15
  uint16_t d, dmin;            // half super-scales of the 6-bit scales and mins
  uint8_t scales[12];          // 8 scales and 8 mins, 6 bits each, packed (ggml get_scale_min_k4)
  uint8_t qs[kQK_K / 2];       // 4-bit quants, 64 weights per 32 bytes (low nibbles, then high)
};
static_assert(sizeof(BlockQ4_K) == 144, "ggml block_q4_K");

struct BlockQ6_K {             // 16 sub-blocks of 16: w = d * scales_j * (q - 32), q in 0..63
  uint8_t ql[kQK_K / 2];       // the low 4 bits
  uint8_t qh[kQK_K / 4];       // the high 2 bits
  int8_t scales[kQK_K / 16];   // 8-bit sub-block scales
  uint16_t d;                  // half super-scale
};
static_assert(sizeof(BlockQ6_K) == 210, "ggml block_q6_K");

struct BlockQ8_K {             // activation format of the K-quants: w = d * q
  float d;
  int8_t qs[kQK_K];
  int16_t bsums[kQK_K / 16];   // sum of each group of 16 quants
};
static_assert(sizeof(BlockQ8_K) == 292, "ggml block_q8_K");

// The typed row functions, one file per format (src/quant/<format>.cpp). For all of
// them n is the number of weights, a whole number of blocks (checked: an always-on
// internal error otherwise; sizes from files are checked earlier by dtype_bytes).
// quantize_row_*: ggml's quantize_row_*_ref byte for byte. dequantize_row_*: exact.
// vec_dot_*: ggml's scalar ggml_vec_dot_*_generic (integer sums per block, then float).
// Q8_0's quantize/dequantize are declared in tensor.h.
float vec_dot_q8_0_q8_0(size_t n, const BlockQ8_0* w, const BlockQ8_0* x);

void quantize_row_q4_0(BlockQ4_0* out, const float* x, size_t n);
void dequantize_row_q4_0(float* out, const BlockQ4_0* in, size_t n);
float vec_dot_q4_0_q8_0(size_t n, const BlockQ4_0* w, const BlockQ8_0* x);

void quantize_row_q4_1(BlockQ4_1* out, const float* x, size_t n);
void dequantize_row_q4_1(float* out, const BlockQ4_1* in, size_t n);
float vec_dot_q4_1_q8_1(size_t n, const BlockQ4_1* w, const BlockQ8_1* x);

void quantize_row_q5_0(BlockQ5_0* out, const float* x, size_t n);
void dequantize_row_q5_0(float* out, const BlockQ5_0* in, size_t n);
float vec_dot_q5_0_q8_0(size_t n, const BlockQ5_0* w, const BlockQ8_0* x);

void quantize_row_q5_1(BlockQ5_1* out, const float* x, size_t n);
void dequantize_row_q5_1(float* out, const BlockQ5_1* in, size_t n);
float vec_dot_q5_1_q8_1(size_t n, const BlockQ5_1* w, const BlockQ8_1* x);

void quantize_row_q8_1(BlockQ8_1* out, const float* x, size_t n);
void dequantize_row_q8_1(float* out, const BlockQ8_1* in, size_t n);

void quantize_row_q4_K(BlockQ4_K* out, const float* x, size_t n);
void dequantize_row_q4_K(float* out, const BlockQ4_K* in, size_t n);
float vec_dot_q4_K_q8_K(size_t n, const BlockQ4_K* w, const BlockQ8_K* x);

void quantize_row_q6_K(BlockQ6_K* out, const float* x, size_t n);
void dequantize_row_q6_K(float* out, const BlockQ6_K* in, size_t n);
float vec_dot_q6_K_q8_K(size_t n, const BlockQ6_K* w, const BlockQ8_K* x);

void quantize_row_q8_K(BlockQ8_K* out, const float* x, size_t n);
void dequantize_row_q8_K(float* out, const BlockQ8_K* in, size_t n);

// What the rest of the program needs to know about one quantized format
// (like ggml's type_traits).
struct QuantFormat {
  DType type;
  const char* name;       // dtype_name(type)
  int block_size;         // weights per block: kQK or kQK_K
  size_t block_bytes;     // sizeof(Block...)
  DType vec_dot_type;     // the activation format of its integer dot product
  // n % block_size == 0 for all three.
  void (*quantize_row)(void* out, const float* x, size_t n);      // ggml quantize_row_*_ref, byte for byte
  void (*dequantize_row)(float* out, const void* in, size_t n);   // exact
  // Scalar integer dot of n weights (blocks of `type`) with n activations (blocks of
  // vec_dot_type), as ggml's ggml_vec_dot_*_generic; nullptr for the activation formats.
  float (*vec_dot)(size_t n, const void* w, const void* x);
};

// The format table (src/quant/formats.cpp); nullptr for F32 / F16 / BF16.
const QuantFormat* quant_format(DType t);

}  // namespace tgv
