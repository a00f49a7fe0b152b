// The packed, cache-blocked matrix product for many input rows (prefill, the ViT, the
// Q-Former), AVX-512:   y[t, n] = sum_k x[t, k] * W[n, k]
// for rows n in [n0, n1) of W [N, K] (F32, F16, BF16 or Q8_0) and all T rows of x [T, K].
// Same contract as the matmul kernels of kernels.h; kernels_avx512.cpp calls it from
// kGemmRows input rows on. The scheme is that of gemm_avx2.cpp (read that first); what
// differs is the width: 16 floats per register and 32 registers.
//
// Compiled with the AVX-512 flags of kernels_avx512.cpp: the exported functions are
// plain (non-inline) functions reached only through the avx512 KernelSet, and every
// helper stays in the anonymous namespace (see kernel_sets.h).
//
//   for n-block nb of NC = 256 rows of W               (of the caller's rows n0..n1)
//     for k-block kb of KC = 256 values of k           (one pass per block, y accumulates)
//       pack W[nb, kb] -> Wp: float, transposed, in panels of NR = 32 columns
//                         Wp[panel][k][j] = W[nb + 32*panel + j, k]
//       for t-block tb of MC = 96 rows of x             (x[tb, kb]: 96 KB, L2)
//         for each panel p                              (its KC x 32 floats = 32 KB: L1)
//           for each group of MR = 8 rows t in tb        (the last one 9 rather than leave 1)
//             micro-kernel: y[t:t+8, p:p+32] (+)= x[t:t+8, kb] @ Wp[p][kb]
//
// The micro-kernel keeps an 8 x 32 block of y in 16 zmm accumulators (twice the 2 FMA
// pipes x 4 cycles of latency); per k it loads 32 weights (2 zmm) and broadcasts 8
// values of x: 16 FMAs per 10 loads, so the two 512-bit FMA pipes set the pace. 6 x 32,
// 12 x 32, 14 x 32, 8 x 48 and 6 x 64 were measured too (docs/performance-kernels.md):
// all within the noise of 8 x 32 except 14 x 32, which lost 40 % at K = 6144, where its
// 14 rows of x, 24 KB apart, all fall in the same set of the 12-way L1. A panel narrower
// than 32 columns (the last one of a caller's rows, which the thread split need not cut
// at multiples of 32) runs the kernel on one or two vectors with masked loads and stores
// of y: no scratch copy.
//
// Packing (convert + transpose, 16 x 16 blocks in zmm registers) was 40 % of the time
// at T = 64 with 8 x 8 ymm transposes and no prefetch; now ~15 % (F16).
//
// Numerics: as in gemm_avx2.cpp, every y[t, n] is one FMA chain over k within each
// k-block, the blocks added in order of k; each column is its own lane, whatever panel
// and lane it lands in. So results depend only on (t, n, K), not on T, n0/n1 or the
// thread split (tests/kernels/test_gemm.cpp checks it bit for bit).

#include "kernels/immintrin_avx512.h"  // <immintrin.h> without GCC 12's false warnings

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <new>

#include "kernels/kernel_sets.h"
#include "tinygptv/kernels.h"

