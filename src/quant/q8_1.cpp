// Q8_1: the activation format of the Q4_1 / Q5_1 integer dots (ggml block_q8_1;
// llama.cpp's quantize_row_q8_1_ref byte for byte). As Q8_0, plus s = d * sum(q), so
// a dot with a format that has a minimum m needs no second pass: sum_j (dw qw_j + m) dx qx_j
// = dw dx sum_j qw_j qx_j + m s.
//
// One block, 36 bytes (9 bits per value):
//   byte  0  1   2  3   4    5   ...  35
//        [ d  ] [ s  ] [q0] [q1] ...  [q31]     d, s: IEEE halves, q: int8 in [-127, 127]
//
//   quantize:   amax = max |x_j|,  d = amax / 127,  q_j = round(x_j * (1/d)) (ties away from 0),
//               s = half(float(sum_j q_j) * d)   (d before its rounding to half, as ggml)
//   dequantize: x_j ~ half(d) * q_j  (s is redundant for the values)
//
// Round-trip bound: as Q8_0, |x_j - w_j| <= |half(d)| / 2 + 127 |half(d) - d|.
#include <algorithm>
#include <cmath>

#include "quant/blocks.h"
#include "tinygptv/quant.h"

namespace tgv {

void quantize_row_q8_1(BlockQ8_1* out, const float* x, size_t n) {
  quant::require_whole_blocks(n, kQK, "Q8_1");
  for (size_t b = 0; b < n / kQK; b++) {
    const float* v = x + b * kQK;
    float amax = 0;
    for (int j = 0; j < kQK; j++) amax = std::max(amax, std::fabs(v[j]));
    const float d = amax / 127.0f;
    const float id = d != 0 ? 1.0f / d : 0.0f;
    out[b].d = f32_to_f16(d);
    int sum = 0;
    for (int j = 0; j < kQK; j++) {
      out[b].qs[j] = static_cast<int8_t>(std::round(v[j] * id));
      sum += out[b].qs[j];
    }
    out[b].s = f32_to_f16(static_cast<float>(sum) * d);
  }
}

void dequantize_row_q8_1(float* out, const BlockQ8_1* in, size_t n) {
  quant::require_whole_blocks(n, kQK, "Q8_1");
  for (size_t b = 0; b < n / kQK; b++) {
    const float d = f16_to_f32(in[b].d);
    for (int j = 0; j < kQK; j++) out[b * kQK + j] = static_cast<float>(in[b].qs[j]) * d;
  }
}

}  // namespace tgv
