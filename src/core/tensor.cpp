// See include/tinygptv/tensor.h.
#include "tinygptv/tensor.h"

#include <algorithm>
#include <cmath>
#include <cstring>

#include "tinygptv/error.h"

namespace tgv {

const char* dtype_name(DType t) {
  switch (t) {
    case DType::F32: return "F32";
    case DType::F16: return "F16";
    case DType::BF16: return "BF16";
    case DType::Q8_0: return "Q8_0";
  }
  return "?";
}

size_t dtype_size(DType t) {
  switch (t) {
    case DType::F32: return 4;
    case DType::F16: return 2;
    case DType::BF16: return 2;
    case DType::Q8_0: return alignof(BlockQ8_0);
  }
  return 0;
}

size_t dtype_bytes(DType t, size_t count, const std::string& what) {
  if (t != DType::Q8_0) return checked_mul(count, dtype_size(t), what.c_str());
  if (count % kQ8Block != 0)
    fail(what + ": Q8_0 needs whole blocks of 32 elements, got " + std::to_string(count) + " elements");
  return checked_mul(count / kQ8Block, sizeof(BlockQ8_0), what.c_str());
}

bool dtype_from_name(const std::string& name, DType* out) {
  if (name == "F32") { *out = DType::F32; return true; }
  if (name == "F16") { *out = DType::F16; return true; }
  if (name == "BF16") { *out = DType::BF16; return true; }
  if (name == "Q8_0") { *out = DType::Q8_0; return true; }
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

void quantize_row_q8_0(BlockQ8_0* out, const float* x, size_t n) {
  TGV_ASSERT(n % kQ8Block == 0, "Q8_0 rows are whole blocks of 32");
  for (size_t b = 0; b < n / kQ8Block; b++) {
    const float* v = x + b * kQ8Block;
    float amax = 0;
    for (int i = 0; i < kQ8Block; i++) amax = std::max(amax, std::fabs(v[i]));
    const float d = amax / 127.0f;
    const float id = d > 0 ? 1.0f / d : 0.0f;
    out[b].d = f32_to_f16(d);
    for (int i = 0; i < kQ8Block; i++)  // |v * id| <= 127 (up to rounding): clamp to be sure
      out[b].qs[i] = static_cast<int8_t>(std::clamp(std::lround(v[i] * id), -127L, 127L));
  }
}

void dequantize_row_q8_0(float* out, const BlockQ8_0* in, size_t n) {
  TGV_ASSERT(n % kQ8Block == 0, "Q8_0 rows are whole blocks of 32");
  for (size_t b = 0; b < n / kQ8Block; b++) {
    const float d = f16_to_f32(in[b].d);
    for (int i = 0; i < kQ8Block; i++) out[b * kQ8Block + i] = d * static_cast<float>(in[b].qs[i]);
  }
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
    case DType::Q8_0:
      dequantize_row_q8_0(out, static_cast<const BlockQ8_0*>(src), n);
      return;
  }
}

void tensor_row_f32(float* out, const Tensor& t, int64_t row) {
  TGV_ASSERT(row >= 0 && row < t.rows(), "row out of range in " + t.name);
  const size_t cols = static_cast<size_t>(t.cols());
  to_f32(out, static_cast<const uint8_t*>(t.data) + dtype_bytes(t.dtype, static_cast<size_t>(row) * cols), t.dtype, cols);
}

std::vector<float> tensor_f32(const Tensor& t) {
  std::vector<float> v(static_cast<size_t>(t.numel()));
  to_f32(v.data(), t.data, t.dtype, v.size());
  return v;
}

}  // namespace tgv