namespace tgv {

namespace {

constexpr int MR = 8;       // input rows per micro-kernel
constexpr int NV = 2;       // zmm vectors of output columns per micro-kernel
constexpr int NR = 16 * NV; // weight rows (output columns) per panel
constexpr int KC = 256;     // k values per block: a packed panel is KC * NR floats = 32 KB (of a 48 KB L1)
constexpr int MC = 96;      // input rows per block: MC * KC floats = 96 KB of x, in L2
constexpr int NC = 256;     // weight rows per block: the packed block is NC * KC floats = 256 KB, in L2

// ---- packing: W rows -> float panels of NR columns ------------------------------------
// A weight format S: row(w, n, K, k) is where W[n, k..] starts (k a multiple of 32 for
// Q8_0); load16(r, k, m) the weights r[k..k+15] as floats (exact); lanes outside mask m
// are 0, not read; kPerLine weights per 64-byte line (for the prefetches).
template <class E>
struct SrcElements {  // one element per weight: F32, F16, BF16
  using T = E;
  static constexpr int kPerLine = 64 / sizeof(E);
  static const E* row(const E* w, int n, int K, int k) { return w + static_cast<size_t>(n) * K + k; }
};
struct SrcF32 : SrcElements<float> {
  static __m512 load16(const float* r, int k, __mmask16 m) { return _mm512_maskz_loadu_ps(m, r + k); }
};
struct SrcF16 : SrcElements<uint16_t> {
  static __m512 load16(const uint16_t* r, int k, __mmask16 m) { return _mm512_cvtph_ps(_mm256_maskz_loadu_epi16(m, r + k)); }
};
struct SrcBF16 : SrcElements<uint16_t> {  // bfloat16 is the top half of a float: widen to 32 bits, shift left 16
  static __m512 load16(const uint16_t* r, int k, __mmask16 m) {
    return _mm512_castsi512_ps(_mm512_slli_epi32(_mm512_cvtepu16_epi32(_mm256_maskz_loadu_epi16(m, r + k)), 16));
  }
};
// Q8_0 (quant.h): blocks of 32, w = q * d. int8 times a half scale is exact in float, so
// the panel holds exactly the weights dequantize_row_q8_0 gives. K is whole blocks and
// KC a multiple of 32, so a block never straddles two k-blocks.
struct SrcQ8_0 {
  using T = BlockQ8_0;
  static constexpr int kPerLine = 32;
  static const BlockQ8_0* row(const BlockQ8_0* w, int n, int K, int k) { return w + static_cast<size_t>(n) * (K / 32) + k / 32; }
  static __m512 load16(const BlockQ8_0* r, int k, __mmask16 m) {
    const BlockQ8_0& b = r[k / 32];
    const __m512 q = _mm512_cvtepi32_ps(_mm512_cvtepi8_epi32(_mm_maskz_loadu_epi8(m, b.qs + k % 32)));
    return _mm512_mul_ps(q, _mm512_set1_ps(_cvtsh_ss(b.d)));
  }
};

inline __m512 unpacklo_pd(__m512 a, __m512 b) { return _mm512_castpd_ps(_mm512_unpacklo_pd(_mm512_castps_pd(a), _mm512_castps_pd(b))); }
inline __m512 unpackhi_pd(__m512 a, __m512 b) { return _mm512_castpd_ps(_mm512_unpackhi_pd(_mm512_castps_pd(a), _mm512_castps_pd(b))); }

// 16x16 transpose of r[0..15] (rows) in registers: 4 rounds of 16 shuffles
// (interleave pairs of floats, of doubles, then of 128-bit lanes twice).
inline void transpose16(__m512 r[16]) {
  __m512 t[16];
  for (int i = 0; i < 16; i += 2) {
    t[i] = _mm512_unpacklo_ps(r[i], r[i + 1]);
    t[i + 1] = _mm512_unpackhi_ps(r[i], r[i + 1]);
  }
  for (int i = 0; i < 16; i += 4) {
    r[i] = unpacklo_pd(t[i], t[i + 2]);
    r[i + 1] = unpackhi_pd(t[i], t[i + 2]);
    r[i + 2] = unpacklo_pd(t[i + 1], t[i + 3]);
    r[i + 3] = unpackhi_pd(t[i + 1], t[i + 3]);
  }
  for (int h = 0; h < 16; h += 8)
    for (int i = 0; i < 4; i++) {
      t[h + i] = _mm512_shuffle_f32x4(r[h + i], r[h + i + 4], 0x88);
      t[h + i + 4] = _mm512_shuffle_f32x4(r[h + i], r[h + i + 4], 0xDD);
    }
  for (int i = 0; i < 8; i++) {
    r[i] = _mm512_shuffle_f32x4(t[i], t[i + 8], 0x88);
    r[i + 8] = _mm512_shuffle_f32x4(t[i], t[i + 8], 0xDD);
  }
}

// One panel: dst[k][j] = W[n + j, k0 + k] for k < kc and j < 16 * ceil(valid / 16), where
// valid = min(NR, n_end - n). Columns past `valid` inside the last vector repeat the last
// valid row (the micro-kernel computes them but never stores them); vectors wholly past
// it are not written (the micro-kernel does not read them). Blocks of 16 rows x 16 k are
// loaded, converted and transposed in registers.
//
// The rows are read in short pieces (kc values) at a stride of K, which the hardware
// prefetchers barely follow, so the loads waited on memory: each call also prefetches
// the piece of W the next call will read: `next_rows` rows from row next_n, at next_k.
template <class S>
void pack_panel(float* dst, const typename S::T* w, int K, int n, int n_end, int k0, int kc, int next_n, int next_k,
                int next_rows) {
  const int valid = n_end - n < NR ? n_end - n : NR;
  const int vectors = (valid + 15) / 16;
  const typename S::T* rows[NR];
  for (int j = 0; j < NR; j++) rows[j] = S::row(w, n + (j < valid ? j : valid - 1), K, k0);
  for (int k = 0; k < kc; k += 16) {
    const int left = kc - k < 16 ? kc - k : 16;
    const __mmask16 m = static_cast<__mmask16>((1u << left) - 1);
    if (k % S::kPerLine == 0)
      for (int j = 0; j < next_rows; j++)
        _mm_prefetch(reinterpret_cast<const char*>(S::row(w, next_n + j, K, next_k + k)), _MM_HINT_T0);
    for (int v = 0; v < vectors; v++) {  // columns 16v .. 16v+15
      __m512 r[16];
#pragma GCC unroll 16
      for (int j = 0; j < 16; j++) r[j] = S::load16(rows[16 * v + j], k, m);
      transpose16(r);
      for (int i = 0; i < left; i++) _mm512_store_ps(dst + static_cast<size_t>(k + i) * NR + 16 * v, r[i]);
    }
  }
}

// ---- the micro-kernel --------------------------------------------------------------
// c[i, 0:16*V] (+)= sum_{k < kc} a[i, k] * b[k, 0:16*V] for i < M (M <= MR, V <= NV);
// a: rows of x (stride lda), b: one packed panel (row stride NR), c: rows of y (stride
// ldc). The last of the V vectors of c is loaded and stored under mask `last`.
template <int M, int V>
void micro(const float* a, size_t lda, const float* b, int kc, float* c, size_t ldc, bool accumulate, __mmask16 last) {
  __m512 acc[M][V];
#pragma GCC unroll 14
  for (int i = 0; i < M; i++)
#pragma GCC unroll 4
    for (int v = 0; v < V; v++) acc[i][v] = _mm512_setzero_ps();
#pragma GCC unroll 4
  for (int k = 0; k < kc; k++) {
    __m512 bv[V];
#pragma GCC unroll 4
    for (int v = 0; v < V; v++) bv[v] = _mm512_loadu_ps(b + static_cast<size_t>(k) * NR + 16 * v);
#pragma GCC unroll 14
    for (int i = 0; i < M; i++) {
      const __m512 av = _mm512_set1_ps(a[i * lda + k]);
#pragma GCC unroll 4
      for (int v = 0; v < V; v++) acc[i][v] = _mm512_fmadd_ps(av, bv[v], acc[i][v]);
    }
  }
#pragma GCC unroll 14
  for (int i = 0; i < M; i++) {
    float* ci = c + i * ldc;
#pragma GCC unroll 4
    for (int v = 0; v < V; v++) {
      const __mmask16 m = v == V - 1 ? last : static_cast<__mmask16>(0xFFFF);
      if (accumulate) acc[i][v] = _mm512_add_ps(acc[i][v], _mm512_maskz_loadu_ps(m, ci + 16 * v));
      _mm512_mask_storeu_ps(ci + 16 * v, m, acc[i][v]);
    }
  }
}

// m rows (1 <= m <= MR + 1) of a panel of V vectors: the kernel for exactly m rows. MR + 1
// rows (18 accumulators) is for the last group of a block that would leave one row alone
// (T = 257, 1025: the ViT's tokens), which ran a kernel of one row: 2 loads per 2 FMAs.
template <int V, int M = MR + 1>
void micro_rows(int m, const float* a, size_t lda, const float* b, int kc, float* c, size_t ldc, bool accumulate, __mmask16 last) {
  if constexpr (M > 1)
    if (m < M) return micro_rows<V, M - 1>(m, a, lda, b, kc, c, ldc, accumulate, last);
  micro<M, V>(a, lda, b, kc, c, ldc, accumulate, last);
}

// m rows x nr columns (1 <= nr <= 16 * V) of one panel: the kernel for ceil(nr / 16) vectors.
template <int V = NV>
void micro_any(int m, int nr, const float* a, size_t lda, const float* b, int kc, float* c, size_t ldc, bool accumulate) {
  if constexpr (V > 1)
    if (nr <= 16 * (V - 1)) return micro_any<V - 1>(m, nr, a, lda, b, kc, c, ldc, accumulate);
  const int rem = nr % 16;
  const __mmask16 last = rem ? static_cast<__mmask16>((1u << rem) - 1) : static_cast<__mmask16>(0xFFFF);
  micro_rows<V>(m, a, lda, b, kc, c, ldc, accumulate, last);
}

// ---- the blocked loops ---------------------------------------------------------------
// Per-thread scratch for the packed panels, kept between calls. A plain malloc'd block,
// not a std::vector: a library template instantiated in this file would be compiled
// with AVX-512 flags and could be the copy the linker keeps for the whole program.
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

