// IEEE half and bfloat16 <-> float32 (declared in include/tinygptv/tensor.h).
//
// Every block format stores its scales as halves, so these live in the number-format
// area. f32_to_f16 / f32_to_bf16 round to nearest, ties to even -- the same results as
// torch's .half() / .bfloat16() and ggml's GGML_FP32_TO_FP16 (F16C's vcvtps2ph with
// round-to-nearest, or its portable fallback), so quantized blocks match byte for byte.
// The conversions to float are exact.
#include <cstdint>
#include <cstring>

#include "tinygptv/tensor.h"

namespace tgv {

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

}  // namespace tgv
