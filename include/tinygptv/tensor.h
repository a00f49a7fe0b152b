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

enum class DType : uint8_t { F32, F16, BF16 };

const char* dtype_name(DType t);     // "F32", "F16", "BF16" (safetensors spelling)
size_t dtype_size(DType t);          // bytes per element
bool dtype_from_name(const std::string& name, DType* out);

// IEEE half and bfloat16 <-> float. f32_to_* round to nearest even (as torch's .half()/.bfloat16()).
float f16_to_f32(uint16_t h);
uint16_t f32_to_f16(float f);
float bf16_to_f32(uint16_t b);
uint16_t f32_to_bf16(float f);

struct Tensor {
  std::string name;
  DType dtype = DType::F32;
  std::vector<int64_t> shape;
  const void* data = nullptr;  // numel() * dtype_size(dtype) bytes, suitably aligned for dtype

  int64_t numel() const;
  int64_t rows() const { return shape.empty() ? 1 : shape[0]; }
  int64_t cols() const { return shape.empty() ? 1 : numel() / rows(); }  // a row = everything after dim 0
  size_t nbytes() const { return static_cast<size_t>(numel()) * dtype_size(dtype); }
};

std::string shape_str(const std::vector<int64_t>& shape);  // "[3, 4]"

// Conversions of stored data to float32.
void to_f32(float* out, const void* src, DType dtype, size_t n);
void tensor_row_f32(float* out, const Tensor& t, int64_t row);  // row `row` of a 2-D tensor, cols() floats
std::vector<float> tensor_f32(const Tensor& t);                 // the whole tensor

}  // namespace tgv
