// See include/tinygptv/tensor.h.
#include "tinygptv/tensor.h"

#include <cstring>

#include "tinygptv/error.h"

namespace tgv {

const char* dtype_name(DType t) {
  switch (t) {
    case DType::F32: return "F32";
    case DType::F16: return "F16";
    case DType::BF16: return "BF16";
  }
  return "?";
}

size_t dtype_size(DType t) {
  switch (t) {
    case DType::F32: return 4;
    case DType::F16: return 2;
    case DType::BF16: return 2;
  }
  return 0;
}

bool dtype_from_name(const std::string& name, DType* out) {
  if (name == "F32") { *out = DType::F32; return true; }
  if (name == "F16") { *out = DType::F16; return true; }
  if (name == "BF16") { *out = DType::BF16; return true; }
  return false;
}

static uint32_t bits_of(float f) { uint32_t u; std::memcpy(&u, &f, 4); return u; }
static float float_of(uint32_t u) { float f; std::memcpy(&f, &u, 4); return f; }

float f16_to_f32(uint16_t h) {
  const uint32_t sign = static_cast<uint32_t>(h & 0x8000) << 16;
  const uint32_t exp = (h >> 10) & 0x1f;
  uint32_t mant = h & 0x3ff;
  if (exp == 0x1f) return float_of(sign | 0x7f800000 | (mant << 13));  // inf / nan
  if (exp == 0) {
    if (mant == 0) return float_of(sign);
    int e = -1;  // subnormal: normalise
    do { mant <<= 1; e++; } while (!(mant & 0x400));
    return float_of(sign | static_cast<uint32_t>(127 - 15 - e) << 23 | (mant & 0x3ff) << 13);
  }
  return float_of(sign | (exp + 127 - 15) << 23 | mant << 13);
}

uint16_t f32_to_f16(float f) {
  const uint32_t x = bits_of(f);
  const uint16_t sign = static_cast<uint16_t>((x >> 16) & 0x8000);
  const uint32_t absx = x & 0x7fffffff;
  if (absx >= 0x7f800000) return sign | 0x7c00 | (absx > 0x7f800000 ? 0x200 : 0);  // inf / nan
  if (absx >= 0x477ff000) return sign | 0x7c00;  // rounds to >= 65520: overflow to inf
  if (absx < 0x38800000) {  // below the smallest normal half: subnormal or zero
    const int shift = 113 - static_cast<int>(absx >> 23);  // 14 + (127-15) - exp ... (>= 1)
    if (shift > 11) return sign;  // below half the smallest subnormal: rounds to zero
    uint32_t mant = (absx & 0x7fffff) | 0x800000;
    uint32_t r = mant >> (shift + 13);
    uint32_t rem = mant & ((1u << (shift + 13)) - 1);
    uint32_t half = 1u << (shift + 12);
    if (rem > half || (rem == half && (r & 1))) r++;
    return sign | static_cast<uint16_t>(r);
  }
  uint32_t r = ((absx >> 13) - ((127 - 15) << 10));
  const uint32_t rem = absx & 0x1fff;
  if (rem > 0x1000 || (rem == 0x1000 && (r & 1))) r++;
  return sign | static_cast<uint16_t>(r);
}

float bf16_to_f32(uint16_t b) { return float_of(static_cast<uint32_t>(b) << 16); }

uint16_t f32_to_bf16(float f) {
  uint32_t x = bits_of(f);
  if ((x & 0x7fffffff) > 0x7f800000) return static_cast<uint16_t>((x >> 16) | 0x40);  // quiet nan
  x += 0x7fff + ((x >> 16) & 1);
  return static_cast<uint16_t>(x >> 16);
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
  }
}

void tensor_row_f32(float* out, const Tensor& t, int64_t row) {
  TGV_ASSERT(row >= 0 && row < t.rows(), "row out of range in " + t.name);
  const size_t cols = static_cast<size_t>(t.cols());
  to_f32(out, static_cast<const uint8_t*>(t.data) + static_cast<size_t>(row) * cols * dtype_size(t.dtype), t.dtype, cols);
}

std::vector<float> tensor_f32(const Tensor& t) {
  std::vector<float> v(static_cast<size_t>(t.numel()));
  to_f32(v.data(), t.data, t.dtype, v.size());
  return v;
}

}  // namespace tgv
