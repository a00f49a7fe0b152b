// Q5_0: 32 weights as one half scale and 32 unsigned 5-bit codes, split into a 32-bit
// word of fifth bits and 16 bytes of low nibbles (ggml block_q5_0; llama.cpp's
// quantize_row_q5_0_ref byte for byte). Dot product against Q8_0 activations.
//
// One block, 22 bytes (5.5 bits per weight):
//   byte  0  1   2  3  4  5   6         7         ...  21
//        [ d  ] [    qh     ] [q16|q0 ] [q17|q1 ]  ...  [q31|q15]    (low 4 bits of each code)
//   qh: little-endian uint32, bit j = bit 4 of code j (j = 0..31).
//
//   quantize:   m = the x_j of largest |x_j| (first one, signed),  d = m / -16,
//               id = 1/d (0 if d == 0),  q_j = min(31, trunc(x_j * id + 16.5))   (q in 0..31)
//   dequantize: w_j = (q_j - 16) * half(d)                                      (exact)
//   dot:        sum over blocks of  (dw * dx) * sumi,  sumi = sum_j (q_j - 16) * qx_j
//
// Round-trip bound: as Q4_0 with 16 levels a side: |x_j - w_j| <= |half(d)| / 2 +
// 16 |half(d) - d| except codes clamped at 31 (x_j near -m), off by up to |d|.
#include <algorithm>
#include <cmath>
#include <cstring>

#include "quant/blocks.h"
#include "tinygptv/quant.h"

namespace tgv {

void quantize_row_q5_0(BlockQ5_0* out, const float* x, size_t n) {
  quant::require_whole_blocks(n, kQK, "Q5_0");
  for (size_t b = 0; b < n / kQK; b++) {
    const float* v = x + b * kQK;
    float amax = 0, max = 0;
    for (int j = 0; j < kQK; j++)
      if (amax < std::fabs(v[j])) { amax = std::fabs(v[j]); max = v[j]; }
    const float d = max / -16.0f;
    const float id = d != 0 ? 1.0f / d : 0.0f;
    out[b].d = f32_to_f16(d);
    uint32_t qh = 0;
    for (int j = 0; j < kQK / 2; j++) {
      const uint32_t q0 = static_cast<uint32_t>(std::min(31, static_cast<int>(v[j] * id + 16.5f)));
      const uint32_t q1 = static_cast<uint32_t>(std::min(31, static_cast<int>(v[j + kQK / 2] * id + 16.5f)));
      out[b].qs[j] = static_cast<uint8_t>((q0 & 0x0f) | (q1 & 0x0f) << 4);
      qh |= (q0 >> 4) << j;
      qh |= (q1 >> 4) << (j + kQK / 2);
    }
    quant::store_qh(out[b].qh, qh);
  }
}

void dequantize_row_q5_0(float* out, const BlockQ5_0* in, size_t n) {
  quant::require_whole_blocks(n, kQK, "Q5_0");
  for (size_t b = 0; b < n / kQK; b++) {
    const float d = f16_to_f32(in[b].d);
    const uint32_t qh = quant::load_qh(in[b].qh);
    for (int j = 0; j < kQK; j++) out[b * kQK + j] = static_cast<float>(quant::code5(in[b].qs, qh, j) - 16) * d;
  }
}

float vec_dot_q5_0_q8_0(size_t n, const BlockQ5_0* w, const BlockQ8_0* x) {
  quant::require_whole_blocks(n, kQK, "Q5_0");
  float sum = 0;
  for (size_t b = 0; b < n / kQK; b++) {
    const uint32_t qh = quant::load_qh(w[b].qh);
    int sumi = 0;
    for (int j = 0; j < kQK; j++) sumi += (quant::code5(w[b].qs, qh, j) - 16) * x[b].qs[j];
    sum += (f16_to_f32(w[b].d) * f16_to_f32(x[b].d)) * static_cast<float>(sumi);
  }
  return sum;
}

}  // namespace tgv
