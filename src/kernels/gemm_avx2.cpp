// The packed, cache-blocked matrix product for many input rows (T > 1: prefill, the
// ViT, the Q-Former), AVX2 + FMA (+ F16C):   y[t, n] = sum_k x[t, k] * W[n, k]
// for rows n in [n0, n1) of W [N, K] (F32, F16, BF16 or Q8_0) and all T rows of x [T, K].
// Same contract as the matmul kernels of kernels.h; kernels_avx2.cpp calls it for T > 1.
//
// Compiled with -mavx2 -mfma -mf16c, like kernels_avx2.cpp: the exported functions are
// plain (non-inline) functions reached only through the avx2 KernelSet, and every
// helper stays in the anonymous namespace (see kernel_sets.h).
//
// Shape of the computation (the BLIS / GotoBLAS scheme, with x in the role of A and
// W^T in the role of B):
//
//   for n-block nb of NC = 256 rows of W               (of the caller's rows n0..n1)
//     for k-block kb of KC = 384 values of k           (one pass per block, y accumulates)
//       pack W[nb, kb] -> Wp: float, transposed, in panels of NR = 16 columns
//                         Wp[panel][k][j] = W[nb + 16*panel + j, k]   (zero past the end)
//       for t-block tb of MC = 96 rows of x             (x[tb, kb]: 144 KB, L2)
//         for each panel p                              (its KC x 16 floats = 24 KB: L1)
//           for each group of MR = 6 rows t in tb
//             micro-kernel: y[t:t+6, p:p+16] (+)= x[t:t+6, kb] @ Wp[p][kb]
//
// The sizes were chosen by measurement (tests/bench/bench_gemm.cpp, one thread, thread
// CPU time) on a Zen 5 core (48 KB L1d, 1 MB L2): KC 256..512, MC 48..192 and NC 256..512
// are all within ~5 % of each other; packing x as well (into MR-interleaved panels or
// padded rows) did not help, and unrolling the k loop by 4 gained a few per cent.
//
// The micro-kernel keeps a 6 x 16 block of y in 12 ymm accumulators; per k it loads
// 16 weights (2 ymm) and broadcasts 6 values of x (1 ymm, reused): 15 of the 16 ymm
// registers, 12 FMAs per 8 loads. Each weight is converted to float once per call
// (the packing), not once per tile of input rows, which is what makes F16/BF16 as fast
// as F32. x is read in place (its rows are contiguous in k; six streams prefetch well).
//
// Numerics: every y[t, n] is one FMA chain over k within each k-block, and the blocks
// are added in order of k. It depends only on (t, n, K), not on T, n0/n1 or the thread
// split, so results do not depend on the thread count (see dispatch.cpp). It differs
// from the scalar set's 8 partial sums by float32 rounding (tests/kernels/test_gemm.cpp).
#include <immintrin.h>

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <new>

#include "kernels/kernel_sets.h"
#include "tinygptv/kernels.h"

