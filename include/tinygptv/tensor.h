// Tensors as the model files store them, and the number formats they use.
//
// A Tensor is a read-only view: a name, a dtype, a shape in PyTorch order
// (a Linear weight is [out, in]) and a pointer into the model file (mmapped) or
// into storage owned by whoever made the view. Activations are plain float arrays
// (std::vector<float>) with their shape written beside them in comments, as in
// llm.c. Matrices stay in their stored dtype and are converted inside the kernels,
// so a quantized dtype can be added without touching the model files.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

namespace tgv {

// The number formats of stored tensors. F32/F16/BF16 hold one value per element; the
// others are ggml's block-quantized formats (include/tinygptv/quant.h, src/quant/,
// docs/quantization.md): a row is cut into blocks of 32 (or 256 for the K-formats)
// weights, each stored as a small struct of scales and packed integers. Q8_1 and Q8_K
// are the activation formats of the integer dot products; they are not meant for files
// but are named and sized like the others.
enum class DType : uint8_t { F32, F16, BF16, Q8_0, Q4_0, Q4_1, Q5_0, Q5_1, Q4_K, Q6_K, Q8_1, Q8_K };

// Q8_0, llama.cpp's block layout: each row of a matrix is cut into blocks of 32
// weights, stored as one float16 scale d and 32 int8 values q; weight i of the block
// is d * q[i]. 34 bytes per 32 weights (8.5 bits each), so Phi-2 fits in ~3 GB.
// Row lengths must be multiples of 32. The other blocks are in quant.h.
constexpr int kQ8Block = 32;
struct BlockQ8_0 {
  uint16_t d;              // scale, IEEE half: max |w| / 127
  int8_t qs[kQ8Block];     // round(w / d), in [-127, 127]
};
static_assert(sizeof(BlockQ8_0) == 34, "Q8_0 blocks are 2 + 32 bytes, no padding");

// "F32", "F16", "BF16", "Q8_0", "Q4_0", "Q4_1", "Q5_0", "Q5_1", "Q4_K", "Q6_K", "Q8_1",
// "Q8_K" (the safetensors spelling; llama.cpp's names, upper case).
const char* dtype_name(DType t);
bool dtype_from_name(const std::string& name, DType* out);
// Bytes per element of F32 / F16 / BF16. A block format has no whole number of bytes
// per element: dtype_size returns the alignment its blocks need (2, or 4 for Q8_K);
// its sizes come from dtype_bytes.
size_t dtype_size(DType t);
// Bytes of `count` elements of dtype t. Throws tgv::Error ("<what>: ...") when that
// overflows, or for a block format when count is not a whole number of blocks
// (e.g. Q4_0 with count % 32 != 0, Q4_K with count % 256 != 0).
size_t dtype_bytes(DType t, size_t count, const std::string& what = "tensor");
// Weights per block: 1 for F32 / F16 / BF16, 32 or 256 for the block formats.
int dtype_block_size(DType t);

// IEEE half and bfloat16 <-> float (src/quant/half.cpp). f32_to_* round to nearest
// even (as torch's .half()/.bfloat16() and ggml's GGML_FP32_TO_FP16).
float f16_to_f32(uint16_t h);
uint16_t f32_to_f16(float f);
float bf16_to_f32(uint16_t b);
uint16_t f32_to_bf16(float f);

// Q8_0 rows (src/quant/q8_0.cpp), n % 32 == 0: d = max|x| / 127 (stored as half),
// q = round(x * (1/d)), ties away from zero -- ggml's quantize_row_q8_0_ref byte for byte.
void quantize_row_q8_0(BlockQ8_0* out, const float* x, size_t n);
void dequantize_row_q8_0(float* out, const BlockQ8_0* in, size_t n);  // out[i] = half(d) * q[i], exact

struct Tensor {
  std::string name;
  DType dtype = DType::F32;
  std::vector<int64_t> shape;
  const void* data = nullptr;  // nbytes() bytes, suitably aligned for dtype

  int64_t numel() const;
  int64_t rows() const { return shape.empty() ? 1 : shape[0]; }
  int64_t cols() const { return shape.empty() ? 1 : numel() / rows(); }  // a row = everything after dim 0
  size_t nbytes() const { return dtype_bytes(dtype, static_cast<size_t>(numel())); }
};

std::string shape_str(const std::vector<int64_t>& shape);  // "[3, 4]"

// Conversions of stored data to float32 (exact for every dtype). For a block format n
// is a whole number of blocks and src points at the first block.
void to_f32(float* out, const void* src, DType dtype, size_t n);
void tensor_row_f32(float* out, const Tensor& t, int64_t row);  // row `row` of a 2-D tensor, cols() floats
std::vector<float> tensor_f32(const Tensor& t);                 // the whole tensor

}  // namespace tgv
