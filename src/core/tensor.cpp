// See include/tinygptv/tensor.h. The number formats themselves (half conversions,
// quantized blocks) are in src/quant/; this file sizes, names and converts tensors.
#include "tinygptv/tensor.h"

#include <cstring>

#include "tinygptv/error.h"
#include "tinygptv/quant.h"

namespace tgv {

const char* dtype_name(DType t) {
  switch (t) {
    case DType::F32: return "F32";
    case DType::F16: return "F16";
    case DType::BF16: return "BF16";
    default: break;
  }
  const QuantFormat* q = quant_format(t);
  return q ? q->name : "?";
}

bool dtype_from_name(const std::string& name, DType* out) {
  for (DType t : {DType::F32, DType::F16, DType::BF16, DType::Q8_0, DType::Q4_0, DType::Q4_1, DType::Q5_0,
                  DType::Q5_1, DType::Q4_K, DType::Q6_K, DType::Q8_1, DType::Q8_K})
    if (name == dtype_name(t)) { *out = t; return true; }
  return false;
}

size_t dtype_size(DType t) {
  switch (t) {
    case DType::F32: return 4;
    case DType::F16: return 2;
    case DType::BF16: return 2;
    case DType::Q8_0: return alignof(BlockQ8_0);
    case DType::Q4_0: return alignof(BlockQ4_0);
    case DType::Q4_1: return alignof(BlockQ4_1);
    case DType::Q5_0: return alignof(BlockQ5_0);
    case DType::Q5_1: return alignof(BlockQ5_1);
    case DType::Q4_K: return alignof(BlockQ4_K);
    case DType::Q6_K: return alignof(BlockQ6_K);
    case DType::Q8_1: return alignof(BlockQ8_1);
    case DType::Q8_K: return alignof(BlockQ8_K);
  }
  return 0;
}

int dtype_block_size(DType t) {
  const QuantFormat* q = quant_format(t);
  return q ? q->block_size : 1;
}

size_t dtype_bytes(DType t, size_t count, const std::string& what) {
  const QuantFormat* q = quant_format(t);
  if (!q) return checked_mul(count, dtype_size(t), what.c_str());
  const size_t block = static_cast<size_t>(q->block_size);
  if (count % block != 0)
    fail(what + ": " + q->name + " needs whole blocks of " + std::to_string(block) + " elements, got " +
         std::to_string(count) + " elements");
  return checked_mul(count / block, q->block_bytes, what.c_str());
}

int64_t Tensor::numel() const {
  int64_t n = 1;
  for (int64_t d : shape) n *= d;
  return n;
}

std::string shape_str(const std::vector<int64_t>& shape) {
  std::string s = "[";
  for (size_t i = 0; i < shape.size(); i++) s += (i ? ", " : "") + std::to_string(shape[i]);
  return s + "]";
}

void to_f32(float* out, const void* src, DType dtype, size_t n) {
  switch (dtype) {
    case DType::F32:
      std::memcpy(out, src, n * 4);
      return;
    case DType::F16: {
      const auto* p = static_cast<const uint16_t*>(src);
      for (size_t i = 0; i < n; i++) out[i] = f16_to_f32(p[i]);
      return;
    }
    case DType::BF16: {
      const auto* p = static_cast<const uint16_t*>(src);
      for (size_t i = 0; i < n; i++) out[i] = bf16_to_f32(p[i]);
      return;
    }
    default: {
      const QuantFormat* q = quant_format(dtype);
      if (!q || !q->dequantize_row) fail(std::string("no conversion to float for dtype ") + dtype_name(dtype));
      TGV_ASSERT(n % static_cast<size_t>(q->block_size) == 0,
                 std::string(q->name) + " data converts in whole blocks, got n = " + std::to_string(n));
      q->dequantize_row(out, src, n);
      return;
    }
  }
}

void tensor_row_f32(float* out, const Tensor& t, int64_t row) {
  TGV_ASSERT(row >= 0 && row < t.rows(), "row out of range in " + t.name);
  const size_t cols = static_cast<size_t>(t.cols());
  if (cols % static_cast<size_t>(dtype_block_size(t.dtype)) != 0)
    fail("tensor '" + t.name + "' " + shape_str(t.shape) + " is " + dtype_name(t.dtype) +
         " but its rows are not whole blocks of " + std::to_string(dtype_block_size(t.dtype)));
  to_f32(out, static_cast<const uint8_t*>(t.data) + dtype_bytes(t.dtype, static_cast<size_t>(row) * cols, t.name), t.dtype, cols);
}

std::vector<float> tensor_f32(const Tensor& t) {
  std::vector<float> v(static_cast<size_t>(t.numel()));
  if (v.size() % static_cast<size_t>(dtype_block_size(t.dtype)) != 0)
    fail("tensor '" + t.name + "' " + shape_str(t.shape) + " is " + dtype_name(t.dtype) +
         " but is not whole blocks of " + std::to_string(dtype_block_size(t.dtype)));
  to_f32(v.data(), t.data, t.dtype, v.size());
  return v;
}

}  // namespace tgv
