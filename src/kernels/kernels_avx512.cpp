// AVX-512 kernels (F, BW, VL, DQ, VNNI): the same contract as the scalar set
// (kernels.h, scalar.cpp), 16 floats per instruction, tested against it (tests/kernels/).
//
// This file is compiled with -mavx512f -mavx512bw -mavx512vl -mavx512dq -mavx512vnni
// (and AVX2, FMA, F16C) and must not run on a CPU without them: like kernels_avx2.cpp it
// only exports a constant table, kernel_set_avx512, which dispatch.cpp hands out after
// checking the CPU (kernel_sets.h). Every helper stays in the anonymous namespace.
//
// Matrix products: from kGemmRows input rows on, the packed GEMM of gemm_avx512.cpp.
// Below that (decode, T = 1, and short prompts) the tiled loop of kernels_avx2.cpp at
// twice the width: a tile of RT input rows x RN weight rows keeps RT*RN accumulators of
// 16 lanes, loads (and converts: F16 vcvtph2ps, BF16 widen + shift) each 16-wide piece
// of a weight row once and uses it for all RT input rows; weight-row blocks outside,
// input-row tiles inside. The K % 16 last values go through the same loop under a load
// mask (zeros), so there is no scalar tail.
//   decode (T = 1): tiles 1 x 8 -> 8 independent FMA chains and 8 weight-row streams (the
//   product is memory bound: W is read once). 1 x 4 was slower; software prefetch of each
//   row 1 or 4 KB ahead did not help (the hardware prefetchers follow 8 sequential rows).
// Block-quantized weights: quant_avx512.cpp and quant_k_avx512.cpp (VNNI integer dots).

#include "kernels/immintrin_avx512.h"  // <immintrin.h> without GCC 12's false warnings

#include <cstddef>
#include <cstdint>

#include "kernels/kernel_sets.h"
#include "tinygptv/kernels.h"