namespace tgv {

namespace {

constexpr int MR = 6;     // input rows per micro-kernel
constexpr int NR = 16;    // weight rows (output columns) per micro-kernel: 2 ymm
constexpr int KC = 384;   // k values per block: a packed panel is KC * NR floats = 24 KB (half of a 48 KB L1)
constexpr int MC = 96;    // input rows per block: MC * KC floats = 144 KB of x, in L2
constexpr int NC = 256;   // weight rows per block: the packed block is NC * KC floats = 384 KB, in L2

// ---- packing: W rows -> float panels of NR columns ------------------------------------
// to_float8(r + k): 8 consecutive weights as floats (exact).
inline __m256 to_float8(const float* r) { return _mm256_loadu_ps(r); }
inline __m256 to_float8(const uint16_t* r, bool bf16) {
  const __m128i h = _mm_loadu_si128(reinterpret_cast<const __m128i*>(r));
  if (!bf16) return _mm256_cvtph_ps(h);
  return _mm256_castsi256_ps(_mm256_slli_epi32(_mm256_cvtepu16_epi32(h), 16));
}

// 8x8 transpose of r[0..7] (rows) in registers.
inline void transpose8(__m256 r[8]) {
  const __m256 t0 = _mm256_unpacklo_ps(r[0], r[1]), t1 = _mm256_unpackhi_ps(r[0], r[1]);
  const __m256 t2 = _mm256_unpacklo_ps(r[2], r[3]), t3 = _mm256_unpackhi_ps(r[2], r[3]);
  const __m256 t4 = _mm256_unpacklo_ps(r[4], r[5]), t5 = _mm256_unpackhi_ps(r[4], r[5]);
  const __m256 t6 = _mm256_unpacklo_ps(r[6], r[7]), t7 = _mm256_unpackhi_ps(r[6], r[7]);
  const __m256 s0 = _mm256_shuffle_ps(t0, t2, 0x44), s1 = _mm256_shuffle_ps(t0, t2, 0xEE);
  const __m256 s2 = _mm256_shuffle_ps(t1, t3, 0x44), s3 = _mm256_shuffle_ps(t1, t3, 0xEE);
  const __m256 s4 = _mm256_shuffle_ps(t4, t6, 0x44), s5 = _mm256_shuffle_ps(t4, t6, 0xEE);
  const __m256 s6 = _mm256_shuffle_ps(t5, t7, 0x44), s7 = _mm256_shuffle_ps(t5, t7, 0xEE);
  r[0] = _mm256_permute2f128_ps(s0, s4, 0x20);
  r[1] = _mm256_permute2f128_ps(s1, s5, 0x20);
  r[2] = _mm256_permute2f128_ps(s2, s6, 0x20);
  r[3] = _mm256_permute2f128_ps(s3, s7, 0x20);
  r[4] = _mm256_permute2f128_ps(s0, s4, 0x31);
  r[5] = _mm256_permute2f128_ps(s1, s5, 0x31);
  r[6] = _mm256_permute2f128_ps(s2, s6, 0x31);
  r[7] = _mm256_permute2f128_ps(s3, s7, 0x31);
}

// A weight format S: row(w, n, K, k) is where W[n, k..] starts (k a multiple of 32 for
// Q8_0); load8(r, k) and load1(r, k) the weights r[k..k+7] and r[k] as floats (exact).
template <class E>
struct SrcElements {  // one element per weight: F32, F16, BF16
  using T = E;
  static const E* row(const E* w, int n, int K, int k) { return w + static_cast<size_t>(n) * K + k; }
};
struct SrcF32 : SrcElements<float> {
  static __m256 load8(const float* r, int k) { return to_float8(r + k); }
  static float load1(const float* r, int k) { return r[k]; }
};
struct SrcF16 : SrcElements<uint16_t> {
  static __m256 load8(const uint16_t* r, int k) { return to_float8(r + k, false); }
  static float load1(const uint16_t* r, int k) { return f16_to_f32(r[k]); }
};
struct SrcBF16 : SrcElements<uint16_t> {
  static __m256 load8(const uint16_t* r, int k) { return to_float8(r + k, true); }
  static float load1(const uint16_t* r, int k) { return bf16_to_f32(r[k]); }
};
// Q8_0 (quant.h): blocks of 32, w = q * d. int8 times a half scale is exact in float, so
// the panel holds exactly the weights dequantize_row_q8_0 gives. K is whole blocks and
// KC a multiple of 32, so a block never straddles two k-blocks.
struct SrcQ8_0 {
  using T = BlockQ8_0;
  static const BlockQ8_0* row(const BlockQ8_0* w, int n, int K, int k) { return w + static_cast<size_t>(n) * (K / 32) + k / 32; }
  static __m256 load8(const BlockQ8_0* r, int k) {
    const BlockQ8_0& b = r[k / 32];
    const __m128i q = _mm_loadl_epi64(reinterpret_cast<const __m128i*>(b.qs + k % 32));
    return _mm256_mul_ps(_mm256_cvtepi32_ps(_mm256_cvtepi8_epi32(q)), _mm256_set1_ps(_cvtsh_ss(b.d)));
  }
  static float load1(const BlockQ8_0* r, int k) { return static_cast<float>(r[k / 32].qs[k % 32]) * _cvtsh_ss(r[k / 32].d); }
};

// One panel: dst[k][j] = W[n + j, k0 + k] for k < kc, j < NR (0 for n + j >= n_end).
template <class S>
void pack_panel(float* dst, const typename S::T* w, int K, int n, int n_end, int k0, int kc) {
  const typename S::T* rows[NR];
  int valid = n_end - n < NR ? n_end - n : NR;
  for (int j = 0; j < NR; j++) rows[j] = S::row(w, j < valid ? n + j : n, K, k0);
  int k = 0;
  if (valid == NR) {
    for (; k + 8 <= kc; k += 8)
      for (int half = 0; half < 2; half++) {  // columns 8*half .. 8*half+7
        __m256 r[8];
        for (int j = 0; j < 8; j++) r[j] = S::load8(rows[8 * half + j], k);
        transpose8(r);
        for (int i = 0; i < 8; i++) _mm256_storeu_ps(dst + static_cast<size_t>(k + i) * NR + 8 * half, r[i]);
      }
  }
  for (; k < kc; k++)
    for (int j = 0; j < NR; j++) dst[static_cast<size_t>(k) * NR + j] = j < valid ? S::load1(rows[j], k) : 0.0f;
}

// ---- the micro-kernel --------------------------------------------------------------
// c[i, 0:16] (+)= sum_{k < kc} a[i, k] * b[k, 0:16] for i < M (M <= MR).
// a: rows of x (stride lda), b: one packed panel, c: rows of y (stride ldc), all 16 stored.
template <int M>
void micro(const float* a, size_t lda, const float* b, int kc, float* c, size_t ldc, bool accumulate) {
  __m256 c0[M], c1[M];
#pragma GCC unroll 6
  for (int i = 0; i < M; i++) c0[i] = c1[i] = _mm256_setzero_ps();
  #pragma GCC unroll 4
  for (int k = 0; k < kc; k++) {
    const __m256 b0 = _mm256_loadu_ps(b + 16 * k), b1 = _mm256_loadu_ps(b + 16 * k + 8);
#pragma GCC unroll 6
    for (int i = 0; i < M; i++) {
      const __m256 av = _mm256_broadcast_ss(a + i * lda + k);
      c0[i] = _mm256_fmadd_ps(av, b0, c0[i]);
      c1[i] = _mm256_fmadd_ps(av, b1, c1[i]);
    }
  }
#pragma GCC unroll 6
  for (int i = 0; i < M; i++) {
    float* ci = c + i * ldc;
    if (accumulate) {
      c0[i] = _mm256_add_ps(c0[i], _mm256_loadu_ps(ci));
      c1[i] = _mm256_add_ps(c1[i], _mm256_loadu_ps(ci + 8));
    }
    _mm256_storeu_ps(ci, c0[i]);
    _mm256_storeu_ps(ci + 8, c1[i]);
  }
}

void micro_any(int m, const float* a, size_t lda, const float* b, int kc, float* c, size_t ldc, bool accumulate) {
  switch (m) {
    case 1: micro<1>(a, lda, b, kc, c, ldc, accumulate); break;
    case 2: micro<2>(a, lda, b, kc, c, ldc, accumulate); break;
    case 3: micro<3>(a, lda, b, kc, c, ldc, accumulate); break;
    case 4: micro<4>(a, lda, b, kc, c, ldc, accumulate); break;
    case 5: micro<5>(a, lda, b, kc, c, ldc, accumulate); break;
    default: micro<6>(a, lda, b, kc, c, ldc, accumulate); break;
  }
}

// ---- the blocked loops ---------------------------------------------------------------
// Per-thread scratch for the packed panels, kept between calls. A plain malloc'd block,
// not a std::vector: a library template instantiated in this file would be compiled
// with AVX2 flags and could be the copy the linker keeps for the whole program.
struct Scratch {
  float* p = nullptr;
  size_t n = 0;
  ~Scratch() { std::free(p); }
  float* get(size_t want) {
    if (want > n) {
      std::free(p);
      p = static_cast<float*>(std::aligned_alloc(64, (want * sizeof(float) + 63) / 64 * 64));
      n = p ? want : 0;
    }
    return p;
  }
};

template <class S>
void gemm(float* y, int ldy, const float* x, const typename S::T* w, int T, int K, int n0, int n1) {
  const int N = n1 - n0;
  if (N <= 0 || T <= 0) return;
  if (K <= 0) {
    for (int t = 0; t < T; t++) std::memset(y + static_cast<size_t>(t) * ldy + n0, 0, sizeof(float) * N);
    return;
  }
  const int kc_max = K < KC ? K : KC;
  thread_local Scratch scratch;
  float* const wp = scratch.get(static_cast<size_t>(NC) * kc_max);  // [NC / NR][kc][NR]: one block of W, packed
  if (!wp) throw std::bad_alloc();
  float edge[MR * NR];  // a partial panel's outputs (n1 - n < NR)

  for (int nb = n0; nb < n1; nb += NC) {
    const int nb_end = n1 - nb < NC ? n1 : nb + NC;
    const int panels = (nb_end - nb + NR - 1) / NR;
    for (int k0 = 0; k0 < K; k0 += KC) {
      const int kc = K - k0 < KC ? K - k0 : KC;
      const bool accumulate = k0 > 0;
      for (int p = 0; p < panels; p++) pack_panel<S>(wp + static_cast<size_t>(p) * kc * NR, w, K, nb + p * NR, nb_end, k0, kc);
      for (int t0 = 0; t0 < T; t0 += MC) {
        const int mc = T - t0 < MC ? T - t0 : MC;
        for (int p = 0; p < panels; p++) {
          const float* b = wp + static_cast<size_t>(p) * kc * NR;
          const int n = nb + p * NR, nr = nb_end - n < NR ? nb_end - n : NR;
          for (int t = t0; t < t0 + mc; t += MR) {
            const int m = t0 + mc - t < MR ? t0 + mc - t : MR;
            const float* a = x + static_cast<size_t>(t) * K + k0;
            float* c = y + static_cast<size_t>(t) * ldy + n;
            if (nr == NR) {
              micro_any(m, a, static_cast<size_t>(K), b, kc, c, static_cast<size_t>(ldy), accumulate);
            } else {  // partial panel: compute into edge[], copy the nr valid columns
              for (int i = 0; i < m; i++)
                for (int j = 0; j < NR; j++) edge[i * NR + j] = j < nr && accumulate ? c[static_cast<size_t>(i) * ldy + j] : 0.0f;
              micro_any(m, a, static_cast<size_t>(K), b, kc, edge, NR, accumulate);
              for (int i = 0; i < m; i++)
                for (int j = 0; j < nr; j++) c[static_cast<size_t>(i) * ldy + j] = edge[i * NR + j];
            }
          }
        }
      }
    }
  }
}

}  // namespace

void gemm_f32_avx2(float* y, int ldy, const float* x, const float* w, int T, int K, int n0, int n1) {
  gemm<SrcF32>(y, ldy, x, w, T, K, n0, n1);
}
void gemm_f16_avx2(float* y, int ldy, const float* x, const uint16_t* w, int T, int K, int n0, int n1) {
  gemm<SrcF16>(y, ldy, x, w, T, K, n0, n1);
}
void gemm_bf16_avx2(float* y, int ldy, const float* x, const uint16_t* w, int T, int K, int n0, int n1) {
  gemm<SrcBF16>(y, ldy, x, w, T, K, n0, n1);
}
void gemm_q8_0_avx2(float* y, int ldy, const float* x, const void* w, int T, int K, int n0, int n1) {
  gemm<SrcQ8_0>(y, ldy, x, static_cast<const BlockQ8_0*>(w), T, K, n0, n1);
}

}  // namespace tgv
