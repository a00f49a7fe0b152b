// AVX2 + FMA (+ F16C) kernels: the same contract as the scalar set (kernels.h,
// scalar.cpp), 8 floats per instruction, tested against it (tests/kernels/).
//
// This file is compiled with -mavx2 -mfma -mf16c and must not run on a CPU without
// them: it only exports a constant table, kernel_set_avx2, which dispatch.cpp hands
// out after checking the CPU (see kernel_sets.h). Every helper here stays in the
// anonymous namespace: an inline function with external linkage compiled with these
// flags could be picked by the linker for the whole program (check with
// `nm -C kernels_avx2.cpp.o | grep " W "`, which should print nothing).
//
// Weights F32, F16 or BF16 are converted to float on load (exactly), so every
// format shares one tiled loop (block-quantized weights: quant_avx2.cpp, integer dots). The matrix product y[t, n] = x[t, :] . W[n, :] is
// computed in small tiles of RT input rows x RN weight rows: each tile keeps RT*RN accumulators of 8 lanes in
// registers, loads (and converts) each 8-wide piece of a weight row once and uses it
// against all RT input rows. Loop order: weight-row blocks outside, input-row tiles
// inside, so a block of RN weight rows (RN*K values, ~30 KB at K = 2560) is read from
// memory once and stays in cache while every input row passes over it.
//   decode  (T = 1): tiles 1 x 4 -> 4 independent FMA chains, W streamed once (memory bound)
//   prefill (T > 1): tiles 4 x 3 -> 12 accumulators + 3 weight + 1 input register = 16 ymm
// K % 8 leftover elements are handled by a scalar tail per output.
//
// Rounding differs from the scalar set (fused multiply-add, a different order of
// partial sums), so results agree to a relative error of ~1e-7 * sqrt(K), not bit for bit.
#include <immintrin.h>

#include <cmath>
#include <cstddef>
#include <cstdint>

#include "kernels/kernel_sets.h"
#include "tinygptv/kernels.h"

namespace tgv {

namespace {

// ---- the weight formats -------------------------------------------------------------
// row(w, n, K): where row n of W [N, K] starts; load8(r, k): weights k..k+7 of a row as
// floats (k % 8 == 0); load1(r, k): weight k alone, for the scalar tail. All exact.

struct LoadF32 {
  using T = float;
  static const float* row(const float* w, int n, int K) { return w + static_cast<size_t>(n) * K; }
  static __m256 load8(const float* r, int k) { return _mm256_loadu_ps(r + k); }
  static float load1(const float* r, int k) { return r[k]; }
};

struct LoadF16 {  // F16C: 8 halves -> 8 floats
  using T = uint16_t;
  static const uint16_t* row(const uint16_t* w, int n, int K) { return w + static_cast<size_t>(n) * K; }
  static __m256 load8(const uint16_t* r, int k) {
    return _mm256_cvtph_ps(_mm_loadu_si128(reinterpret_cast<const __m128i*>(r + k)));
  }
  static float load1(const uint16_t* r, int k) { return f16_to_f32(r[k]); }
};

struct LoadBF16 {  // bfloat16 is the top half of a float: widen to 32 bits, shift left 16
  using T = uint16_t;
  static const uint16_t* row(const uint16_t* w, int n, int K) { return w + static_cast<size_t>(n) * K; }
  static __m256 load8(const uint16_t* r, int k) {
    const __m256i wide = _mm256_cvtepu16_epi32(_mm_loadu_si128(reinterpret_cast<const __m128i*>(r + k)));
    return _mm256_castsi256_ps(_mm256_slli_epi32(wide, 16));
  }
  static float load1(const uint16_t* r, int k) { return bf16_to_f32(r[k]); }
};

// Sum of the 8 lanes as a tree: ((0+4) + (2+6)) + ((1+5) + (3+7)).
inline float hsum(__m256 v) {
  __m128 s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));  // [0+4, 1+5, 2+6, 3+7]
  s = _mm_add_ps(s, _mm_movehl_ps(s, s));                                         // [(0+4)+(2+6), (1+5)+(3+7), ..]
  s = _mm_add_ss(s, _mm_movehdup_ps(s));
  return _mm_cvtss_f32(s);
}

