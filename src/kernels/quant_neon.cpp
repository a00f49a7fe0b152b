// NEON integer dot products for block-quantized weights (quant.h): the fast path of
// KernelSet::matmul_quant on AArch64, the same arithmetic as quant_avx2.cpp (read that
// file's comment first).
//
// NEON multiplies signed bytes by signed bytes, so no sign trick is needed: every weight
// block is unpacked to signed bytes (Q4_0: q - 8, Q5_0: q - 16, Q6_K: q - 32, the
// unsigned formats as they are) and multiplied with the activation bytes:
//   SDOT (vdotq_s32, Armv8.2 dotprod: 16 byte products summed 4 by 4 into int32 lanes)
//   when the CPU has it, checked once at run time (Linux: HWCAP_ASIMDDP);
//   otherwise the baseline Armv8.0 way: SMULL/SMULL2 (bytes -> int16 products) and
//   SADALP (pairs of int16 added into the int32 lanes).
// The integers are those of the scalar QuantFormat::vec_dot, so both paths give the same
// integers; the float part accumulates 4 lanes per output, summed once per row.
// In a baseline armv8-a build (no -march flag) SDOT is emitted with inline assembly, so
// the file builds and the instruction only runs after the check.
// Tiles as in quant_avx2.cpp: 1 x 4 for decode, 4 x 2 for prefill.
#include <arm_neon.h>

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <vector>

#if defined(__linux__)
#include <sys/auxv.h>
#ifndef HWCAP_ASIMDDP
#define HWCAP_ASIMDDP (1 << 20)
#endif
#endif

#include "kernels/kernel_sets.h"
#include "tinygptv/quant.h"

