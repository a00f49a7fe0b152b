// Q6_K: a super-block of 256 weights in 16 sub-blocks of 16, each with a signed 8-bit
// scale, themselves scaled by one half; 6-bit codes split into 4 low bits and 2 high
// bits (ggml block_q6_K; llama.cpp's quantize_row_q6_K_ref byte for byte, without an
// importance matrix). Dot product against Q8_K activations.
//
// One super-block, 210 bytes (6.5625 bits per weight):
//   byte  0 ............. 127   128 ........ 191   192 ..... 207   208 209
//        [ ql: low 4 bits     ] [ qh: high 2 bits ] [ scales: 16 ] [  d   ]
//   Weights come in two halves of 128 (h = 0, 1), each a group of four rows of 32:
//   weight 128h + 32r + l (r = 0..3, l = 0..31) has
//     low 4 bits:  ql[64h + l + 32 (r & 1)], the low nibble for r < 2, the high for r >= 2
//     high 2 bits: bits 2r, 2r+1 of qh[32h + l]
//   and sub-block (128h + 32r + l) / 16, i.e. scale sc[8h + 2r + l / 16].
//
//   dequantize: w = half(d) * sc_j * (q - 32)   for code q (0..63) of sub-block j
//               (float32, in that order, as ggml)
//   quantize, per sub-block j of 16 weights x:
//     1. fit_scale (ggml make_qx_quants, nmax 32, weights x^2): the symmetric grid
//        scale * (q - 32), starting from the one that maps the x of largest |x| (with its
//        sign) to -32, then 18 stretched grids (-(32 + 0.1 is) / max, is = -9..9),
//        keeping the scale with the smallest x^2-weighted squared error.
//     then over the super-block: m = the scale_j of largest |scale_j| (signed),
//     d = m / -128 (stored as half 1/iscale, iscale = -128 / m), sc_j = min(127,
//     nearest_int(iscale * scale_j)) (int8), and every weight is re-quantized against the
//     stored grid: q = clamp(nearest_int(x / (half(d) sc_j)), -32, 31) + 32 (a sub-block
//     whose stored step is 0 keeps its codes from step 1). A super-block whose largest
//     |scale| is below 1e-15 is all zero bytes.
//   dot:        per super-block, exact integers: sumi = sum_j sc_j sum_l (q - 32) qx;
//               then (dw dx) sumi. (ggml's generic code sums the same integers in 8 lanes
//               of float partial sums; ours rounds in a different order.)
//
// Round-trip bound: every weight of a sub-block whose stored step d_j = half(d) sc_j is
// not 0 is mapped to the nearest point of {d_j (q - 32) : q = 0..63}: |x - w| <= |d_j| / 2
// inside the grid, the distance to its end outside; a sub-block whose stored step is 0
// (its scale rounds to 0 against the super-block's largest) is all 0. Checked in
// tests/quant/test_quant.cpp (+ float32 slack), with the relative RMS error of normal rows.
#include <algorithm>
#include <cmath>
#include <cstring>

#include "quant/blocks.h"
#include "tinygptv/quant.h"

