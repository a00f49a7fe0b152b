// Q4_K: a super-block of 256 weights in 8 sub-blocks of 32, each with its own 6-bit
// scale and 6-bit minimum, themselves scaled by two halves (ggml block_q4_K;
// llama.cpp's quantize_row_q4_K_ref byte for byte, without an importance matrix).
// Dot product against Q8_K activations.
//
// One super-block, 144 bytes (4.5 bits per weight):
//   byte  0  1   2  3      4 ........ 15     16 .................. 143
//        [ d  ] [dmin]    [ scales: 12 ]     [ qs: 128 bytes of 4-bit codes ]
//   scales packs 8 scales sc_j and 8 mins m_j, 6 bits each (bytes 0..11 of the field):
//     j < 4:  sc_j = s[j] & 63,                        m_j = s[j+4] & 63
//     j >= 4: sc_j = (s[j+4] & 15) | (s[j-4] >> 6) << 4, m_j = (s[j+4] >> 4) | (s[j] >> 6) << 4
//   qs: 4 chunks of 32 bytes; byte l of chunk c holds weight 64c + l in its low nibble
//   and weight 64c + 32 + l in its high nibble (so sub-block 2c = the low nibbles of
//   chunk c, sub-block 2c+1 its high nibbles).
//
//   dequantize: w = half(d) * sc_j * q - half(dmin) * m_j  for weight q (0..15) of sub-block j
//               (as ggml: d1 = d * sc, m1 = dmin * m, then d1 * q - m1, float32)
//   quantize, per sub-block j of 32 weights x:
//     1. weights  wt_i = sqrt(sum x^2 / 32) + |x_i|  (importance: big values matter more)
//     2. fit_scale_min (ggml make_qkx2_quants, nmax 15, rmin -1, rdelta 0.1, 20 steps,
//        squared error): the affine grid scale * q - mn, q in 0..15, minimising
//        sum wt_i (scale q_i - mn - x_i)^2 over 21 candidate grids; mn >= 0.
//     then over the super-block: d = max scale / 63, dmin = max mn / 63 (as halves),
//     sc_j = min(63, nearest_int(63 / max scale * scale_j)), m_j likewise, and every
//     weight is re-quantized against the stored grid: q = clamp(nearest_int((x + dmin m_j) /
//     (d sc_j)), 0, 15) (a sub-block whose stored d sc_j is 0 keeps its codes from step 2).
//     nearest_int rounds ties to even (ggml's 1.5 * 2^23 trick).
//   dot:        per super-block, exact integers: sumi = sum_j sc_j sum_l q qx,
//               summ = sum_j m_j (bsum_2j + bsum_2j+1); then  (dw dx) sumi - (dminw dx) summ.
//               (ggml's generic code sums the same integers in 8 lanes of float partial
//               sums; ours rounds in a different order, within float32 rounding.)
//
// Round-trip bound: every weight of a sub-block whose stored step d_j = half(d) sc_j is
// not 0 is mapped to the nearest point of that sub-block's stored grid
// {d_j q - half(dmin) m_j : q = 0..15}: |x - w| <= d_j / 2 inside the grid, the distance
// to the grid's end outside it (the fitted grid need not reach the extremes); a sub-block
// whose stored step is 0 (its scale rounds to 0 against the super-block's largest) is the
// one point -half(dmin) m_j. tests/quant/test_quant.cpp checks that (+ float32 slack),
// and the relative RMS error of normal rows, the quality measure (tests/quant/quant_tolerances.h).
#include <algorithm>
#include <cmath>
#include <cstring>

#include "quant/blocks.h"
#include "tinygptv/quant.h"