namespace tgv {

namespace {

// ---- the weight formats -------------------------------------------------------------
// load16(r, k, m): weights r[k..k+15] as floats (exact); lanes outside mask m are 0 and
// not read.
struct LoadF32 {
  using T = float;
  static __m512 load16(const float* r, int k, __mmask16 m) { return _mm512_maskz_loadu_ps(m, r + k); }
};
struct LoadF16 {
  using T = uint16_t;
  static __m512 load16(const uint16_t* r, int k, __mmask16 m) { return _mm512_cvtph_ps(_mm256_maskz_loadu_epi16(m, r + k)); }
};
struct LoadBF16 {  // bfloat16 is the top half of a float: widen to 32 bits, shift left 16
  using T = uint16_t;
  static __m512 load16(const uint16_t* r, int k, __mmask16 m) {
    return _mm512_castsi512_ps(_mm512_slli_epi32(_mm512_cvtepu16_epi32(_mm256_maskz_loadu_epi16(m, r + k)), 16));
  }
};

constexpr __mmask16 kAll = 0xFFFF;
inline __mmask16 first_lanes(int n) { return static_cast<__mmask16>((1u << n) - 1); }  // n < 16

// Sum of the 16 lanes as a tree: halves, then quarters, ...
inline float hsum(__m512 v) {
  const __m256 h = _mm256_add_ps(_mm512_castps512_ps256(v), _mm512_extractf32x8_ps(v, 1));  // lanes i + (i+8)
  __m128 s = _mm_add_ps(_mm256_castps256_ps128(h), _mm256_extractf128_ps(h, 1));
  s = _mm_add_ps(s, _mm_movehl_ps(s, s));
  s = _mm_add_ss(s, _mm_movehdup_ps(s));
  return _mm_cvtss_f32(s);
}

// One tile: y[t0+i, n0+j] for i < RT, j < RN.   x: [T, K] rows t0.., w: [N, K] rows n0..
template <class L, int RT, int RN>
void tile(float* y, int ldy, const float* x, const typename L::T* w, int K, int t0, int n0) {
  const float* xr[RT];
  const typename L::T* wr[RN];
  for (int i = 0; i < RT; i++) xr[i] = x + static_cast<size_t>(t0 + i) * K;
  for (int j = 0; j < RN; j++) wr[j] = w + static_cast<size_t>(n0 + j) * K;

  __m512 acc[RT][RN];
  for (int i = 0; i < RT; i++)
    for (int j = 0; j < RN; j++) acc[i][j] = _mm512_setzero_ps();

  int k = 0;
  for (; k + 16 <= K; k += 16) {
    __m512 wv[RN];
    for (int j = 0; j < RN; j++) wv[j] = L::load16(wr[j], k, kAll);
    for (int i = 0; i < RT; i++) {
      const __m512 xv = _mm512_loadu_ps(xr[i] + k);
      for (int j = 0; j < RN; j++) acc[i][j] = _mm512_fmadd_ps(xv, wv[j], acc[i][j]);
    }
  }
  if (k < K) {  // the last K % 16 values under a mask
    const __mmask16 m = first_lanes(K - k);
    __m512 wv[RN];
    for (int j = 0; j < RN; j++) wv[j] = L::load16(wr[j], k, m);
    for (int i = 0; i < RT; i++) {
      const __m512 xv = _mm512_maskz_loadu_ps(m, xr[i] + k);
      for (int j = 0; j < RN; j++) acc[i][j] = _mm512_fmadd_ps(xv, wv[j], acc[i][j]);
    }
  }
  for (int i = 0; i < RT; i++)
    for (int j = 0; j < RN; j++) y[static_cast<size_t>(t0 + i) * ldy + n0 + j] = hsum(acc[i][j]);
}

// Tile shapes per number of input rows: RT * RN accumulators + RN weights + 1 input
// vector within the 32 zmm registers. For T = 1 (decode), 8 weight rows interleaved
// read F16 fastest: 2, 4, 12 and 16 rows, and a software prefetch 1 KB ahead in each
// row, were all slower in paired end-to-end runs (docs/performance.md, December 6).
template <int RT> constexpr int kTileN = RT == 1 ? 8 : RT == 2 ? 8 : 6;

// rn (1 <= rn <= RN) weight rows: the tile for exactly rn rows.
template <class L, int RT, int RN = kTileN<RT>>
void tile_rt(int rn, float* y, int ldy, const float* x, const typename L::T* w, int K, int t0, int n0) {
  if constexpr (RN > 1)
    if (rn < RN) return tile_rt<L, RT, RN - 1>(rn, y, ldy, x, w, K, t0, n0);
  tile<L, RT, RN>(y, ldy, x, w, K, t0, n0);
}

// Rows [n0, n1) of W [N, K] against all T rows of x [T, K], T < kGemmRows.
template <class L, int RT>
void matmul_tiled_rt(float* y, int ldy, const float* x, const typename L::T* w, int T, int K, int n0, int n1) {
  constexpr int RN = kTileN<RT>;
  for (int n = n0; n < n1; n += RN) {
    const int rn = n1 - n < RN ? n1 - n : RN;
    for (int t = 0; t + RT <= T; t += RT) tile_rt<L, RT>(rn, y, ldy, x, w, K, t, n);
  }
}

template <class L>
void matmul_tiled(float* y, int ldy, const float* x, const typename L::T* w, int T, int K, int n0, int n1) {
  switch (T) {  // T < kGemmRows: tiles of T rows, or of 4 rows and single rows
    case 1: matmul_tiled_rt<L, 1>(y, ldy, x, w, T, K, n0, n1); break;
    case 2: matmul_tiled_rt<L, 2>(y, ldy, x, w, T, K, n0, n1); break;
    case 3: matmul_tiled_rt<L, 3>(y, ldy, x, w, T, K, n0, n1); break;
    default: {
      constexpr int RN = kTileN<4>;
      for (int n = n0; n < n1; n += RN) {
        const int rn = n1 - n < RN ? n1 - n : RN;
        int t = 0;
        for (; t + 4 <= T; t += 4) tile_rt<L, 4>(rn, y, ldy, x, w, K, t, n);
        for (; t < T; t++) tile_rt<L, 1>(rn, y, ldy, x, w, K, t, n);
      }
    }
  }
}

// From kGemmRows input rows on, the packed GEMM (gemm_avx512.cpp) is faster: it converts
// and transposes each weight once, then reuses it from cache for every input row. Below,
// the packing costs more than it saves (measured at K = N = 2560: the tiles are 1.2-1.4x
// faster at T = 4, level at T = 6, 1.3x slower at T = 8).
constexpr int kGemmRows = 6;

// exp(v) for v <= 0 (16 lanes), the polynomial of kernels_avx2.cpp's exp_nonpositive:
// v = n ln2 + r with |r| <= ln2/2 (ln2 in two parts), exp(r) by its Taylor polynomial to
// r^7 (error < 6e-9), times 2^n put into the exponent bits; below -87.3 the result is 0.
inline __m512 exp_nonpositive(__m512 v) {
  const __m512 lo = _mm512_set1_ps(-87.3f);
  const __mmask16 keep = _mm512_cmp_ps_mask(v, lo, _CMP_GE_OQ);
  v = _mm512_max_ps(v, lo);
  const __m512 n = _mm512_roundscale_ps(_mm512_mul_ps(v, _mm512_set1_ps(1.44269504088896341f)), _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
  __m512 r = _mm512_fnmadd_ps(n, _mm512_set1_ps(0.693145751953125f), v);  // ln2 = 0.693145751953125 + 1.428606765330187e-06
  r = _mm512_fnmadd_ps(n, _mm512_set1_ps(1.428606765330187e-06f), r);
  __m512 p = _mm512_set1_ps(1.0f / 5040);
  p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(1.0f / 720));
  p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(1.0f / 120));
  p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(1.0f / 24));
  p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(1.0f / 6));
  p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(0.5f));
  p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(1.0f));
  p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(1.0f));
  const __m512i e = _mm512_slli_epi32(_mm512_add_epi32(_mm512_cvtps_epi32(n), _mm512_set1_epi32(127)), 23);
  return _mm512_maskz_mul_ps(keep, p, _mm512_castsi512_ps(e));
}

}  // namespace

