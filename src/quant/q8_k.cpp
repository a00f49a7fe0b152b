// Q8_K: the activation format of the Q4_K / Q6_K integer dots (ggml block_q8_K;
// llama.cpp's quantize_row_q8_K_ref byte for byte). 256 values with a float32 scale
// and the sums of each group of 16 quants, which the K-formats' minimums need.
//
// One block, 292 bytes (9.125 bits per value):
//   byte  0 .. 3    4 .. 259          260 .. 291
//        [ d f32 ]  [q0 ... q255]     [bsum0 ... bsum15]   q: int8, bsum: int16 (little-endian)
//
//   quantize:   m = the x_j of largest |x_j| (first one, signed); if m == 0 the block is
//               d = 0, q = 0, bsums = 0 (ggml leaves the bsums unwritten there);
//               else iscale = -127 / m,  q_j = min(127, nearest_int(iscale * x_j)),
//               bsum_g = sum of q_{16g .. 16g+15},  d = 1 / iscale            (q in -127..127)
//               nearest_int rounds ties to even. Note d = -m/127 may be negative.
//   dequantize: x_j ~ d * q_j                                                  (exact)
//
// Round-trip bound: |x_j - w_j| <= |d| / 2 (+ float rounding; d is not rounded to half).
#include <algorithm>
#include <cmath>
#include <cstring>

#include "quant/blocks.h"
#include "tinygptv/quant.h"

namespace tgv {

void quantize_row_q8_K(BlockQ8_K* out, const float* x, size_t n) {
  quant::require_whole_blocks(n, kQK_K, "Q8_K");
  for (size_t b = 0; b < n / kQK_K; b++) {
    const float* v = x + b * kQK_K;
    float amax = 0, max = 0;
    for (int j = 0; j < kQK_K; j++)
      if (std::fabs(v[j]) > amax) { amax = std::fabs(v[j]); max = v[j]; }
    BlockQ8_K& o = out[b];
    if (amax == 0) {
      std::memset(&o, 0, sizeof o);
      continue;
    }
    const float iscale = -127.0f / max;
    for (int j = 0; j < kQK_K; j++) o.qs[j] = static_cast<int8_t>(std::min(127, quant::nearest_int(iscale * v[j])));
    for (int g = 0; g < kQK_K / 16; g++) {
      int sum = 0;
      for (int j = 0; j < 16; j++) sum += o.qs[16 * g + j];
      o.bsums[g] = static_cast<int16_t>(sum);
    }
    o.d = 1 / iscale;
  }
}

void dequantize_row_q8_K(float* out, const BlockQ8_K* in, size_t n) {
  quant::require_whole_blocks(n, kQK_K, "Q8_K");
  for (size_t b = 0; b < n / kQK_K; b++)
    for (int j = 0; j < kQK_K; j++) out[b * kQK_K + j] = in[b].d * static_cast<float>(in[b].qs[j]);
}

}  // namespace tgv
