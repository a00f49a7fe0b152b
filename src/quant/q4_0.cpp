// Q4_0: 32 weights as one half scale and 32 unsigned 4-bit codes (ggml block_q4_0;
// llama.cpp's quantize_row_q4_0_ref byte for byte). Dot product against Q8_0 activations.
//
// One block, 18 bytes (4.5 bits per weight):
//   byte  0  1   2         3         ...  17
//        [ d  ] [q16|q0 ] [q17|q1 ]  ...  [q31|q15]    d: IEEE half
//   byte 2 + j holds weight j in its low nibble and weight j + 16 in its high nibble.
//
//   quantize:   m = the x_j of largest |x_j| (the first one, with its sign),
//               d = m / -8,  id = 1/d (0 if d == 0),
//               q_j = min(15, trunc(x_j * id + 8.5))              (q in 0..15)
//               so m itself maps to q = 0 (w = -8 d = m): the 16 levels -8..7 are used
//               asymmetrically, the extreme value exactly.
//   dequantize: w_j = (q_j - 8) * half(d)                          (exact in float32)
//   dot:        sum over blocks of  sumi * dw * dx,  sumi = sum_j (q_j - 8) * qx_j (int32)
//
// Round-trip bound: with |d| = amax/8, |x_j - w_j| <= |half(d)| / 2 + 8 |half(d) - d|
// for every weight except the ones clamped at q = 15 (x_j * id up to +8, i.e. x_j at
// -m), which are off by up to |d|: tests/quant/test_quant.cpp checks
// |x_j - w_j| <= |half(d)| + 8 |half(d) - d| + slack for all, and <= d/2 + ... for q < 15.
#include <algorithm>
#include <cmath>

#include "quant/blocks.h"
#include "tinygptv/quant.h"

namespace tgv {

void quantize_row_q4_0(BlockQ4_0* out, const float* x, size_t n) {
  quant::require_whole_blocks(n, kQK, "Q4_0");
  for (size_t b = 0; b < n / kQK; b++) {
    const float* v = x + b * kQK;
    float amax = 0, max = 0;  // the largest magnitude, and the value that has it
    for (int j = 0; j < kQK; j++)
      if (amax < std::fabs(v[j])) { amax = std::fabs(v[j]); max = v[j]; }
    const float d = max / -8.0f;
    const float id = d != 0 ? 1.0f / d : 0.0f;
    out[b].d = f32_to_f16(d);
    for (int j = 0; j < kQK / 2; j++) {
      // x * id is in [-8, 8] (up to rounding), so x * id + 8.5 is positive: the cast truncates = floor(. + 0.5)
      const int q0 = std::min(15, static_cast<int>(v[j] * id + 8.5f));
      const int q1 = std::min(15, static_cast<int>(v[j + kQK / 2] * id + 8.5f));
      out[b].qs[j] = static_cast<uint8_t>(q0 | q1 << 4);
    }
  }
}

void dequantize_row_q4_0(float* out, const BlockQ4_0* in, size_t n) {
  quant::require_whole_blocks(n, kQK, "Q4_0");
  for (size_t b = 0; b < n / kQK; b++) {
    const float d = f16_to_f32(in[b].d);
    float* w = out + b * kQK;
    for (int j = 0; j < kQK / 2; j++) {
      w[j] = static_cast<float>((in[b].qs[j] & 0x0f) - 8) * d;
      w[j + kQK / 2] = static_cast<float>((in[b].qs[j] >> 4) - 8) * d;
    }
  }
}

float vec_dot_q4_0_q8_0(size_t n, const BlockQ4_0* w, const BlockQ8_0* x) {
  quant::require_whole_blocks(n, kQK, "Q4_0");
  float sum = 0;
  for (size_t b = 0; b < n / kQK; b++) {
    int lo = 0, hi = 0;  // the low-nibble half (weights 0..15) and the high-nibble half (16..31)
    for (int j = 0; j < kQK / 2; j++) {
      lo += ((w[b].qs[j] & 0x0f) - 8) * x[b].qs[j];
      hi += ((w[b].qs[j] >> 4) - 8) * x[b].qs[j + kQK / 2];
    }
    sum += static_cast<float>(lo + hi) * f16_to_f32(w[b].d) * f16_to_f32(x[b].d);
  }
  return sum;
}

}  // namespace tgv