namespace tgv {
namespace {

constexpr int kSub = 32;  // weights per sub-block

// The 6-bit scale and minimum of sub-block j (ggml get_scale_min_k4).
void scale_min(int j, const uint8_t* s, int* sc, int* m) {
  if (j < 4) {
    *sc = s[j] & 63;
    *m = s[j + 4] & 63;
  } else {
    *sc = (s[j + 4] & 0x0f) | (s[j - 4] >> 6) << 4;
    *m = (s[j + 4] >> 4) | (s[j] >> 6) << 4;
  }
}

// The inverse: stores sc, m (each 0..63) of sub-block j. Sub-blocks 0..3 first.
void set_scale_min(int j, uint8_t* s, int sc, int m) {
  if (j < 4) {
    s[j] = static_cast<uint8_t>(sc);
    s[j + 4] = static_cast<uint8_t>(m);
  } else {
    s[j + 4] = static_cast<uint8_t>((sc & 0x0f) | (m & 0x0f) << 4);
    s[j - 4] |= static_cast<uint8_t>((sc >> 4) << 6);
    s[j] |= static_cast<uint8_t>((m >> 4) << 6);
  }
}

// The weighted least-squares affine grid for 32 values x (ggml make_qkx2_quants with
// nmax 15, rmin -1, rdelta 0.1, nstep 20, squared error). Writes the codes q (0..15),
// returns the scale and sets *neg_min = mn >= 0 so that x_i ~ scale * q_i - mn.
float fit_scale_min(const float* x, const float* wt, uint8_t* q, float* neg_min) {
  constexpr int nmax = 15, nstep = 20;
  constexpr float rmin = -1.0f, rdelta = 0.1f;
  float min = x[0], max = x[0];
  float sum_w = wt[0], sum_x = sum_w * x[0];
  for (int i = 1; i < kSub; i++) {
    if (x[i] < min) min = x[i];
    if (x[i] > max) max = x[i];
    sum_w += wt[i];
    sum_x += wt[i] * x[i];
  }
  if (min > 0) min = 0;  // the grid always reaches 0
  if (max == min) {
    std::fill(q, q + kSub, uint8_t{0});
    *neg_min = -min;
    return 0;
  }
  // Start: the plain min/max grid, and its weighted squared error.
  float iscale = nmax / (max - min);
  float scale = 1 / iscale;
  float best_error = 0;
  for (int i = 0; i < kSub; i++) {
    q[i] = static_cast<uint8_t>(std::clamp(quant::nearest_int(iscale * (x[i] - min)), 0, nmax));
    const float diff = scale * q[i] + min - x[i];
    best_error += wt[i] * (diff * diff);
  }
  // Try 21 stretched grids (nmax - 1 .. nmax + 1 steps over the range); for each set of
  // codes solve the 2x2 least-squares problem for (scale, min); keep the best.
  uint8_t aux[kSub];
  for (int is = 0; is <= nstep; is++) {
    iscale = (rmin + rdelta * is + nmax) / (max - min);
    float sum_l = 0, sum_l2 = 0, sum_xl = 0;
    for (int i = 0; i < kSub; i++) {
      const int l = std::clamp(quant::nearest_int(iscale * (x[i] - min)), 0, nmax);
      aux[i] = static_cast<uint8_t>(l);
      sum_l += wt[i] * l;
      sum_l2 += wt[i] * l * l;
      sum_xl += wt[i] * l * x[i];
    }
    const float D = sum_w * sum_l2 - sum_l * sum_l;
    if (D > 0) {
      float this_scale = (sum_w * sum_xl - sum_x * sum_l) / D;
      float this_min = (sum_l2 * sum_x - sum_l * sum_xl) / D;
      if (this_min > 0) {  // keep 0 on the grid: refit the scale alone with min = 0
        this_min = 0;
        this_scale = sum_xl / sum_l2;
      }
      float cur_error = 0;
      for (int i = 0; i < kSub; i++) {
        const float diff = this_scale * aux[i] + this_min - x[i];
        cur_error += wt[i] * (diff * diff);
      }
      if (cur_error < best_error) {
        std::copy(aux, aux + kSub, q);
        best_error = cur_error;
        scale = this_scale;
        min = this_min;
      }
    }
  }
  *neg_min = -min;
  return scale;
}

// Code (0..15) of weight k (0..255) of a super-block.
int code4(const BlockQ4_K& b, int k) {
  const uint8_t byte = b.qs[32 * (k / 64) + k % 32];
  return (k % 64) < 32 ? byte & 0x0f : byte >> 4;
}

}  // namespace

void quantize_row_q4_K(BlockQ4_K* out, const float* x, size_t n) {
  quant::require_whole_blocks(n, kQK_K, "Q4_K");
  for (size_t b = 0; b < n / kQK_K; b++) {
    const float* v = x + b * kQK_K;
    BlockQ4_K& o = out[b];
    uint8_t q[kQK_K];                    // codes 0..15, weight order
    float scales[8], mins[8];            // per sub-block: the fitted scale and -min
    float max_scale = 0, max_min = 0;
    for (int j = 0; j < 8; j++) {
      const float* xs = v + kSub * j;
      float sum_x2 = 0;
      for (int i = 0; i < kSub; i++) sum_x2 += xs[i] * xs[i];
      const float av_x = std::sqrt(sum_x2 / kSub);
      float wt[kSub];
      for (int i = 0; i < kSub; i++) wt[i] = av_x + std::fabs(xs[i]);
      scales[j] = fit_scale_min(xs, wt, q + kSub * j, &mins[j]);
      if (scales[j] > max_scale) max_scale = scales[j];
      if (mins[j] > max_min) max_min = mins[j];
    }
    // The 6-bit scales and mins, relative to the super-block's largest.
    const float inv_scale = max_scale > 0 ? 63.0f / max_scale : 0.0f;
    const float inv_min = max_min > 0 ? 63.0f / max_min : 0.0f;
    std::memset(o.scales, 0, sizeof o.scales);
    for (int j = 0; j < 8; j++) {
      // As ggml: the rounded value is stored in a uint8 first (a negative one wraps) and then capped.
      const int ls = std::min<int>(63, static_cast<uint8_t>(quant::nearest_int(inv_scale * scales[j])));
      const int lm = std::min<int>(63, static_cast<uint8_t>(quant::nearest_int(inv_min * mins[j])));
      set_scale_min(j, o.scales, ls, lm);
    }
    o.d = f32_to_f16(max_scale / 63.0f);
    o.dmin = f32_to_f16(max_min / 63.0f);
    // Re-quantize against the grid that was stored.
    for (int j = 0; j < 8; j++) {
      int sc, m;
      scale_min(j, o.scales, &sc, &m);
      const float d = f16_to_f32(o.d) * static_cast<float>(sc);
      if (d == 0) continue;
      const float dm = f16_to_f32(o.dmin) * static_cast<float>(m);
      for (int i = 0; i < kSub; i++)
        q[kSub * j + i] = static_cast<uint8_t>(std::clamp(quant::nearest_int((v[kSub * j + i] + dm) / d), 0, 15));
    }
    for (int c = 0; c < 4; c++)
      for (int l = 0; l < 32; l++) o.qs[32 * c + l] = static_cast<uint8_t>(q[64 * c + l] | q[64 * c + 32 + l] << 4);
  }
}

void dequantize_row_q4_K(float* out, const BlockQ4_K* in, size_t n) {
  quant::require_whole_blocks(n, kQK_K, "Q4_K");
  for (size_t b = 0; b < n / kQK_K; b++) {
    const float d = f16_to_f32(in[b].d), dmin = f16_to_f32(in[b].dmin);
    for (int j = 0; j < 8; j++) {
      int sc, m;
      scale_min(j, in[b].scales, &sc, &m);
      const float d1 = d * static_cast<float>(sc), m1 = dmin * static_cast<float>(m);
      for (int i = 0; i < kSub; i++) {
        const int k = kSub * j + i;
        out[b * kQK_K + k] = d1 * static_cast<float>(code4(in[b], k)) - m1;
      }
    }
  }
}

float vec_dot_q4_K_q8_K(size_t n, const BlockQ4_K* w, const BlockQ8_K* x) {
  quant::require_whole_blocks(n, kQK_K, "Q4_K");
  float sum = 0;
  for (size_t b = 0; b < n / kQK_K; b++) {
    int sumi = 0, summ = 0;  // sum_j sc_j (q . qx)_j  and  sum_j m_j (sum of qx)_j
    for (int j = 0; j < 8; j++) {
      int sc, m;
      scale_min(j, w[b].scales, &sc, &m);
      int dot = 0;
      for (int i = 0; i < kSub; i++) dot += code4(w[b], kSub * j + i) * x[b].qs[kSub * j + i];
      sumi += sc * dot;
      summ += m * (x[b].bsums[2 * j] + x[b].bsums[2 * j + 1]);
    }
    sum += f16_to_f32(w[b].d) * x[b].d * static_cast<float>(sumi);
    sum -= f16_to_f32(w[b].dmin) * x[b].d * static_cast<float>(summ);
  }
  return sum;
}

}  // namespace tgv
