// NEON (AArch64 Advanced SIMD) kernels: the same contract as the scalar set
// (kernels.h, scalar.cpp), 4 floats per instruction. Compiled only for AArch64
// (CMakeLists.txt: *_neon.cpp), where NEON is always present, so dispatch.cpp can
// use kernel_set_neon without a CPU check.
//
// Same structure as kernels_avx2.cpp, kept simpler: tiles of RT input rows x RN
// weight rows with RT*RN accumulators of 4 lanes (AArch64 has 32 vector registers,
// so 4 x 4 tiles fit), weight-row blocks outside and input-row tiles inside so each
// block of W is read from memory once; K % 4 leftovers in a scalar tail.
//   float16 -> float32: vcvt_f32_f16 (exact); bfloat16 -> float32: widen and shift left 16 (exact);
//   Block-quantized weights: quant_neon.cpp (integer dot products).
// Results agree with the scalar set to rounding (fused multiply-add, another order of
// partial sums), not bit for bit; tests/kernels/test_kernels.cpp checks the bound.
#include <arm_neon.h>

#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstring>

#include "kernels/kernel_sets.h"
#include "tinygptv/kernels.h"

namespace tgv {

namespace {

// row(w, n, K): where row n of W [N, K] starts; load4(r, k): weights k..k+3 of a row as
// floats (k % 4 == 0); load1(r, k): weight k alone, for the scalar tail. All exact.
struct LoadF32 {
  using T = float;
  static const float* row(const float* w, int n, int K) { return w + static_cast<size_t>(n) * K; }
  static float32x4_t load4(const float* r, int k) { return vld1q_f32(r + k); }
  static float load1(const float* r, int k) { return r[k]; }
};

struct LoadF16 {
  using T = uint16_t;
  static const uint16_t* row(const uint16_t* w, int n, int K) { return w + static_cast<size_t>(n) * K; }
  static float32x4_t load4(const uint16_t* r, int k) { return vcvt_f32_f16(vreinterpret_f16_u16(vld1_u16(r + k))); }
  static float load1(const uint16_t* r, int k) { return f16_to_f32(r[k]); }
};

struct LoadBF16 {
  using T = uint16_t;
  static const uint16_t* row(const uint16_t* w, int n, int K) { return w + static_cast<size_t>(n) * K; }
  static float32x4_t load4(const uint16_t* r, int k) { return vreinterpretq_f32_u32(vshll_n_u16(vld1_u16(r + k), 16)); }
  static float load1(const uint16_t* r, int k) { return bf16_to_f32(r[k]); }
};

// One tile: y[t0+i, n0+j] for i < RT, j < RN.   x: [T, K] rows t0.., w: [N, K] rows n0..
template <class L, int RT, int RN>
void tile(float* y, int ldy, const float* x, const typename L::T* w, int K, int t0, int n0) {
  const float* xr[RT];
  const typename L::T* wr[RN];
  for (int i = 0; i < RT; i++) xr[i] = x + static_cast<size_t>(t0 + i) * K;
  for (int j = 0; j < RN; j++) wr[j] = L::row(w, n0 + j, K);

  float32x4_t acc[RT][RN];
  for (int i = 0; i < RT; i++)
    for (int j = 0; j < RN; j++) acc[i][j] = vdupq_n_f32(0.0f);

  int k = 0;
  for (; k + 4 <= K; k += 4) {
    float32x4_t wv[RN];
    for (int j = 0; j < RN; j++) wv[j] = L::load4(wr[j], k);
    for (int i = 0; i < RT; i++) {
      const float32x4_t xv = vld1q_f32(xr[i] + k);
      for (int j = 0; j < RN; j++) acc[i][j] = vfmaq_f32(acc[i][j], xv, wv[j]);
    }
  }
  for (int i = 0; i < RT; i++)
    for (int j = 0; j < RN; j++) {
      float s = vaddvq_f32(acc[i][j]);
      for (int kk = k; kk < K; kk++) s += xr[i][kk] * L::load1(wr[j], kk);  // scalar tail, K % 4 values
      y[static_cast<size_t>(t0 + i) * ldy + n0 + j] = s;
    }
}

template <class L, int RT>
void tile_rt(int rn, float* y, int ldy, const float* x, const typename L::T* w, int K, int t0, int n0) {
  switch (rn) {
    case 1: tile<L, RT, 1>(y, ldy, x, w, K, t0, n0); break;
    case 2: tile<L, RT, 2>(y, ldy, x, w, K, t0, n0); break;
    case 3: tile<L, RT, 3>(y, ldy, x, w, K, t0, n0); break;
    default: tile<L, RT, 4>(y, ldy, x, w, K, t0, n0); break;
  }
}

template <class L>
void tile_any(int rt, int rn, float* y, int ldy, const float* x, const typename L::T* w, int K, int t0, int n0) {
  switch (rt) {
    case 1: tile_rt<L, 1>(rn, y, ldy, x, w, K, t0, n0); break;
    case 2: tile_rt<L, 2>(rn, y, ldy, x, w, K, t0, n0); break;
    case 3: tile_rt<L, 3>(rn, y, ldy, x, w, K, t0, n0); break;
    default: tile_rt<L, 4>(rn, y, ldy, x, w, K, t0, n0); break;
  }
}

// Rows [n0, n1) of W [N, K] against all T rows of x [T, K]; tiles of up to 4 x 4.
template <class L>
void matmul_tiled(float* y, int ldy, const float* x, const typename L::T* w, int T, int K, int n0, int n1) {
  for (int n = n0; n < n1; n += 4) {
    const int rn = n1 - n < 4 ? n1 - n : 4;
    for (int t = 0; t < T; t += 4) tile_any<L>(T - t < 4 ? T - t : 4, rn, y, ldy, x, w, K, t, n);
  }
}

void matmul_f32_neon(float* y, int ldy, const float* x, const float* w, int T, int K, int n0, int n1) {
  matmul_tiled<LoadF32>(y, ldy, x, w, T, K, n0, n1);
}
void matmul_f16_neon(float* y, int ldy, const float* x, const uint16_t* w, int T, int K, int n0, int n1) {
  matmul_tiled<LoadF16>(y, ldy, x, w, T, K, n0, n1);
}
void matmul_bf16_neon(float* y, int ldy, const float* x, const uint16_t* w, int T, int K, int n0, int n1) {
  matmul_tiled<LoadBF16>(y, ldy, x, w, T, K, n0, n1);
}
float dot_neon(const float* a, const float* b, int n) {
  float32x4_t s0 = vdupq_n_f32(0.0f), s1 = vdupq_n_f32(0.0f);
  int i = 0;
  for (; i + 8 <= n; i += 8) {
    s0 = vfmaq_f32(s0, vld1q_f32(a + i), vld1q_f32(b + i));
    s1 = vfmaq_f32(s1, vld1q_f32(a + i + 4), vld1q_f32(b + i + 4));
  }
  for (; i + 4 <= n; i += 4) s0 = vfmaq_f32(s0, vld1q_f32(a + i), vld1q_f32(b + i));
  float s = vaddvq_f32(vaddq_f32(s0, s1));
  for (; i < n; i++) s += a[i] * b[i];
  return s;
}

void axpy_neon(float* y, float a, const float* x, int n) {
  const float32x4_t av = vdupq_n_f32(a);
  int i = 0;
  for (; i + 4 <= n; i += 4) vst1q_f32(y + i, vfmaq_f32(vld1q_f32(y + i), av, vld1q_f32(x + i)));
  for (; i < n; i++) y[i] += a * x[i];
}

// y[i] = x[i], float16 -> float32 (exact), 4 at a time.
void convert_f16_neon(float* y, const uint16_t* x, int n) {
  int i = 0;
  for (; i + 4 <= n; i += 4) vst1q_f32(y + i, LoadF16::load4(x, i));
  for (; i < n; i++) y[i] = f16_to_f32(x[i]);
}

// exp(x - shift), summed: std::exp for now (a NEON polynomial is future work).
float exp_sum_neon(float* x, float shift, int n) {
  float sum = 0;
  for (int i = 0; i < n; i++) {
    x[i] = std::exp(x[i] - shift);
    sum += x[i];
  }
  return sum;
}

}  // namespace

extern const KernelSet kernel_set_neon = {"neon",     matmul_f32_neon, matmul_f16_neon, matmul_bf16_neon, dot_neon,
                                          axpy_neon, matmul_quant_neon, fast_quant_reads_xq, exp_sum_neon,
                                          convert_f16_neon, head_dots<dot_neon>, head_axpys<axpy_neon>,
                                          gelu_erf_scalar};

}  // namespace tgv