namespace tgv {
namespace {

constexpr int kSub = 16;  // weights per sub-block

// The x^2-weighted least-squares symmetric grid for 16 values x (ggml make_qx_quants
// with nmax 32, rmse_type 1, no importance weights). Writes codes L (0..63, i.e. l + 32
// with l in -32..31) and returns the scale: x_i ~ scale * (L_i - 32).
float fit_scale(const float* x, uint8_t* L) {
  constexpr int nmax = 32;
  float max = 0, amax = 0;
  for (int i = 0; i < kSub; i++)
    if (std::fabs(x[i]) > amax) { amax = std::fabs(x[i]); max = x[i]; }
  if (amax < 1e-15f) {  // ggml's GROUP_MAX_EPS: all zero
    std::fill(L, L + kSub, uint8_t{0});
    return 0;
  }
  const auto code = [&](float iscale, int i) { return std::clamp(quant::nearest_int(iscale * x[i]), -nmax, nmax - 1); };
  float iscale = -nmax / max;
  float sumlx = 0, suml2 = 0;
  for (int i = 0; i < kSub; i++) {
    const int l = code(iscale, i);
    L[i] = static_cast<uint8_t>(l + nmax);
    const float w = x[i] * x[i];
    sumlx += w * x[i] * l;
    suml2 += w * l * l;
  }
  float scale = suml2 != 0 ? sumlx / suml2 : 0.0f;
  float best = scale * sumlx;  // = sumlx^2 / suml2: the error falls as this grows
  for (int is = -9; is <= 9; is++) {
    if (is == 0) continue;
    iscale = -(nmax + 0.1f * is) / max;
    sumlx = suml2 = 0;
    for (int i = 0; i < kSub; i++) {
      const int l = code(iscale, i);
      const float w = x[i] * x[i];
      sumlx += w * x[i] * l;
      suml2 += w * l * l;
    }
    if (suml2 > 0 && sumlx * sumlx > best * suml2) {
      for (int i = 0; i < kSub; i++) L[i] = static_cast<uint8_t>(code(iscale, i) + nmax);
      scale = sumlx / suml2;
      best = scale * sumlx;
    }
  }
  return scale;
}

// Where the code of weight k (0..255) lives: ql byte, its nibble shift, qh byte, its bit shift.
struct Place { int ql, ql_shift, qh, qh_shift; };
Place place(int k) {
  const int h = k / 128, r = (k % 128) / 32, l = k % 32;
  return {64 * h + l + 32 * (r & 1), r < 2 ? 0 : 4, 32 * h + l, 2 * r};
}

int code6(const BlockQ6_K& b, int k) {  // 0..63
  const Place p = place(k);
  return ((b.ql[p.ql] >> p.ql_shift) & 0x0f) | ((b.qh[p.qh] >> p.qh_shift) & 3) << 4;
}

}  // namespace

void quantize_row_q6_K(BlockQ6_K* out, const float* x, size_t n) {
  quant::require_whole_blocks(n, kQK_K, "Q6_K");
  for (size_t b = 0; b < n / kQK_K; b++) {
    const float* v = x + b * kQK_K;
    BlockQ6_K& o = out[b];
    uint8_t L[kQK_K];  // codes 0..63, weight order
    float scales[kQK_K / kSub];
    float max_scale = 0, max_abs_scale = 0;
    for (int j = 0; j < kQK_K / kSub; j++) {
      scales[j] = fit_scale(v + kSub * j, L + kSub * j);
      if (std::fabs(scales[j]) > max_abs_scale) {
        max_abs_scale = std::fabs(scales[j]);
        max_scale = scales[j];
      }
    }
    std::memset(&o, 0, sizeof o);
    if (max_abs_scale < 1e-15f) continue;  // d = 0 and all codes 0
    const float iscale = -128.0f / max_scale;
    o.d = f32_to_f16(1 / iscale);
    for (int j = 0; j < kQK_K / kSub; j++) o.scales[j] = static_cast<int8_t>(std::min(127, quant::nearest_int(iscale * scales[j])));
    // Re-quantize against the grid that was stored.
    for (int j = 0; j < kQK_K / kSub; j++) {
      const float d = f16_to_f32(o.d) * static_cast<float>(o.scales[j]);
      if (d == 0) continue;
      for (int i = 0; i < kSub; i++)
        L[kSub * j + i] = static_cast<uint8_t>(std::clamp(quant::nearest_int(v[kSub * j + i] / d), -32, 31) + 32);
    }
    for (int k = 0; k < kQK_K; k++) {  // o was zeroed: OR the bits in
      const Place p = place(k);
      o.ql[p.ql] |= static_cast<uint8_t>((L[k] & 0x0f) << p.ql_shift);
      o.qh[p.qh] |= static_cast<uint8_t>((L[k] >> 4) << p.qh_shift);
    }
  }
}

void dequantize_row_q6_K(float* out, const BlockQ6_K* in, size_t n) {
  quant::require_whole_blocks(n, kQK_K, "Q6_K");
  for (size_t b = 0; b < n / kQK_K; b++) {
    const float d = f16_to_f32(in[b].d);
    for (int k = 0; k < kQK_K; k++)
      out[b * kQK_K + k] = d * static_cast<float>(in[b].scales[k / kSub]) * static_cast<float>(code6(in[b], k) - 32);
  }
}

float vec_dot_q6_K_q8_K(size_t n, const BlockQ6_K* w, const BlockQ8_K* x) {
  quant::require_whole_blocks(n, kQK_K, "Q6_K");
  float sum = 0;
  for (size_t b = 0; b < n / kQK_K; b++) {
    int sumi = 0;
    for (int j = 0; j < kQK_K / kSub; j++) {
      int dot = 0;
      for (int i = 0; i < kSub; i++) dot += (code6(w[b], kSub * j + i) - 32) * x[b].qs[kSub * j + i];
      sumi += w[b].scales[j] * dot;
    }
    sum += f16_to_f32(w[b].d) * x[b].d * static_cast<float>(sumi);
  }
  return sum;
}

}  // namespace tgv