namespace tgv {

namespace {

bool cpu_has_sdot() {
#if defined(__linux__)
  return (getauxval(AT_HWCAP) & HWCAP_ASIMDDP) != 0;
#elif defined(__ARM_FEATURE_DOTPROD)
  return true;
#else
  return false;
#endif
}

inline float half(uint16_t h) {
  __fp16 f;
  std::memcpy(&f, &h, 2);
  return static_cast<float>(f);
}

// acc (4 int32 lanes) += products of 16 signed bytes, summed within groups of 4 lanes.
struct DotSdot {
  static int32x4_t dot(int32x4_t acc, int8x16_t a, int8x16_t b) {
#if defined(__ARM_FEATURE_DOTPROD)  // built for a CPU that has it (-march=...+dotprod)
    return vdotq_s32(acc, a, b);
#else  // baseline build: the assembler is told about SDOT for this one instruction
    __asm__(".arch armv8.2-a+dotprod\n\tsdot %0.4s, %1.16b, %2.16b\n\t.arch armv8-a" : "+w"(acc) : "w"(a), "w"(b));
    return acc;
#endif
  }
};

struct DotWiden {  // |product| <= 127 * 128 fits int16; pairs added into int32 by SADALP
  static int32x4_t dot(int32x4_t acc, int8x16_t a, int8x16_t b) {
    acc = vpadalq_s16(acc, vmull_s8(vget_low_s8(a), vget_low_s8(b)));
    return vpadalq_s16(acc, vmull_high_s8(a, b));
  }
};

// 16 bytes of nibbles -> the low nibbles (weights 0..15) and the high ones (16..31), 0..15.
inline void nibbles(int8x16_t out[2], const uint8_t* p) {
  const uint8x16_t b = vld1q_u8(p);
  out[0] = vreinterpretq_s8_u8(vandq_u8(b, vdupq_n_u8(0x0F)));
  out[1] = vreinterpretq_s8_u8(vshrq_n_u8(b, 4));
}

// Bit j of the little-endian word at p (32 bits) -> 0x10 in byte j, else 0: the 5th bit of the Q5 weights.
inline void fifth_bits(int8x16_t out[2], const uint8_t* p) {
  static const uint8_t kBit[16] = {1, 2, 4, 8, 16, 32, 64, 128, 1, 2, 4, 8, 16, 32, 64, 128};
  const uint8x16_t bit = vld1q_u8(kBit);
  for (int h = 0; h < 2; h++) {
    const uint8x16_t v = vcombine_u8(vdup_n_u8(p[2 * h]), vdup_n_u8(p[2 * h + 1]));
    out[h] = vreinterpretq_s8_u8(vandq_u8(vtstq_u8(v, bit), vdupq_n_u8(0x10)));
  }
}

// ---- the formats (as in quant_avx2.cpp; all weights as signed bytes) ---------------------

struct Weights32 {  // one block of 32 weights: d * q (+ m)
  int8x16_t q[2];
  float d, m;
};

template <class D>
inline int32x4_t dot32(const int8x16_t w[2], const int8_t* x) {
  return D::dot(D::dot(vdupq_n_s32(0), w[0], vld1q_s8(x)), w[1], vld1q_s8(x + 16));
}

struct FQ8_0 {
  using W = BlockQ8_0;
  using X = BlockQ8_0;
  using U = Weights32;
  static constexpr int kBlock = kQK;
  static void unpack(U& u, const W& b) {
    u.q[0] = vld1q_s8(b.qs);
    u.q[1] = vld1q_s8(b.qs + 16);
    u.d = half(b.d);
  }
  template <class D>
  static void accumulate(float32x4_t& acc, float&, const U& u, const X& x) {
    acc = vfmaq_n_f32(acc, vcvtq_f32_s32(dot32<D>(u.q, x.qs)), u.d * half(x.d));
  }
};

struct FQ4_0 : FQ8_0 {  // q - 8
  using W = BlockQ4_0;
  static void unpack(U& u, const W& b) {
    nibbles(u.q, b.qs);
    for (auto& q : u.q) q = vsubq_s8(q, vdupq_n_s8(8));
    u.d = half(b.d);
  }
};

struct FQ5_0 : FQ8_0 {  // q - 16
  using W = BlockQ5_0;
  static void unpack(U& u, const W& b) {
    int8x16_t hi[2];
    nibbles(u.q, b.qs);
    fifth_bits(hi, b.qh);
    for (int h = 0; h < 2; h++) u.q[h] = vsubq_s8(vorrq_s8(u.q[h], hi[h]), vdupq_n_s8(16));
    u.d = half(b.d);
  }
};

struct FQ4_1 {  // d * q + m, with the activation's s = d_x * sum q_x
  using W = BlockQ4_1;
  using X = BlockQ8_1;
  using U = Weights32;
  static constexpr int kBlock = kQK;
  static void unpack(U& u, const W& b) {
    nibbles(u.q, b.qs);
    u.d = half(b.d);
    u.m = half(b.m);
  }
  template <class D>
  static void accumulate(float32x4_t& acc, float& off, const U& u, const X& x) {
    acc = vfmaq_n_f32(acc, vcvtq_f32_s32(dot32<D>(u.q, x.qs)), u.d * half(x.d));
    off += u.m * half(x.s);
  }
};

struct FQ5_1 : FQ4_1 {
  using W = BlockQ5_1;
  static void unpack(U& u, const W& b) {
    int8x16_t hi[2];
    nibbles(u.q, b.qs);
    fifth_bits(hi, b.qh);
    for (int h = 0; h < 2; h++) u.q[h] = vorrq_s8(u.q[h], hi[h]);
    u.d = half(b.d);
    u.m = half(b.m);
  }
};

struct FQ4_K {  // 8 sub-blocks of 32: d * sc_s * q - dmin * m_s
  using W = BlockQ4_K;
  using X = BlockQ8_K;
  static constexpr int kBlock = kQK_K;
  struct U {
    int8x16_t q[16];  // sub-block s in q[2s], q[2s+1]
    int32_t sc[8], mn[8];
    float d, dmin;
  };
  static void unpack(U& u, const W& b) {
    for (int c = 0; c < 4; c++) {  // 32 bytes: sub-block 2c in the low nibbles, 2c+1 in the high ones
      for (int h = 0; h < 2; h++) {
        const uint8x16_t v = vld1q_u8(b.qs + 32 * c + 16 * h);
        u.q[4 * c + h] = vreinterpretq_s8_u8(vandq_u8(v, vdupq_n_u8(0x0F)));
        u.q[4 * c + 2 + h] = vreinterpretq_s8_u8(vshrq_n_u8(v, 4));
      }
    }
    // The 12 scale bytes (see quant_avx2.cpp): scales 0-3 / mins 0-3 in the low 6 bits of
    // bytes 0-3 / 4-7; scales 4-7 / mins 4-7 from the nibbles of bytes 8-11 and the top
    // 2 bits of bytes 0-3 / 4-7.
    uint32_t w[3];
    std::memcpy(w, b.scales, 12);
    const uint32_t sc[2] = {w[0] & 0x3f3f3f3fu, (w[2] & 0x0f0f0f0fu) | ((w[0] >> 2) & 0x30303030u)};
    const uint32_t mn[2] = {w[1] & 0x3f3f3f3fu, ((w[2] >> 4) & 0x0f0f0f0fu) | ((w[1] >> 2) & 0x30303030u)};
    for (int s = 0; s < 8; s++) {
      u.sc[s] = static_cast<int32_t>((sc[s / 4] >> (8 * (s % 4))) & 0xFF);
      u.mn[s] = static_cast<int32_t>((mn[s / 4] >> (8 * (s % 4))) & 0xFF);
    }
    u.d = half(b.d);
    u.dmin = half(b.dmin);
  }
  template <class D>
  static void accumulate(float32x4_t& acc, float& off, const U& u, const X& x) {
    int32x4_t sum = vdupq_n_s32(0);
    for (int s = 0; s < 8; s++) sum = vmlaq_n_s32(sum, dot32<D>(u.q + 2 * s, x.qs + 32 * s), u.sc[s]);
    acc = vfmaq_n_f32(acc, vcvtq_f32_s32(sum), u.d * x.d);
    int mins = 0;
    for (int s = 0; s < 8; s++) mins += u.mn[s] * (x.bsums[2 * s] + x.bsums[2 * s + 1]);
    off -= u.dmin * x.d * static_cast<float>(mins);
  }
};

struct FQ6_K {  // 16 sub-blocks of 16: d * sc_s * (q - 32)
  using W = BlockQ6_K;
  using X = BlockQ8_K;
  static constexpr int kBlock = kQK_K;
  struct U {
    int8x16_t q[16];  // sub-block s = weights 16 s .. 16 s + 15, as q - 32
    int32_t sc[16];
    float d;
  };
  static void unpack(U& u, const W& b) {
    const uint8x16_t m4 = vdupq_n_u8(0x0F), m2 = vdupq_n_u8(0x30);
    for (int h = 0; h < 2; h++)     // 128 weights: ql[64 h ..], qh[32 h ..]
      for (int l = 0; l < 2; l++) {  // bytes 16 l .. 16 l + 15 of each 32
        const uint8x16_t l0 = vld1q_u8(b.ql + 64 * h + 16 * l), l1 = vld1q_u8(b.ql + 64 * h + 32 + 16 * l);
        const uint8x16_t hb = vld1q_u8(b.qh + 32 * h + 16 * l);
        // weight 128h + 32j + 16l + i: low 4 bits from l0/l1, high 2 bits = bits 2j, 2j+1 of qh
        const uint8x16_t q[4] = {vorrq_u8(vandq_u8(l0, m4), vandq_u8(vshlq_n_u8(hb, 4), m2)),
                                 vorrq_u8(vandq_u8(l1, m4), vandq_u8(vshlq_n_u8(hb, 2), m2)),
                                 vorrq_u8(vshrq_n_u8(l0, 4), vandq_u8(hb, m2)),
                                 vorrq_u8(vshrq_n_u8(l1, 4), vandq_u8(vshrq_n_u8(hb, 2), m2))};
        for (int j = 0; j < 4; j++) u.q[8 * h + 2 * j + l] = vsubq_s8(vreinterpretq_s8_u8(q[j]), vdupq_n_s8(32));
      }
    for (int s = 0; s < 16; s++) u.sc[s] = b.scales[s];
    u.d = half(b.d);
  }
  template <class D>
  static void accumulate(float32x4_t& acc, float&, const U& u, const X& x) {
    int32x4_t sum = vdupq_n_s32(0);
    for (int s = 0; s < 16; s++) sum = vmlaq_n_s32(sum, D::dot(vdupq_n_s32(0), u.q[s], vld1q_s8(x.qs + 16 * s)), u.sc[s]);
    acc = vfmaq_n_f32(acc, vcvtq_f32_s32(sum), u.d * x.d);
  }
};

// ---- the tiled loop ---------------------------------------------------------------------

template <class F, class D, int RT, int RN>
void tile(float* y, int ldy, const typename F::X* xq, const typename F::W* w, int nb, int t0, int n0) {
  const typename F::W* wr[RN];
  const typename F::X* xr[RT];
  for (int j = 0; j < RN; j++) wr[j] = w + static_cast<size_t>(n0 + j) * nb;
  for (int i = 0; i < RT; i++) xr[i] = xq + static_cast<size_t>(t0 + i) * nb;
  float32x4_t acc[RT][RN];
  float off[RT][RN];
  for (int i = 0; i < RT; i++)
    for (int j = 0; j < RN; j++) {
      acc[i][j] = vdupq_n_f32(0.0f);
      off[i][j] = 0.0f;
    }
  for (int b = 0; b < nb; b++) {
    typename F::U u[RN];
    for (int j = 0; j < RN; j++) F::unpack(u[j], wr[j][b]);
    for (int i = 0; i < RT; i++)
      for (int j = 0; j < RN; j++) F::template accumulate<D>(acc[i][j], off[i][j], u[j], xr[i][b]);
  }
  for (int i = 0; i < RT; i++)
    for (int j = 0; j < RN; j++) y[static_cast<size_t>(t0 + i) * ldy + n0 + j] = vaddvq_f32(acc[i][j]) + off[i][j];
}

template <class F, class D, int RT>
void tile_rn(int rn, float* y, int ldy, const typename F::X* xq, const typename F::W* w, int nb, int t0, int n0) {
  switch (rn) {
    case 1: tile<F, D, RT, 1>(y, ldy, xq, w, nb, t0, n0); break;
    case 2: tile<F, D, RT, 2>(y, ldy, xq, w, nb, t0, n0); break;
    case 3: tile<F, D, RT, 3>(y, ldy, xq, w, nb, t0, n0); break;
    default: tile<F, D, RT, 4>(y, ldy, xq, w, nb, t0, n0); break;
  }
}

// One activation row (decode): tiles of 1 x 4 weight rows.
template <class F, class D>
void matmul_row(float* y, int ldy, const void* xq_bytes, const void* w_bytes, int K, int n0, int n1) {
  const auto* xq = static_cast<const typename F::X*>(xq_bytes);
  const auto* w = static_cast<const typename F::W*>(w_bytes);
  const int nb = K / F::kBlock;
  for (int n = n0; n < n1; n += 4) tile_rn<F, D, 1>(n1 - n < 4 ? n1 - n : 4, y, ldy, xq, w, nb, 0, n);
}

template <class F, class D>
void matmul_blocks(float* y, int ldy, const void* xq_bytes, const void* w_bytes, int T, int K, int n0, int n1) {
  if (T == 1) return matmul_row<F, D>(y, ldy, xq_bytes, w_bytes, K, n0, n1);
  const auto* xq = static_cast<const typename F::X*>(xq_bytes);
  const auto* w = static_cast<const typename F::W*>(w_bytes);
  const int nb = K / F::kBlock;
  for (int n = n0; n < n1; n += 2) {
    const int rn = n1 - n < 2 ? n1 - n : 2;
    int t = 0;
    for (; t + 4 <= T; t += 4) tile_rn<F, D, 4>(rn, y, ldy, xq, w, nb, t, n);
    switch (T - t) {
      case 1: tile_rn<F, D, 1>(rn, y, ldy, xq, w, nb, t, n); break;
      case 2: tile_rn<F, D, 2>(rn, y, ldy, xq, w, nb, t, n); break;
      case 3: tile_rn<F, D, 3>(rn, y, ldy, xq, w, nb, t, n); break;
      default: break;
    }
  }
}

template <class D>
void matmul_quant_with(float* y, int ldy, const void* xq, DType dt, const void* w, int T, int K, int n0, int n1) {
  switch (dt) {
    case DType::Q8_0: matmul_row<FQ8_0, D>(y, ldy, xq, w, K, n0, n1); break;  // T == 1 (matmul_quant_neon)
    case DType::Q4_0: matmul_blocks<FQ4_0, D>(y, ldy, xq, w, T, K, n0, n1); break;
    case DType::Q4_1: matmul_blocks<FQ4_1, D>(y, ldy, xq, w, T, K, n0, n1); break;
    case DType::Q5_0: matmul_blocks<FQ5_0, D>(y, ldy, xq, w, T, K, n0, n1); break;
    case DType::Q5_1: matmul_blocks<FQ5_1, D>(y, ldy, xq, w, T, K, n0, n1); break;
    case DType::Q4_K: matmul_blocks<FQ4_K, D>(y, ldy, xq, w, T, K, n0, n1); break;
    case DType::Q6_K: matmul_blocks<FQ6_K, D>(y, ldy, xq, w, T, K, n0, n1); break;
    default: unsupported_quant_dtype(dt);
  }
}

// Q8_0 weights against T > 1 rows (fast_quant_reads_xq): the float product on the exactly
// dequantized weights, kRows weight rows at a time through the set's float matmul.
void matmul_q8_0_float(float* y, int ldy, const float* x, const void* w, int T, int K, int n0, int n1) {
  constexpr int kRows = 16;
  thread_local std::vector<float> rows;  // kRows dequantized weight rows
  rows.resize(static_cast<size_t>(kRows) * K);
  const size_t row_blocks = static_cast<size_t>(K / kQ8Block);
  for (int n = n0; n < n1; n += kRows) {
    const int m = n1 - n < kRows ? n1 - n : kRows;
    for (int j = 0; j < m; j++)
      dequantize_row_q8_0(rows.data() + static_cast<size_t>(j) * K, static_cast<const BlockQ8_0*>(w) + (n + j) * row_blocks,
                          static_cast<size_t>(K));
    kernel_set_neon.matmul_f32(y + n, ldy, x, rows.data(), T, K, 0, m);
  }
}

}  // namespace

void matmul_quant_neon(float* y, int ldy, const float* x, const void* xq, DType dt, const void* w, int T, int K, int n0, int n1) {
  if (!fast_quant_reads_xq(dt, T)) return matmul_q8_0_float(y, ldy, x, w, T, K, n0, n1);
  static const bool sdot = cpu_has_sdot();
  if (sdot) matmul_quant_with<DotSdot>(y, ldy, xq, dt, w, T, K, n0, n1);
  else matmul_quant_with<DotWiden>(y, ldy, xq, dt, w, T, K, n0, n1);
}

}  // namespace tgv
