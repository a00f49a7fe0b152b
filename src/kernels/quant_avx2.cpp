// AVX2 integer dot products for block-quantized weights (quant.h): the fast path of
// KernelSet::matmul_quant (kernels.h), what ggml does for these formats.
//
// matmul() has already quantized the input rows once to the weight format's activation
// format (Q8_0 for Q8_0/Q4_0/Q5_0, Q8_1 for Q4_1/Q5_1, Q8_K for Q4_K/Q6_K). Here every
// pair (weight block, activation block) gives an integer sum, exactly the integers of
// the scalar QuantFormat::vec_dot, turned into float with the two block scales:
//   32-formats: y += d_w * d_x * sum_k q_w[k] q_x[k]   (+ m_w * s_x for Q4_1 / Q5_1)
//   K-formats:  y += d_w * d_x * sum_sub sc_sub * sum_k q_w q_x   (- dmin * d_x * sum mins * bsums)
// The integer products use vpmaddubsw (unsigned bytes x signed bytes -> pairs summed to
// int16) then vpmaddwd (pairs of int16 -> int32, times 1 or a sub-block scale):
//   - weights that are unsigned (Q4_1, Q5_1: q in 0..31; Q4_K: 0..15; Q6_K: 0..63 with
//     its -32 folded in through the activation's bsums) go straight into vpmaddubsw;
//   - Q4_0 / Q5_0 (q - 8 / q - 16) go in unsigned too, the offset taken off as
//     maddubs(offset, x), which depends on the activations alone;
//   - Q8_0's signed weights use the sign trick: |w| * (x with w's sign) (vpsignb).
// No int16 overflow: at most 2 * 63 * 127 per pair for unsigned weights, 2 * 127 * 127
// for Q8_0 (|q_x| <= 127: the activation quantizers never give -128).
// The float accumulator is a vector of 8 lanes per output, summed across lanes once at
// the end of the row (no horizontal sum per block).
//
// Tiles: RT input rows x RN weight rows. Each weight block is unpacked once per tile and
// used against the RT input rows:
//   decode  (T = 1): 1 x 4 (four weight rows streamed side by side: four independent chains)
//   prefill (T > 1): 4 x 2 (every format but Q8_0: its many-row products are float GEMMs)
// Weight-row blocks outside, input tiles inside, so a block of RN rows stays in cache
// while every input row passes over it.
//
// Like kernels_avx2.cpp this file is compiled with -mavx2 -mfma -mf16c and only exports
// a function through the constant table in kernels_avx2.cpp (kernel_sets.h); every helper
// stays in the anonymous namespace (`nm -C quant_avx2.cpp.o | grep " W "` prints nothing).
#include <immintrin.h>

#include <cstddef>
#include <cstdint>
#include <cstring>

#include "kernels/kernel_sets.h"
#include "tinygptv/quant.h"

