// Internal to quant_avx512.cpp and quant_k_avx512.cpp (the avx512 set's matmul_quant):
// helpers shared by the two, included only by files compiled with the AVX-512 flags.
// Everything is in an anonymous namespace (internal linkage: no inline function with
// external linkage may come out of an ISA-flagged file), except the one entry point of
// quant_k_avx512.cpp.
#pragma once
// GCC 12's AVX-512 intrinsics pass an "undefined" source vector to the builtins, which
// its uninitialised-use analysis reports at every call (GCC bug 105593, fixed in 13).
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic ignored "-Wuninitialized"
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#endif
#include <immintrin.h>

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <cstring>

#include "tinygptv/quant.h"

namespace tgv {

// quant_k_avx512.cpp: Q4_K and Q6_K weights (x Q8_K), the same contract as matmul_quant.
void matmul_quant_k_avx512(float* y, int ldy, const void* xq, DType dt, const void* w, int T, int K, int n0, int n1);

namespace {

inline float half(uint16_t h) { return _cvtsh_ss(h); }

inline __m256i load32(const void* p) { return _mm256_loadu_si256(static_cast<const __m256i*>(p)); }
inline __m128i load16(const void* p) { return _mm_loadu_si128(static_cast<const __m128i*>(p)); }

inline int32_t load_i32(const void* p) {
  int32_t v;
  std::memcpy(&v, p, 4);
  return v;
}

// Four 16-byte pieces, one per 128-bit lane.
inline __m512i lanes4(const void* p0, const void* p1, const void* p2, const void* p3) {
  const __m512i v = _mm512_zextsi128_si512(load16(p0));
  return _mm512_inserti32x4(_mm512_inserti32x4(_mm512_inserti32x4(v, load16(p1), 1), load16(p2), 2), load16(p3), 3);
}

// The half scales d of four consecutive blocks of S bytes, d the first field of each, as
// 16 floats, lanes 4j..4j+3 = block j's d (the scale of the block in 128-bit lane j): the
// group's bytes in one load (a second, masked to the last d, when they reach past 64
// bytes), one permute of 16-bit words, one conversion.
template <int S>
struct ScaleWords {  // idx[lane]: the 16-bit word of the group that holds the lane's d
  alignas(64) uint16_t idx[32];
  constexpr ScaleWords() : idx{} {
    for (int lane = 0; lane < 16; lane++) idx[lane] = static_cast<uint16_t>(lane / 4 * S / 2);
  }
};
template <class W>
inline __m512 scales4(const W* b) {
  constexpr int S = sizeof(W), last = 3 * S + 2;  // the bytes up to the end of block 3's d
  static_assert(offsetof(W, d) == 0 && S % 2 == 0 && 4 * S >= 64 && last <= 128, "d words that a two-register permute reaches");
  static constexpr ScaleWords<S> kWords;
  const __m512i idx = _mm512_load_si512(kWords.idx);
  const __m512i lo = _mm512_loadu_si512(b);
  __m512i h;
  if constexpr (last <= 64) {
    h = _mm512_permutexvar_epi16(idx, lo);
  } else {
    const auto mask = static_cast<__mmask32>((1u << ((last - 64) / 2)) - 1);  // the words up to block 3's d
    h = _mm512_permutex2var_epi16(lo, idx, _mm512_maskz_loadu_epi16(mask, reinterpret_cast<const char*>(b) + 64));
  }
  return _mm512_cvtph_ps(_mm512_castsi512_si256(h));
}

inline float hsum(__m512 v) { return _mm512_reduce_add_ps(v); }

// Scratch from malloc (no std:: templates in a file compiled with ISA flags).
struct Scratch {
  void* p;
  explicit Scratch(size_t bytes) : p(std::aligned_alloc(64, (bytes + 63) / 64 * 64)) {
    if (!p) std::abort();
  }
  ~Scratch() { std::free(p); }
  Scratch(const Scratch&) = delete;
  Scratch& operator=(const Scratch&) = delete;
};

// The decode loops prefetch every 64-byte line of the weight blocks they read,
// kPrefetchBytes (kernel_sets.h) ahead. One prefetch per four-block group, 1 KB ahead,
// reached only part of the lines (a Q8_0 group is 136 bytes); with every line, 4 KB ahead,
// 2 threads read a 1 GB matrix (beyond the L3) 1.2-1.5x faster: `bench_quant --rows 1
// --threads 2 --shape 400000x2560`, Q8_0 17.0-17.7 -> 22.4-25.5 GB/s, Q4_0 14.1-15.0 ->
// 17.8-17.9, Q4_K 15.4-15.6 -> 18.8-19.2.

// Up to 4 input rows the weights are used straight from their blocks: packing a panel
// costs about what 8 input rows' products with it cost, which only pays from ~5 rows on.
constexpr int kDecodeRows = 4;

constexpr int kPanel = 16;  // weight rows per panel (one zmm of int32 lanes)
constexpr int kRows = 8;    // input rows per micro-kernel tile

}  // namespace

}  // namespace tgv
