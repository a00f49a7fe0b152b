// Q4_1: 32 weights as a half scale, a half minimum and 32 unsigned 4-bit codes
// (ggml block_q4_1; llama.cpp's quantize_row_q4_1_ref byte for byte). Dot product
// against Q8_1 activations (whose s = dx * sum(qx) carries the minimum's share).
//
// One block, 20 bytes (5 bits per weight):
//   byte  0  1   2  3   4         5         ...  19
//        [ d  ] [ m  ] [q16|q0 ] [q17|q1 ]  ...  [q31|q15]    d, m: IEEE halves
//   byte 4 + j holds weight j in its low nibble and weight j + 16 in its high nibble.
//
//   quantize:   min, max over the block,  d = (max - min) / 15,  id = 1/d (0 if d == 0),
//               m = min,  q_j = min(15, trunc((x_j - min) * id + 0.5))      (q in 0..15)
//   dequantize: w_j = q_j * half(d) + half(m)   (two float32 roundings, in this order, as ggml)
//   dot:        sum over blocks of  dw * dx * sumi + mw * sx,
//               sumi = sum_j q_j * qx_j (int32),  sx = the Q8_1 block's half(dx * sum qx)
//
// Round-trip bound: |x_j - w_j| <= |half(d)| / 2 + 15 |half(d) - d| + |half(m) - m|
// (+ float rounding), checked in tests/quant/test_quant.cpp.
#include <algorithm>
#include <cfloat>

#include "quant/blocks.h"
#include "tinygptv/quant.h"

namespace tgv {

void quantize_row_q4_1(BlockQ4_1* out, const float* x, size_t n) {
  quant::require_whole_blocks(n, kQK, "Q4_1");
  for (size_t b = 0; b < n / kQK; b++) {
    const float* v = x + b * kQK;
    float min = FLT_MAX, max = -FLT_MAX;
    for (int j = 0; j < kQK; j++) {
      if (v[j] < min) min = v[j];
      if (v[j] > max) max = v[j];
    }
    const float d = (max - min) / 15.0f;
    const float id = d != 0 ? 1.0f / d : 0.0f;
    out[b].d = f32_to_f16(d);
    out[b].m = f32_to_f16(min);
    for (int j = 0; j < kQK / 2; j++) {  // (x - min) * id is in [0, 15]: the cast truncates = round half up
      const int q0 = std::min(15, static_cast<int>((v[j] - min) * id + 0.5f));
      const int q1 = std::min(15, static_cast<int>((v[j + kQK / 2] - min) * id + 0.5f));
      out[b].qs[j] = static_cast<uint8_t>(q0 | q1 << 4);
    }
  }
}

void dequantize_row_q4_1(float* out, const BlockQ4_1* in, size_t n) {
  quant::require_whole_blocks(n, kQK, "Q4_1");
  for (size_t b = 0; b < n / kQK; b++) {
    const float d = f16_to_f32(in[b].d), m = f16_to_f32(in[b].m);
    float* w = out + b * kQK;
    for (int j = 0; j < kQK / 2; j++) {
      w[j] = static_cast<float>(in[b].qs[j] & 0x0f) * d + m;
      w[j + kQK / 2] = static_cast<float>(in[b].qs[j] >> 4) * d + m;
    }
  }
}

float vec_dot_q4_1_q8_1(size_t n, const BlockQ4_1* w, const BlockQ8_1* x) {
  quant::require_whole_blocks(n, kQK, "Q4_1");
  float sum = 0;
  for (size_t b = 0; b < n / kQK; b++) {
    int lo = 0, hi = 0;
    for (int j = 0; j < kQK / 2; j++) {
      lo += (w[b].qs[j] & 0x0f) * x[b].qs[j];
      hi += (w[b].qs[j] >> 4) * x[b].qs[j + kQK / 2];
    }
    sum += f16_to_f32(w[b].d) * f16_to_f32(x[b].d) * static_cast<float>(lo + hi) + f16_to_f32(w[b].m) * f16_to_f32(x[b].s);
  }
  return sum;
}

}  // namespace tgv