namespace tgv {

namespace {

inline float half(uint16_t h) { return _cvtsh_ss(h); }

inline float hsum(__m256 v) {
  __m128 s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
  s = _mm_add_ps(s, _mm_movehl_ps(s, s));
  s = _mm_add_ss(s, _mm_movehdup_ps(s));
  return _mm_cvtss_f32(s);
}

inline __m256i load32(const void* p) { return _mm256_loadu_si256(static_cast<const __m256i*>(p)); }

// 16 bytes of nibbles -> 32 bytes 0..15: the low nibbles in bytes 0..15, the high ones in 16..31.
inline __m256i nibbles16(const uint8_t* p) {
  const __m128i b = _mm_loadu_si128(reinterpret_cast<const __m128i*>(p));
  return _mm256_and_si256(_mm256_set_m128i(_mm_srli_epi16(b, 4), b), _mm256_set1_epi8(0x0F));
}

// A little-endian 32-bit word -> 32 bytes, byte j = 0xFF when bit j is set, else 0.
inline __m256i bits_to_bytes(const uint8_t* p) {
  uint32_t word;
  std::memcpy(&word, p, 4);
  // vpshufb works inside each 128-bit half; every 32-bit lane holds the word, so byte
  // j/8 of it is at index j/8 of either half.
  const __m256i pick = _mm256_setr_epi8(0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 1, 1, 1, 1,  //
                                        2, 2, 2, 2, 2, 2, 2, 2, 3, 3, 3, 3, 3, 3, 3, 3);
  const __m256i bytes = _mm256_shuffle_epi8(_mm256_set1_epi32(static_cast<int>(word)), pick);
  const __m256i bit = _mm256_set1_epi64x(static_cast<long long>(0x8040201008040201ULL));  // 1 << (j % 8)
  return _mm256_cmpeq_epi8(_mm256_and_si256(bytes, bit), bit);
}

// 8 int32 lanes whose sum is sum_k u[k] * s[k] (u unsigned bytes, s signed bytes).
inline __m256i dot_us(__m256i u, __m256i s) { return _mm256_madd_epi16(_mm256_maddubs_epi16(u, s), _mm256_set1_epi16(1)); }

// ---- the formats ----------------------------------------------------------------------
// W: weight block, X: activation block, kBlock: weights per block. U: one weight block
// unpacked (done once per tile), accumulate(): adds U . X to a lane accumulator `acc`
// and a scalar `off` (terms that are one number per block).

struct SignedWeights {  // Q8_0: 32 signed weights, |w| and w, for the sign trick
  __m256i abs, w;
  float d;
};

inline void accumulate_signed(__m256& acc, const SignedWeights& u, const BlockQ8_0& x) {
  const __m256i p = dot_us(u.abs, _mm256_sign_epi8(load32(x.qs), u.w));
  acc = _mm256_fmadd_ps(_mm256_set1_ps(u.d * half(x.d)), _mm256_cvtepi32_ps(p), acc);
}

struct FQ8_0 {
  using W = BlockQ8_0;
  using X = BlockQ8_0;
  using U = SignedWeights;
  static constexpr int kBlock = kQK;
  static void unpack(U& u, const W& b) {
    u.w = load32(b.qs);
    u.abs = _mm256_sign_epi8(u.w, u.w);
    u.d = half(b.d);
  }
  static void accumulate(__m256& acc, float&, const U& u, const X& x) { accumulate_signed(acc, u, x); }
};

// Q4_0 and Q5_0: w = d * (q - o) with q unsigned (0..15 or 0..31) and o = 8 or 16. The
// products go through vpmaddubsw with q as it is, and the offset is taken off in the same
// int16 pairs: maddubs(q, x) - maddubs(o, x), which depends on x alone (computed once per
// activation block, shared by the weight rows of a tile). Exact: |pair| <= 2*31*127 + 2*16*127.
struct OffsetWeights {
  __m256i q;
  float d;
};

template <int kOffset>
inline void accumulate_offset(__m256& acc, const OffsetWeights& u, const BlockQ8_0& x) {
  const __m256i xv = load32(x.qs);
  const __m256i pairs = _mm256_sub_epi16(_mm256_maddubs_epi16(u.q, xv), _mm256_maddubs_epi16(_mm256_set1_epi8(kOffset), xv));
  const __m256i p = _mm256_madd_epi16(pairs, _mm256_set1_epi16(1));
  acc = _mm256_fmadd_ps(_mm256_set1_ps(u.d * half(x.d)), _mm256_cvtepi32_ps(p), acc);
}

struct FQ4_0 {  // q in 0..15 meaning q - 8
  using W = BlockQ4_0;
  using X = BlockQ8_0;
  using U = OffsetWeights;
  static constexpr int kBlock = kQK;
  static void unpack(U& u, const W& b) {
    u.q = nibbles16(b.qs);
    u.d = half(b.d);
  }
  static void accumulate(__m256& acc, float&, const U& u, const X& x) { accumulate_offset<8>(acc, u, x); }
};

struct FQ5_0 {  // q in 0..31 (the low nibble and the 5th bit) meaning q - 16
  using W = BlockQ5_0;
  using X = BlockQ8_0;
  using U = OffsetWeights;
  static constexpr int kBlock = kQK;
  static void unpack(U& u, const W& b) {
    u.q = _mm256_or_si256(nibbles16(b.qs), _mm256_and_si256(bits_to_bytes(b.qh), _mm256_set1_epi8(0x10)));
    u.d = half(b.d);
  }
  static void accumulate(__m256& acc, float&, const U& u, const X& x) { accumulate_offset<16>(acc, u, x); }
};

struct UnsignedWeights {  // 32 weights d * q + m, q unsigned
  __m256i q;
  float d, m;
};

inline void accumulate_unsigned(__m256& acc, float& off, const UnsignedWeights& u, const BlockQ8_1& x) {
  const __m256i p = dot_us(u.q, load32(x.qs));
  acc = _mm256_fmadd_ps(_mm256_set1_ps(u.d * half(x.d)), _mm256_cvtepi32_ps(p), acc);
  off += u.m * half(x.s);  // s = d_x * sum q_x: the minimum times the sum of the activations
}

struct FQ4_1 {
  using W = BlockQ4_1;
  using X = BlockQ8_1;
  using U = UnsignedWeights;
  static constexpr int kBlock = kQK;
  static void unpack(U& u, const W& b) {
    u.q = nibbles16(b.qs);
    u.d = half(b.d);
    u.m = half(b.m);
  }
  static void accumulate(__m256& acc, float& off, const U& u, const X& x) { accumulate_unsigned(acc, off, u, x); }
};

struct FQ5_1 {
  using W = BlockQ5_1;
  using X = BlockQ8_1;
  using U = UnsignedWeights;
  static constexpr int kBlock = kQK;
  static void unpack(U& u, const W& b) {
    u.q = _mm256_or_si256(nibbles16(b.qs), _mm256_and_si256(bits_to_bytes(b.qh), _mm256_set1_epi8(0x10)));
    u.d = half(b.d);
    u.m = half(b.m);
  }
  static void accumulate(__m256& acc, float& off, const U& u, const X& x) { accumulate_unsigned(acc, off, u, x); }
};

// Q4_K: 8 sub-blocks of 32, q in 0..15, 6-bit scale and min per sub-block.
struct FQ4_K {
  using W = BlockQ4_K;
  using X = BlockQ8_K;
  static constexpr int kBlock = kQK_K;
  struct U {
    __m256i q[8];         // sub-block s = weights 32 s .. 32 s + 31
    int16_t sc[8], mn[8];
    float d, dmin;
  };
  static void unpack(U& u, const W& b) {
    for (int c = 0; c < 4; c++) {  // 32 bytes: sub-block 2c in the low nibbles, 2c+1 in the high ones
      const __m256i v = load32(b.qs + 32 * c);
      u.q[2 * c] = _mm256_and_si256(v, _mm256_set1_epi8(0x0F));
      u.q[2 * c + 1] = _mm256_and_si256(_mm256_srli_epi16(v, 4), _mm256_set1_epi8(0x0F));
    }
    // The 12 scale bytes as three words: bytes 0-3 hold scales 0-3 (low 6 bits), bytes
    // 4-7 mins 0-3; bytes 8-11 hold the low 4 bits of scales 4-7 (low nibble) and mins
    // 4-7 (high nibble), whose top 2 bits are the top 2 bits of bytes 0-3 / 4-7.
    uint32_t w[3];
    std::memcpy(w, b.scales, 12);
    const uint32_t sc[2] = {w[0] & 0x3f3f3f3fu, (w[2] & 0x0f0f0f0fu) | ((w[0] >> 2) & 0x30303030u)};
    const uint32_t mn[2] = {w[1] & 0x3f3f3f3fu, ((w[2] >> 4) & 0x0f0f0f0fu) | ((w[1] >> 2) & 0x30303030u)};
    for (int s = 0; s < 8; s++) {
      u.sc[s] = static_cast<int16_t>((sc[s / 4] >> (8 * (s % 4))) & 0xFF);
      u.mn[s] = static_cast<int16_t>((mn[s / 4] >> (8 * (s % 4))) & 0xFF);
    }
    u.d = half(b.d);
    u.dmin = half(b.dmin);
  }
  static void accumulate(__m256& acc, float& off, const U& u, const X& x) {
    __m256i sum = _mm256_setzero_si256();  // int32: <= 8 * 2 * (2 * 15 * 127) * 63 per lane
    for (int s = 0; s < 8; s++)
      sum = _mm256_add_epi32(sum, _mm256_madd_epi16(_mm256_maddubs_epi16(u.q[s], load32(x.qs + 32 * s)), _mm256_set1_epi16(u.sc[s])));
    acc = _mm256_fmadd_ps(_mm256_set1_ps(u.d * x.d), _mm256_cvtepi32_ps(sum), acc);
    int mins = 0;
    for (int s = 0; s < 8; s++) mins += u.mn[s] * (x.bsums[2 * s] + x.bsums[2 * s + 1]);
    off -= u.dmin * x.d * static_cast<float>(mins);
  }
};

// Q6_K: 16 sub-blocks of 16, q in 0..63 meaning q - 32, 8-bit signed scales.
//   sum sc (q - 32) q_x = sum sc q q_x - 32 sum_sub sc * bsum_sub
struct FQ6_K {
  using W = BlockQ6_K;
  using X = BlockQ8_K;
  static constexpr int kBlock = kQK_K;
  struct U {
    __m256i q[8];    // weights 32 k .. 32 k + 31, unsigned 0..63
    __m256i sc[8];   // int16 scales for q[k]: sub-block 2k in the low half, 2k+1 in the high half
    __m256i sc16;    // the 16 scales as int16, for the bsums term
    float d;
  };
  static void unpack(U& u, const W& b) {
    const __m256i m4 = _mm256_set1_epi8(0x0F), m2 = _mm256_set1_epi8(0x30);
    for (int h = 0; h < 2; h++) {  // 128 weights: ql[64 h ..], qh[32 h ..]
      const __m256i l0 = load32(b.ql + 64 * h), l1 = load32(b.ql + 64 * h + 32), hb = load32(b.qh + 32 * h);
      // weight 128h + 32 j + l: low 4 bits from l0/l1 (j even/odd: 0,1 low nibble, 2,3 high),
      // high 2 bits = bits 2j, 2j+1 of qh[l], moved to bits 4, 5.
      u.q[4 * h + 0] = _mm256_or_si256(_mm256_and_si256(l0, m4), _mm256_and_si256(_mm256_slli_epi16(hb, 4), m2));
      u.q[4 * h + 1] = _mm256_or_si256(_mm256_and_si256(l1, m4), _mm256_and_si256(_mm256_slli_epi16(hb, 2), m2));
      u.q[4 * h + 2] = _mm256_or_si256(_mm256_and_si256(_mm256_srli_epi16(l0, 4), m4), _mm256_and_si256(hb, m2));
      u.q[4 * h + 3] = _mm256_or_si256(_mm256_and_si256(_mm256_srli_epi16(l1, 4), m4), _mm256_and_si256(_mm256_srli_epi16(hb, 2), m2));
    }
    for (int k = 0; k < 8; k++) u.sc[k] = _mm256_set_m128i(_mm_set1_epi16(b.scales[2 * k + 1]), _mm_set1_epi16(b.scales[2 * k]));
    u.sc16 = _mm256_cvtepi8_epi16(_mm_loadu_si128(reinterpret_cast<const __m128i*>(b.scales)));
    u.d = half(b.d);
  }
  static void accumulate(__m256& acc, float&, const U& u, const X& x) {
    __m256i sum = _mm256_setzero_si256();  // int32: <= 8 * 2 * (2 * 63 * 127) * 128 per lane
    for (int k = 0; k < 8; k++) sum = _mm256_add_epi32(sum, _mm256_madd_epi16(_mm256_maddubs_epi16(u.q[k], load32(x.qs + 32 * k)), u.sc[k]));
    const __m256i bs = _mm256_madd_epi16(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(x.bsums)), u.sc16);
    sum = _mm256_sub_epi32(sum, _mm256_slli_epi32(bs, 5));  // - 32 * sum_sub sc * bsum
    acc = _mm256_fmadd_ps(_mm256_set1_ps(u.d * x.d), _mm256_cvtepi32_ps(sum), acc);
  }
};

// ---- the tiled loop ---------------------------------------------------------------------

// y[t0+i, n0+j] for i < RT, j < RN. Weight row n and activation row t are nb blocks each.
template <class F, int RT, int RN>
void tile(float* y, int ldy, const typename F::X* xq, const typename F::W* w, int nb, int t0, int n0) {
  const typename F::W* wr[RN];
  const typename F::X* xr[RT];
  for (int j = 0; j < RN; j++) wr[j] = w + static_cast<size_t>(n0 + j) * nb;
  for (int i = 0; i < RT; i++) xr[i] = xq + static_cast<size_t>(t0 + i) * nb;
  __m256 acc[RT][RN];
  float off[RT][RN];
  for (int i = 0; i < RT; i++)
    for (int j = 0; j < RN; j++) {
      acc[i][j] = _mm256_setzero_ps();
      off[i][j] = 0.0f;
    }
  for (int b = 0; b < nb; b++) {
    typename F::U u[RN];
    for (int j = 0; j < RN; j++) {
      // decode: each weight is read once, straight from memory, so every line of it is
      // prefetched ahead (2 threads on a 1 GB matrix, bench_quant: Q8_0 11.8-13.3 -> 16.4-18.0
      // GB/s, Q4_0 6.7-6.8 -> 9.4-10.5, Q4_K 5.2-5.5 -> 7.7-7.9)
      if constexpr (RT == 1)
        for (size_t o = 0; o < sizeof(typename F::W); o += 64)
          _mm_prefetch(reinterpret_cast<const char*>(wr[j] + b) + kPrefetchBytes + o, _MM_HINT_T0);
      F::unpack(u[j], wr[j][b]);
    }
    for (int i = 0; i < RT; i++)
      for (int j = 0; j < RN; j++) F::accumulate(acc[i][j], off[i][j], u[j], xr[i][b]);
  }
  for (int i = 0; i < RT; i++)
    for (int j = 0; j < RN; j++) y[static_cast<size_t>(t0 + i) * ldy + n0 + j] = hsum(acc[i][j]) + off[i][j];
}

template <class F, int RT>
void tile_rn(int rn, float* y, int ldy, const typename F::X* xq, const typename F::W* w, int nb, int t0, int n0) {
  switch (rn) {
    case 1: tile<F, RT, 1>(y, ldy, xq, w, nb, t0, n0); break;
    case 2: tile<F, RT, 2>(y, ldy, xq, w, nb, t0, n0); break;
    case 3: tile<F, RT, 3>(y, ldy, xq, w, nb, t0, n0); break;
    default: tile<F, RT, 4>(y, ldy, xq, w, nb, t0, n0); break;
  }
}

// Rows [n0, n1) of W against all T activation rows.
// One activation row (decode): tiles of 1 x 4 weight rows.
template <class F>
void matmul_row(float* y, int ldy, const void* xq_bytes, const void* w_bytes, int K, int n0, int n1) {
  const auto* xq = static_cast<const typename F::X*>(xq_bytes);
  const auto* w = static_cast<const typename F::W*>(w_bytes);
  const int nb = K / F::kBlock;
  for (int n = n0; n < n1; n += 4) tile_rn<F, 1>(n1 - n < 4 ? n1 - n : 4, y, ldy, xq, w, nb, 0, n);
}

template <class F>
void matmul_blocks(float* y, int ldy, const void* xq_bytes, const void* w_bytes, int T, int K, int n0, int n1) {
  if (T == 1) return matmul_row<F>(y, ldy, xq_bytes, w_bytes, K, n0, n1);
  const auto* xq = static_cast<const typename F::X*>(xq_bytes);
  const auto* w = static_cast<const typename F::W*>(w_bytes);
  const int nb = K / F::kBlock;
  for (int n = n0; n < n1; n += 2) {
    const int rn = n1 - n < 2 ? n1 - n : 2;
    int t = 0;
    for (; t + 4 <= T; t += 4) tile_rn<F, 4>(rn, y, ldy, xq, w, nb, t, n);
    switch (T - t) {
      case 1: tile_rn<F, 1>(rn, y, ldy, xq, w, nb, t, n); break;
      case 2: tile_rn<F, 2>(rn, y, ldy, xq, w, nb, t, n); break;
      case 3: tile_rn<F, 3>(rn, y, ldy, xq, w, nb, t, n); break;
      default: break;
    }
  }
}

}  // namespace