// One tile: y[t0+i, n0+j] for i < RT, j < RN.   x: [T, K] rows t0.., w: [N, K] rows n0..
template <class L, int RT, int RN>
void tile(float* y, int ldy, const float* x, const typename L::T* w, int K, int t0, int n0) {
  const float* xr[RT];
  const typename L::T* wr[RN];
  for (int i = 0; i < RT; i++) xr[i] = x + static_cast<size_t>(t0 + i) * K;
  for (int j = 0; j < RN; j++) wr[j] = L::row(w, n0 + j, K);

  __m256 acc[RT][RN];
  for (int i = 0; i < RT; i++)
    for (int j = 0; j < RN; j++) acc[i][j] = _mm256_setzero_ps();

  int k = 0;
  for (; k + 8 <= K; k += 8) {
    __m256 wv[RN];
    for (int j = 0; j < RN; j++) wv[j] = L::load8(wr[j], k);
    for (int i = 0; i < RT; i++) {
      const __m256 xv = _mm256_loadu_ps(xr[i] + k);
      for (int j = 0; j < RN; j++) acc[i][j] = _mm256_fmadd_ps(xv, wv[j], acc[i][j]);
    }
  }
  for (int i = 0; i < RT; i++)
    for (int j = 0; j < RN; j++) {
      float s = hsum(acc[i][j]);
      for (int kk = k; kk < K; kk++) s += xr[i][kk] * L::load1(wr[j], kk);  // scalar tail, K % 8 values
      y[static_cast<size_t>(t0 + i) * ldy + n0 + j] = s;
    }
}

// The tile for a run-time shape rt x rn (1..4 x 1..4), e.g. at the edges of the matrix.
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

// Rows [n0, n1) of W [N, K] against all T rows of x [T, K].
template <class L>
void matmul_tiled(float* y, int ldy, const float* x, const typename L::T* w, int T, int K, int n0, int n1) {
  const int RT = T == 1 ? 1 : 4;  // input rows per tile
  const int RN = T == 1 ? 4 : 3;  // weight rows per tile (RT * RN accumulators must fit 16 registers)
  for (int n = n0; n < n1; n += RN) {
    const int rn = n1 - n < RN ? n1 - n : RN;
    for (int t = 0; t < T; t += RT) {
      const int rt = T - t < RT ? T - t : RT;
      tile_any<L>(rt, rn, y, ldy, x, w, K, t, n);
    }
  }
}

// From kGemmRows input rows on, the packed GEMM (gemm_avx2.cpp) is faster: it converts
// and transposes each weight once, then reuses it from cache for every input row.
constexpr int kGemmRows = 4;

void matmul_f32_avx2(float* y, int ldy, const float* x, const float* w, int T, int K, int n0, int n1) {
  if (T >= kGemmRows) return gemm_f32_avx2(y, ldy, x, w, T, K, n0, n1);
  matmul_tiled<LoadF32>(y, ldy, x, w, T, K, n0, n1);
}
void matmul_f16_avx2(float* y, int ldy, const float* x, const uint16_t* w, int T, int K, int n0, int n1) {
  if (T >= kGemmRows) return gemm_f16_avx2(y, ldy, x, w, T, K, n0, n1);
  matmul_tiled<LoadF16>(y, ldy, x, w, T, K, n0, n1);
}
void matmul_bf16_avx2(float* y, int ldy, const float* x, const uint16_t* w, int T, int K, int n0, int n1) {
  if (T >= kGemmRows) return gemm_bf16_avx2(y, ldy, x, w, T, K, n0, n1);
  matmul_tiled<LoadBF16>(y, ldy, x, w, T, K, n0, n1);
}
// sum a[i] b[i]: two accumulators (16 per step) to overlap FMA latency, then 8, then scalar.
float dot_avx2(const float* a, const float* b, int n) {
  __m256 s0 = _mm256_setzero_ps(), s1 = _mm256_setzero_ps();
  int i = 0;
  for (; i + 16 <= n; i += 16) {
    s0 = _mm256_fmadd_ps(_mm256_loadu_ps(a + i), _mm256_loadu_ps(b + i), s0);
    s1 = _mm256_fmadd_ps(_mm256_loadu_ps(a + i + 8), _mm256_loadu_ps(b + i + 8), s1);
  }
  for (; i + 8 <= n; i += 8) s0 = _mm256_fmadd_ps(_mm256_loadu_ps(a + i), _mm256_loadu_ps(b + i), s0);
  float s = hsum(_mm256_add_ps(s0, s1));
  for (; i < n; i++) s += a[i] * b[i];
  return s;
}