  for (int nb = n0; nb < n1; nb += NC) {
    const int nb_end = n1 - nb < NC ? n1 : nb + NC;
    const int panels = (nb_end - nb + NR - 1) / NR;
    for (int k0 = 0; k0 < K; k0 += KC) {
      const int kc = K - k0 < KC ? K - k0 : KC;
      const bool accumulate = k0 > 0;
      for (int p = 0; p < panels; p++) {
        // the next panel's piece: the next NR rows, or after the last panel the first rows at the next k-block
        const int pn = p + 1 < panels ? nb + (p + 1) * NR : nb, pk = p + 1 < panels ? k0 : k0 + KC;
        const int pr = pk < K ? (nb_end - pn < NR ? nb_end - pn : NR) : 0;
        pack_panel<S>(wp + static_cast<size_t>(p) * kc * NR, w, K, nb + p * NR, nb_end, k0, kc, pn, pk < K ? pk : 0, pr);
      }
      for (int t0 = 0; t0 < T; t0 += MC) {
        const int mc = T - t0 < MC ? T - t0 : MC;
        for (int p = 0; p < panels; p++) {
          const float* b = wp + static_cast<size_t>(p) * kc * NR;
          const int n = nb + p * NR, nr = nb_end - n < NR ? nb_end - n : NR;
          for (int t = t0, m; t < t0 + mc; t += m) {
            const int left = t0 + mc - t;
            m = left < MR ? left : left == MR + 1 ? MR + 1 : MR;
            micro_any(m, nr, x + static_cast<size_t>(t) * K + k0, static_cast<size_t>(K), b, kc,
                      y + static_cast<size_t>(t) * ldy + n, static_cast<size_t>(ldy), accumulate);
          }
        }
      }
    }
  }
}

}  // namespace

void gemm_f32_avx512(float* y, int ldy, const float* x, const float* w, int T, int K, int n0, int n1) {
  gemm<SrcF32>(y, ldy, x, w, T, K, n0, n1);
}
void gemm_f16_avx512(float* y, int ldy, const float* x, const uint16_t* w, int T, int K, int n0, int n1) {
  gemm<SrcF16>(y, ldy, x, w, T, K, n0, n1);
}
void gemm_bf16_avx512(float* y, int ldy, const float* x, const uint16_t* w, int T, int K, int n0, int n1) {
  gemm<SrcBF16>(y, ldy, x, w, T, K, n0, n1);
}
void gemm_q8_0_avx512(float* y, int ldy, const float* x, const void* w, int T, int K, int n0, int n1) {
  gemm<SrcQ8_0>(y, ldy, x, static_cast<const BlockQ8_0*>(w), T, K, n0, n1);
}

}  // namespace tgv