void matmul_quant_avx2(float* y, int ldy, const float* x, const void* xq, DType dt, const void* w, int T, int K, int n0, int n1) {
  switch (dt) {
    case DType::Q8_0:  // T > 1: the float GEMM on the exact weights (fast_quant_reads_xq)
      if (!fast_quant_reads_xq(dt, T)) gemm_q8_0_avx2(y, ldy, x, w, T, K, n0, n1);
      else matmul_row<FQ8_0>(y, ldy, xq, w, K, n0, n1);  // T == 1
      break;
    case DType::Q4_0: matmul_blocks<FQ4_0>(y, ldy, xq, w, T, K, n0, n1); break;
    case DType::Q4_1: matmul_blocks<FQ4_1>(y, ldy, xq, w, T, K, n0, n1); break;
    case DType::Q5_0: matmul_blocks<FQ5_0>(y, ldy, xq, w, T, K, n0, n1); break;
    case DType::Q5_1: matmul_blocks<FQ5_1>(y, ldy, xq, w, T, K, n0, n1); break;
    case DType::Q4_K: matmul_blocks<FQ4_K>(y, ldy, xq, w, T, K, n0, n1); break;
    case DType::Q6_K: matmul_blocks<FQ6_K>(y, ldy, xq, w, T, K, n0, n1); break;
    default: unsupported_quant_dtype(dt);
  }
}

}  // namespace tgv