void matmul_f32_avx512(float* y, int ldy, const float* x, const float* w, int T, int K, int n0, int n1) {
  if (T >= kGemmRows) return gemm_f32_avx512(y, ldy, x, w, T, K, n0, n1);
  matmul_tiled<LoadF32>(y, ldy, x, w, T, K, n0, n1);
}
void matmul_f16_avx512(float* y, int ldy, const float* x, const uint16_t* w, int T, int K, int n0, int n1) {
  if (T >= kGemmRows) return gemm_f16_avx512(y, ldy, x, w, T, K, n0, n1);
  matmul_tiled<LoadF16>(y, ldy, x, w, T, K, n0, n1);
}
void matmul_bf16_avx512(float* y, int ldy, const float* x, const uint16_t* w, int T, int K, int n0, int n1) {
  if (T >= kGemmRows) return gemm_bf16_avx512(y, ldy, x, w, T, K, n0, n1);
  matmul_tiled<LoadBF16>(y, ldy, x, w, T, K, n0, n1);
}

// sum a[i] b[i]: two accumulators (32 per step), then 16, then the rest under a mask.
float dot_avx512(const float* a, const float* b, int n) {
  __m512 s0 = _mm512_setzero_ps(), s1 = _mm512_setzero_ps();
  int i = 0;
  for (; i + 32 <= n; i += 32) {
    s0 = _mm512_fmadd_ps(_mm512_loadu_ps(a + i), _mm512_loadu_ps(b + i), s0);
    s1 = _mm512_fmadd_ps(_mm512_loadu_ps(a + i + 16), _mm512_loadu_ps(b + i + 16), s1);
  }
  if (i + 16 <= n) {
    s0 = _mm512_fmadd_ps(_mm512_loadu_ps(a + i), _mm512_loadu_ps(b + i), s0);
    i += 16;
  }
  if (i < n) {
    const __mmask16 m = first_lanes(n - i);
    s1 = _mm512_fmadd_ps(_mm512_maskz_loadu_ps(m, a + i), _mm512_maskz_loadu_ps(m, b + i), s1);
  }
  return hsum(_mm512_add_ps(s0, s1));
}

