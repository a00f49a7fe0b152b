// Q8_0: 32 weights as one half scale and 32 int8 (ggml block_q8_0; llama.cpp's
// quantize_row_q8_0_ref byte for byte). Used for weights and, quantized once per
// matmul, as the activation format of the Q4_0 / Q5_0 / Q8_0 integer dots.
//
// One block, 34 bytes (8.5 bits per weight):
//   byte  0  1   2   3  ...  33
//        [ d  ] [q0] [q1] ... [q31]     d: IEEE half, q: int8 in [-127, 127]
//
//   quantize:   amax = max |x_j|,  d = amax / 127,  q_j = round(x_j * (1/d))  (ties away from 0;
//               1/d is computed once, in float32, then multiplied -- not x_j / d)
//   dequantize: w_j = half(d) * q_j                                          (exact in float32)
//   dot:        sum over blocks of  sumi * (dw * dx),  sumi = sum_j qw_j * qx_j (int32, exact)
//
// Round-trip bound: |x_j - w_j| <= |half(d)| / 2 + |q_j| * |half(d) - d|, i.e. about
// d/2 plus the half rounding of d (relative 2^-11); tests/quant/test_quant.cpp checks
// |x_j - w_j| <= 0.5 * |half(d)| + 127 * |half(d) - d| + tiny slack.
#include <algorithm>
#include <cmath>

#include "quant/blocks.h"
#include "tinygptv/quant.h"

namespace tgv {

void quantize_row_q8_0(BlockQ8_0* out, const float* x, size_t n) {
  quant::require_whole_blocks(n, kQK, "Q8_0");
  for (size_t b = 0; b < n / kQK; b++) {
    const float* v = x + b * kQK;
    float amax = 0;
    for (int j = 0; j < kQK; j++) amax = std::max(amax, std::fabs(v[j]));
    const float d = amax / 127.0f;
    const float id = d != 0 ? 1.0f / d : 0.0f;
    out[b].d = f32_to_f16(d);
    for (int j = 0; j < kQK; j++)  // |v * id| <= 127 up to one rounding, so the cast is in range
      out[b].qs[j] = static_cast<int8_t>(std::round(v[j] * id));
  }
}

void dequantize_row_q8_0(float* out, const BlockQ8_0* in, size_t n) {
  quant::require_whole_blocks(n, kQK, "Q8_0");
  for (size_t b = 0; b < n / kQK; b++) {
    const float d = f16_to_f32(in[b].d);
    for (int j = 0; j < kQK; j++) out[b * kQK + j] = d * static_cast<float>(in[b].qs[j]);
  }
}

float vec_dot_q8_0_q8_0(size_t n, const BlockQ8_0* w, const BlockQ8_0* x) {
  quant::require_whole_blocks(n, kQK, "Q8_0");
  float sum = 0;
  for (size_t b = 0; b < n / kQK; b++) {
    int sumi = 0;
    for (int j = 0; j < kQK; j++) sumi += w[b].qs[j] * x[b].qs[j];
    sum += static_cast<float>(sumi) * (f16_to_f32(w[b].d) * f16_to_f32(x[b].d));
  }
  return sum;
}

}  // namespace tgv
