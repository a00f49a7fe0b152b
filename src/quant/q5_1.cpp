// Q5_1: 32 weights as a half scale, a half minimum and 32 unsigned 5-bit codes (ggml
// block_q5_1; llama.cpp's quantize_row_q5_1_ref byte for byte). Dot product against
// Q8_1 activations.
//
// One block, 24 bytes (6 bits per weight):
//   byte  0  1   2  3   4  5  6  7   8         9         ...  23
//        [ d  ] [ m  ] [    qh     ] [q16|q0 ] [q17|q1 ]  ...  [q31|q15]
//   qh: little-endian uint32, bit j = bit 4 of code j; qs: the low 4 bits, as Q4_1.
//
//   quantize:   min, max over the block,  d = (max - min) / 31,  id = 1/d (0 if d == 0),
//               m = min,  q_j = trunc((x_j - min) * id + 0.5)                (q in 0..31)
//   dequantize: w_j = q_j * half(d) + half(m)   (two float32 roundings, in this order, as ggml)
//   dot:        sum over blocks of  (dw * dx) * sumi + mw * sx   (as Q4_1)
//
// Round-trip bound: |x_j - w_j| <= |half(d)| / 2 + 31 |half(d) - d| + |half(m) - m|
// (+ float rounding).
#include <cfloat>
#include <cstring>

#include "quant/blocks.h"
#include "tinygptv/quant.h"

namespace tgv {

void quantize_row_q5_1(BlockQ5_1* out, const float* x, size_t n) {
  quant::require_whole_blocks(n, kQK, "Q5_1");
  for (size_t b = 0; b < n / kQK; b++) {
    const float* v = x + b * kQK;
    float min = FLT_MAX, max = -FLT_MAX;
    for (int j = 0; j < kQK; j++) {
      if (v[j] < min) min = v[j];
      if (v[j] > max) max = v[j];
    }
    const float d = (max - min) / 31.0f;
    const float id = d != 0 ? 1.0f / d : 0.0f;
    out[b].d = f32_to_f16(d);
    out[b].m = f32_to_f16(min);
    uint32_t qh = 0;
    for (int j = 0; j < kQK / 2; j++) {  // (x - min) * id + 0.5 is in [0.5, 31.5]: no clamp needed (ggml has none)
      const uint32_t q0 = static_cast<uint8_t>((v[j] - min) * id + 0.5f);
      const uint32_t q1 = static_cast<uint8_t>((v[j + kQK / 2] - min) * id + 0.5f);
      out[b].qs[j] = static_cast<uint8_t>((q0 & 0x0f) | (q1 & 0x0f) << 4);
      qh |= ((q0 >> 4) & 1) << j;
      qh |= ((q1 >> 4) & 1) << (j + kQK / 2);
    }
    quant::store_qh(out[b].qh, qh);
  }
}

void dequantize_row_q5_1(float* out, const BlockQ5_1* in, size_t n) {
  quant::require_whole_blocks(n, kQK, "Q5_1");
  for (size_t b = 0; b < n / kQK; b++) {
    const float d = f16_to_f32(in[b].d), m = f16_to_f32(in[b].m);
    const uint32_t qh = quant::load_qh(in[b].qh);
    for (int j = 0; j < kQK; j++) out[b * kQK + j] = static_cast<float>(quant::code5(in[b].qs, qh, j)) * d + m;
  }
}

float vec_dot_q5_1_q8_1(size_t n, const BlockQ5_1* w, const BlockQ8_1* x) {
  quant::require_whole_blocks(n, kQK, "Q5_1");
  float sum = 0;
  for (size_t b = 0; b < n / kQK; b++) {
    const uint32_t qh = quant::load_qh(w[b].qh);
    int sumi = 0;
    for (int j = 0; j < kQK; j++) sumi += quant::code5(w[b].qs, qh, j) * x[b].qs[j];
    sum += (f16_to_f32(w[b].d) * f16_to_f32(x[b].d)) * static_cast<float>(sumi) + f16_to_f32(w[b].m) * f16_to_f32(x[b].s);
  }
  return sum;
}

}  // namespace tgv