// y[i] += a x[i]
void axpy_avx2(float* y, float a, const float* x, int n) {
  const __m256 av = _mm256_set1_ps(a);
  int i = 0;
  for (; i + 8 <= n; i += 8) _mm256_storeu_ps(y + i, _mm256_fmadd_ps(av, _mm256_loadu_ps(x + i), _mm256_loadu_ps(y + i)));
  for (; i < n; i++) y[i] += a * x[i];
}

// exp(v) for v <= 0 (8 lanes): v = n ln2 + r with |r| <= ln2/2 (ln2 in two parts, so
// r is exact to ~1e-10), exp(r) by its Taylor polynomial to r^7 (error < 6e-9), times
// 2^n put into the exponent bits. Below -87.3 (2^n would be subnormal) the result is 0.
inline __m256 exp_nonpositive(__m256 v) {
  const __m256 lo = _mm256_set1_ps(-87.3f);
  const __m256 underflow = _mm256_cmp_ps(v, lo, _CMP_LT_OQ);
  v = _mm256_max_ps(v, lo);
  const __m256 n = _mm256_round_ps(_mm256_mul_ps(v, _mm256_set1_ps(1.44269504088896341f)), _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
  __m256 r = _mm256_fnmadd_ps(n, _mm256_set1_ps(0.693145751953125f), v);  // ln2 = 0.693145751953125 + 1.428606765330187e-06
  r = _mm256_fnmadd_ps(n, _mm256_set1_ps(1.428606765330187e-06f), r);
  __m256 p = _mm256_set1_ps(1.0f / 5040);
  p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(1.0f / 720));
  p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(1.0f / 120));
  p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(1.0f / 24));
  p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(1.0f / 6));
  p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(0.5f));
  p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(1.0f));
  p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(1.0f));
  const __m256i e = _mm256_slli_epi32(_mm256_add_epi32(_mm256_cvtps_epi32(n), _mm256_set1_epi32(127)), 23);
  return _mm256_andnot_ps(underflow, _mm256_mul_ps(p, _mm256_castsi256_ps(e)));
}

// y[i] = x[i] (float16 -> float32, exact), 32 then 8 at a time, the rest one by one.
// The decode attention converts each F16 cache row as it reads it from memory: each
// 64-byte line is prefetched kPrefetchBytes ahead (into the rows after it), as in
// convert_f16_avx512.
void convert_f16_avx2(float* y, const uint16_t* x, int n) {
  int i = 0;
  for (; i + 32 <= n; i += 32) {
    _mm_prefetch(reinterpret_cast<const char*>(x + i) + kPrefetchBytes, _MM_HINT_T0);
    for (int j = 0; j < 32; j += 8)
      _mm256_storeu_ps(y + i + j, _mm256_cvtph_ps(_mm_loadu_si128(reinterpret_cast<const __m128i*>(x + i + j))));
  }
  for (; i + 8 <= n; i += 8) _mm256_storeu_ps(y + i, _mm256_cvtph_ps(_mm_loadu_si128(reinterpret_cast<const __m128i*>(x + i))));
  for (; i < n; i++) y[i] = f16_to_f32(x[i]);
}

float exp_sum_avx2(float* x, float shift, int n) {
  const __m256 s = _mm256_set1_ps(shift);
  __m256 acc = _mm256_setzero_ps();
  int i = 0;
  for (; i + 8 <= n; i += 8) {
    const __m256 e = exp_nonpositive(_mm256_sub_ps(_mm256_loadu_ps(x + i), s));
    _mm256_storeu_ps(x + i, e);
    acc = _mm256_add_ps(acc, e);
  }
  if (i < n) {  // the last n % 8 values, through the same polynomial (padding: exp(-inf) = 0)
    float tail[8];
    for (int j = 0; j < 8; j++) tail[j] = i + j < n ? x[i + j] : -INFINITY;
    const __m256 e = exp_nonpositive(_mm256_sub_ps(_mm256_loadu_ps(tail), s));
    _mm256_storeu_ps(tail, e);
    acc = _mm256_add_ps(acc, e);
    for (int j = 0; i + j < n; j++) x[i + j] = tail[j];
  }
  return hsum(acc);
}

}  // namespace

extern const KernelSet kernel_set_avx2 = {"avx2",     matmul_f32_avx2, matmul_f16_avx2, matmul_bf16_avx2, dot_avx2,
                                          axpy_avx2, matmul_quant_avx2, fast_quant_reads_xq, exp_sum_avx2,
                                          convert_f16_avx2, head_dots<dot_avx2>, head_axpys<axpy_avx2>, gelu_erf_avx2};

}  // namespace tgv