// y[i] += a x[i]
void axpy_avx512(float* y, float a, const float* x, int n) {
  const __m512 av = _mm512_set1_ps(a);
  int i = 0;
  for (; i + 16 <= n; i += 16) _mm512_storeu_ps(y + i, _mm512_fmadd_ps(av, _mm512_loadu_ps(x + i), _mm512_loadu_ps(y + i)));
  if (i < n) {
    const __mmask16 m = first_lanes(n - i);
    _mm512_mask_storeu_ps(y + i, m, _mm512_fmadd_ps(av, _mm512_maskz_loadu_ps(m, x + i), _mm512_maskz_loadu_ps(m, y + i)));
  }
}

// y[i] = x[i] (float16 -> float32, exact), 32 then 16 at a time, the rest under a mask.
// The decode attention calls it on each F16 cache row as it reads the row from memory
// (attention.cpp, row_f32): each 64-byte line is prefetched kPrefetchBytes ahead, into the rows
// after it. Phi-2 Q4_0 decode after 1,900 cached positions: 164-176 -> 138-150 ms a token
// (`bench --random full --dtype q4_0 --kv-cache f16 --depth 1900`, paired runs).
void convert_f16_avx512(float* y, const uint16_t* x, int n) {
  int i = 0;
  for (; i + 32 <= n; i += 32) {
    _mm_prefetch(reinterpret_cast<const char*>(x + i) + kPrefetchBytes, _MM_HINT_T0);
    _mm512_storeu_ps(y + i, _mm512_cvtph_ps(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(x + i))));
    _mm512_storeu_ps(y + i + 16, _mm512_cvtph_ps(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(x + i + 16))));
  }
  for (; i + 16 <= n; i += 16) _mm512_storeu_ps(y + i, _mm512_cvtph_ps(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(x + i))));
  if (i < n) {
    const __mmask16 m = first_lanes(n - i);
    _mm512_mask_storeu_ps(y + i, m, _mm512_cvtph_ps(_mm256_maskz_loadu_epi16(m, x + i)));
  }
}

// x[i] = exp(x[i] - shift), returns the sum; the last n % 16 values under a mask.
float exp_sum_avx512(float* x, float shift, int n) {
  const __m512 s = _mm512_set1_ps(shift);
  __m512 acc = _mm512_setzero_ps();
  int i = 0;
  for (; i + 16 <= n; i += 16) {
    const __m512 e = exp_nonpositive(_mm512_sub_ps(_mm512_loadu_ps(x + i), s));
    _mm512_storeu_ps(x + i, e);
    acc = _mm512_add_ps(acc, e);
  }
  if (i < n) {
    const __mmask16 m = first_lanes(n - i);
    const __m512 e = _mm512_maskz_mov_ps(m, exp_nonpositive(_mm512_sub_ps(_mm512_maskz_loadu_ps(m, x + i), s)));
    _mm512_mask_storeu_ps(x + i, m, e);
    acc = _mm512_add_ps(acc, e);
  }
  return hsum(acc);
}

extern const KernelSet kernel_set_avx512 = {"avx512",    matmul_f32_avx512, matmul_f16_avx512, matmul_bf16_avx512, dot_avx512,
                                            axpy_avx512, matmul_quant_avx512, fast_quant_reads_xq, exp_sum_avx512,
                                            convert_f16_avx512, head_dots<dot_avx512>, head_axpys<axpy_avx512>, gelu_erf_avx512};

}  // namespace tgv
