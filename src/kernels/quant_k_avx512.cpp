// AVX-512 VNNI integer dot products for the K-formats, Q4_K and Q6_K weights against
// Q8_K activations: the avx512 set's matmul_quant for them (quant_avx512.cpp explains
// the scheme, quant_avx2.cpp the block arithmetic). Decode (T <= 4) reads a super-block
// of 256 weights as four zmm; prefill packs 16-row panels as for the blocks of 32.
//
// Compiled with the AVX-512 flags; every helper in the anonymous namespace
// (`nm -C quant_k_avx512.cpp.o | grep " W "` prints nothing).
#include "kernels/quant_avx512.h"

#include "kernels/kernel_sets.h"

namespace tgv {

namespace {

// ---- prefill (T >= 5) ----------------------------------------------
// The same panels, per super-block of 256: 64 weight vectors (vector v holds weights
// 4v..4v+3 of each of the 16 rows), then per sub-block the 16 rows' integer scales, then
// the rows' int16 pairs for the bsums term, then d (and dmin). Per input row and block:
//   sumi = sum_sub sc_sub * (8 or 4 vpdpbusd over the sub-block)          (vpmulld)
//   Q4_K: y += d dx sumi - dmin dx sum_g m_{g/2} bsum_g
//   Q6_K: y += d dx (sumi - 32 sum_g sc_g bsum_g)        (q stored as q + 32, unsigned)
// with the bsums term 8 vpdpwssd: the dword at bsums + 2p is the pair (bsum_2p, bsum_2p+1).

struct FQ4_K {
  using W = BlockQ4_K;
  static constexpr int kSubs = 8;  // sub-blocks of 32 weights: 8 vectors each
  static constexpr bool kDmin = true;
  // weights 0..255 of the block, unsigned, in order
  static void bytes(uint8_t* out, const W& b) {
    for (int c = 0; c < 4; c++) {
      const __m256i v = load32(b.qs + 32 * c);
      _mm256_storeu_si256(reinterpret_cast<__m256i*>(out + 64 * c), _mm256_and_si256(v, _mm256_set1_epi8(0x0F)));
      _mm256_storeu_si256(reinterpret_cast<__m256i*>(out + 64 * c + 32),
                          _mm256_and_si256(_mm256_srli_epi16(v, 4), _mm256_set1_epi8(0x0F)));
    }
  }
  // sc[j]: scale of sub-block j; pair[g]: the int16 pair multiplying (bsum_2g, bsum_2g+1)
  static void scales(int32_t* sc, int32_t* pair, const W& b) {
    uint32_t w[3];
    std::memcpy(w, b.scales, 12);  // as quant_avx2.cpp: 6-bit scales and mins, ggml get_scale_min_k4
    const uint32_t s[2] = {w[0] & 0x3f3f3f3fu, (w[2] & 0x0f0f0f0fu) | ((w[0] >> 2) & 0x30303030u)};
    const uint32_t m[2] = {w[1] & 0x3f3f3f3fu, ((w[2] >> 4) & 0x0f0f0f0fu) | ((w[1] >> 2) & 0x30303030u)};
    for (int j = 0; j < 8; j++) {
      sc[j] = static_cast<int32_t>((s[j / 4] >> (8 * (j % 4))) & 0xFF);
      const uint32_t mj = (m[j / 4] >> (8 * (j % 4))) & 0xFF;
      pair[j] = static_cast<int32_t>(mj | mj << 16);  // sub-block j of 32 = bsums 2j and 2j+1
    }
  }
};

struct FQ6_K {
  using W = BlockQ6_K;
  static constexpr int kSubs = 16;  // sub-blocks of 16 weights: 4 vectors each
  static constexpr bool kDmin = false;
  static void bytes(uint8_t* out, const W& b) {  // q in 0..63 (meaning q - 32), as quant_avx2.cpp
    const __m256i m4 = _mm256_set1_epi8(0x0F), m2 = _mm256_set1_epi8(0x30);
    for (int h = 0; h < 2; h++) {
      const __m256i l0 = load32(b.ql + 64 * h), l1 = load32(b.ql + 64 * h + 32), hb = load32(b.qh + 32 * h);
      __m256i* o = reinterpret_cast<__m256i*>(out + 128 * h);
      _mm256_storeu_si256(o + 0, _mm256_or_si256(_mm256_and_si256(l0, m4), _mm256_and_si256(_mm256_slli_epi16(hb, 4), m2)));
      _mm256_storeu_si256(o + 1, _mm256_or_si256(_mm256_and_si256(l1, m4), _mm256_and_si256(_mm256_slli_epi16(hb, 2), m2)));
      _mm256_storeu_si256(o + 2, _mm256_or_si256(_mm256_and_si256(_mm256_srli_epi16(l0, 4), m4), _mm256_and_si256(hb, m2)));
      _mm256_storeu_si256(o + 3, _mm256_or_si256(_mm256_and_si256(_mm256_srli_epi16(l1, 4), m4),
                                                 _mm256_and_si256(_mm256_srli_epi16(hb, 2), m2)));
    }
  }
  static void scales(int32_t* sc, int32_t* pair, const W& b) {
    for (int j = 0; j < 16; j++) sc[j] = b.scales[j];
    for (int g = 0; g < 8; g++)
      pair[g] = static_cast<int32_t>((static_cast<uint32_t>(static_cast<uint16_t>(b.scales[2 * g]))) |
                                     static_cast<uint32_t>(static_cast<uint16_t>(b.scales[2 * g + 1])) << 16);
  }
};

template <class F>
constexpr size_t panel_k_bytes() { return 64 * 64 + F::kSubs * 64 + 8 * 64 + 64 + (F::kDmin ? 64 : 0); }

// 16 rows of 32 bytes (rows[i] at stride 256) -> 8 vectors: vector s, lane n = row n's dword s.
inline void transpose16x8(uint8_t* out, const uint8_t* rows) {
  __m512i z[8], t[8], u[8];
  for (int i = 0; i < 8; i++)
    z[i] = _mm512_inserti64x4(_mm512_zextsi256_si512(load32(rows + 256 * i)), load32(rows + 256 * (i + 8)), 1);
  for (int i = 0; i < 4; i++) {
    t[2 * i] = _mm512_unpacklo_epi32(z[2 * i], z[2 * i + 1]);
    t[2 * i + 1] = _mm512_unpackhi_epi32(z[2 * i], z[2 * i + 1]);
  }
  for (int i = 0; i < 2; i++) {
    u[4 * i + 0] = _mm512_unpacklo_epi64(t[4 * i], t[4 * i + 2]);
    u[4 * i + 1] = _mm512_unpackhi_epi64(t[4 * i], t[4 * i + 2]);
    u[4 * i + 2] = _mm512_unpacklo_epi64(t[4 * i + 1], t[4 * i + 3]);
    u[4 * i + 3] = _mm512_unpackhi_epi64(t[4 * i + 1], t[4 * i + 3]);
  }
  const __m512i first = _mm512_setr_epi64(0, 1, 8, 9, 4, 5, 12, 13), second = _mm512_setr_epi64(2, 3, 10, 11, 6, 7, 14, 15);
  for (int c = 0; c < 4; c++) {
    _mm512_store_si512(out + 64 * c, _mm512_permutex2var_epi64(u[c], first, u[4 + c]));
    _mm512_store_si512(out + 64 * (c + 4), _mm512_permutex2var_epi64(u[c], second, u[4 + c]));
  }
}

template <class F>
void pack_panel_k(uint8_t* panel, const typename F::W* w, int nb, int rows) {
  alignas(64) uint8_t q[kPanel][256];
  alignas(64) int32_t sc[F::kSubs][kPanel], pair[8][kPanel];
  alignas(64) uint16_t d[kPanel], dmin[kPanel];
  for (int b = 0; b < nb; b++) {
    uint8_t* out = panel + static_cast<size_t>(b) * panel_k_bytes<F>();
    for (int n = 0; n < kPanel; n++) {
      if (n < rows) {
        const typename F::W& blk = w[static_cast<size_t>(n) * nb + b];
        int32_t s[F::kSubs], p[8];
        F::bytes(q[n], blk);
        F::scales(s, p, blk);
        for (int j = 0; j < F::kSubs; j++) sc[j][n] = s[j];
        for (int g = 0; g < 8; g++) pair[g][n] = p[g];
        d[n] = blk.d;
        if constexpr (F::kDmin) dmin[n] = blk.dmin;
      } else {
        std::memset(q[n], 0, 256);
        for (int j = 0; j < F::kSubs; j++) sc[j][n] = 0;
        for (int g = 0; g < 8; g++) pair[g][n] = 0;
        d[n] = dmin[n] = 0;
      }
    }
    for (int c = 0; c < 8; c++) transpose16x8(out + 512 * c, &q[0][32 * c]);
    std::memcpy(out + 4096, sc, sizeof sc);
    std::memcpy(out + 4096 + sizeof sc, pair, sizeof pair);
    uint8_t* f = out + 4096 + sizeof sc + sizeof pair;
    _mm512_store_ps(f, _mm512_cvtph_ps(_mm256_load_si256(reinterpret_cast<const __m256i*>(d))));
    if constexpr (F::kDmin) _mm512_store_ps(f + 64, _mm512_cvtph_ps(_mm256_load_si256(reinterpret_cast<const __m256i*>(dmin))));
  }
}

template <class F, int RT>
void prefill_tile_k(float* y, int ldy, const uint8_t* panel, const BlockQ8_K* xq, int nb, int t0, int n, __mmask16 store) {
  constexpr int kSteps = 64 / F::kSubs;  // vectors per sub-block
  const BlockQ8_K* xr[RT];
  for (int i = 0; i < RT; i++) xr[i] = xq + static_cast<size_t>(t0 + i) * nb;
  __m512 acc[RT];
  for (int i = 0; i < RT; i++) acc[i] = _mm512_setzero_ps();
  for (int b = 0; b < nb; b++) {
    const uint8_t* p = panel + static_cast<size_t>(b) * panel_k_bytes<F>();
    const uint8_t* psc = p + 4096;
    const uint8_t* ppair = psc + 64 * F::kSubs;
    const uint8_t* pf = ppair + 512;
    __m512i sumi[RT];
    for (int i = 0; i < RT; i++) sumi[i] = _mm512_setzero_si512();
    for (int j = 0; j < F::kSubs; j++) {
      __m512i sub[RT];
      for (int i = 0; i < RT; i++) sub[i] = _mm512_setzero_si512();
      for (int k = 0; k < kSteps; k++) {
        const int v = j * kSteps + k;
        const __m512i wv = _mm512_load_si512(p + 64 * v);
        for (int i = 0; i < RT; i++) sub[i] = _mm512_dpbusd_epi32(sub[i], wv, _mm512_set1_epi32(load_i32(xr[i][b].qs + 4 * v)));
      }
      const __m512i scj = _mm512_load_si512(psc + 64 * j);
      for (int i = 0; i < RT; i++) sumi[i] = _mm512_add_epi32(sumi[i], _mm512_mullo_epi32(sub[i], scj));
    }
    __m512i bs[RT];  // sum_g pair_g . (bsum_2g, bsum_2g+1)
    for (int i = 0; i < RT; i++) bs[i] = _mm512_setzero_si512();
    for (int g = 0; g < 8; g++) {
      const __m512i pg = _mm512_load_si512(ppair + 64 * g);
      for (int i = 0; i < RT; i++) bs[i] = _mm512_dpwssd_epi32(bs[i], pg, _mm512_set1_epi32(load_i32(xr[i][b].bsums + 2 * g)));
    }
    const __m512 d = _mm512_load_ps(pf);
    for (int i = 0; i < RT; i++) {
      const __m512 dx = _mm512_set1_ps(xr[i][b].d);
      if constexpr (F::kDmin) {
        acc[i] = _mm512_fmadd_ps(_mm512_cvtepi32_ps(sumi[i]), _mm512_mul_ps(d, dx), acc[i]);
        acc[i] = _mm512_fnmadd_ps(_mm512_cvtepi32_ps(bs[i]), _mm512_mul_ps(_mm512_load_ps(pf + 64), dx), acc[i]);
      } else {
        const __m512i q = _mm512_sub_epi32(sumi[i], _mm512_slli_epi32(bs[i], 5));  // - 32 sum sc bsum
        acc[i] = _mm512_fmadd_ps(_mm512_cvtepi32_ps(q), _mm512_mul_ps(d, dx), acc[i]);
      }
    }
  }
  for (int i = 0; i < RT; i++) _mm512_mask_storeu_ps(y + static_cast<size_t>(t0 + i) * ldy + n, store, acc[i]);
}

template <class F>
void prefill_k(float* y, int ldy, const void* xq_bytes, const void* w_bytes, int T, int K, int n0, int n1) {
  const auto* xq = static_cast<const BlockQ8_K*>(xq_bytes);
  const auto* w = static_cast<const typename F::W*>(w_bytes);
  const int nb = K / kQK_K;
  Scratch panel_buf(panel_k_bytes<F>() * static_cast<size_t>(nb));
  auto* panel = static_cast<uint8_t*>(panel_buf.p);
  for (int n = n0; n < n1; n += kPanel) {
    const int rows = n1 - n < kPanel ? n1 - n : kPanel;
    pack_panel_k<F>(panel, w + static_cast<size_t>(n) * nb, nb, rows);
    const __mmask16 store = static_cast<__mmask16>((1u << rows) - 1);
    int t = 0;
    for (; t + kRows <= T; t += kRows) prefill_tile_k<F, kRows>(y, ldy, panel, xq, nb, t, n, store);
    switch (T - t) {
      case 1: prefill_tile_k<F, 1>(y, ldy, panel, xq, nb, t, n, store); break;
      case 2: prefill_tile_k<F, 2>(y, ldy, panel, xq, nb, t, n, store); break;
      case 3: prefill_tile_k<F, 3>(y, ldy, panel, xq, nb, t, n, store); break;
      case 4: prefill_tile_k<F, 4>(y, ldy, panel, xq, nb, t, n, store); break;
      case 5: prefill_tile_k<F, 5>(y, ldy, panel, xq, nb, t, n, store); break;
      case 6: prefill_tile_k<F, 6>(y, ldy, panel, xq, nb, t, n, store); break;
      case 7: prefill_tile_k<F, 7>(y, ldy, panel, xq, nb, t, n, store); break;
      default: break;
    }
  }
}

// ---- decode (T <= 4) ---------------------------------------------------------------------
// Weights straight from their blocks, 256 per row and block in four zmm; the activation
// block is copied once per call into the same order (XK), with its sums as int32. Each
// zmm holds several sub-blocks side by side, so its int32 lanes are multiplied by the
// matching sub-block scale (vpermd spreads the 8 or 16 scales over the lanes, vpmulld).

struct alignas(64) XK {
  int8_t qs[256];  // in the order of the weights' zmm (Q4_K: sub-blocks 0 2 1 3 4 6 5 7; Q6_K: as stored)
  int32_t bs[16];  // Q4_K: lanes 0..7 the sums of sub-blocks 0..7 (32 each); Q6_K: the 16 bsums
  float d;
};

struct DQ4_K {
  static void prepare(XK& o, const BlockQ8_K& x) {
    static constexpr int order[8] = {0, 2, 1, 3, 4, 6, 5, 7};
    for (int j = 0; j < 8; j++) std::memcpy(o.qs + 32 * j, x.qs + 32 * order[j], 32);
    for (int j = 0; j < 16; j++) o.bs[j] = j < 8 ? x.bsums[2 * j] + x.bsums[2 * j + 1] : 0;
    o.d = x.d;
  }
  struct U {
    __m512i q[4], sc[4];  // q[i]: 64 weights, two sub-blocks of 32; sc[i]: their scales per lane
    __m256i mins;         // the 8 sub-block mins
    float d, dmin;
  };
  static void unpack(U& u, const BlockQ4_K& b) {
    const __m512i m4 = _mm512_set1_epi8(0x0F);
    for (int h = 0; h < 2; h++) {  // 64 bytes: sub-blocks 4h, 4h+2 in the low nibbles, 4h+1, 4h+3 in the high
      const __m512i v = _mm512_loadu_si512(b.qs + 64 * h);
      u.q[2 * h] = _mm512_and_si512(v, m4);
      u.q[2 * h + 1] = _mm512_and_si512(_mm512_srli_epi16(v, 4), m4);
    }
    uint32_t w[3];
    std::memcpy(w, b.scales, 12);  // as FQ4_K::scales
    const uint32_t s0 = w[0] & 0x3f3f3f3fu, s1 = (w[2] & 0x0f0f0f0fu) | ((w[0] >> 2) & 0x30303030u);
    const uint32_t m0 = w[1] & 0x3f3f3f3fu, m1 = ((w[2] >> 4) & 0x0f0f0f0fu) | ((w[1] >> 2) & 0x30303030u);
    const __m512i sc = _mm512_zextsi256_si512(_mm256_cvtepu8_epi32(_mm_setr_epi32(static_cast<int>(s0), static_cast<int>(s1), 0, 0)));
    u.mins = _mm256_cvtepu8_epi32(_mm_setr_epi32(static_cast<int>(m0), static_cast<int>(m1), 0, 0));
    // q[0] holds sub-blocks 0 | 2, q[1] 1 | 3, q[2] 4 | 6, q[3] 5 | 7 (8 lanes each)
    u.sc[0] = _mm512_permutexvar_epi32(_mm512_setr_epi32(0, 0, 0, 0, 0, 0, 0, 0, 2, 2, 2, 2, 2, 2, 2, 2), sc);
    u.sc[1] = _mm512_permutexvar_epi32(_mm512_setr_epi32(1, 1, 1, 1, 1, 1, 1, 1, 3, 3, 3, 3, 3, 3, 3, 3), sc);
    u.sc[2] = _mm512_permutexvar_epi32(_mm512_setr_epi32(4, 4, 4, 4, 4, 4, 4, 4, 6, 6, 6, 6, 6, 6, 6, 6), sc);
    u.sc[3] = _mm512_permutexvar_epi32(_mm512_setr_epi32(5, 5, 5, 5, 5, 5, 5, 5, 7, 7, 7, 7, 7, 7, 7, 7), sc);
    u.d = half(b.d);
    u.dmin = half(b.dmin);
  }
  static void accumulate(__m512& acc, __m256& macc, const U& u, const XK& x) {
    __m512i sum = _mm512_setzero_si512();
    for (int i = 0; i < 4; i++) {
      const __m512i dot = _mm512_dpbusd_epi32(_mm512_setzero_si512(), u.q[i], _mm512_load_si512(x.qs + 64 * i));
      sum = _mm512_add_epi32(sum, _mm512_mullo_epi32(dot, u.sc[i]));
    }
    acc = _mm512_fmadd_ps(_mm512_cvtepi32_ps(sum), _mm512_set1_ps(u.d * x.d), acc);
    const __m256i mins = _mm256_mullo_epi32(u.mins, _mm256_load_si256(reinterpret_cast<const __m256i*>(x.bs)));
    macc = _mm256_fnmadd_ps(_mm256_cvtepi32_ps(mins), _mm256_set1_ps(u.dmin * x.d), macc);
  }
};

struct DQ6_K {
  static void prepare(XK& o, const BlockQ8_K& x) {
    std::memcpy(o.qs, x.qs, 256);
    for (int j = 0; j < 16; j++) o.bs[j] = x.bsums[j];
    o.d = x.d;
  }
  struct U {
    __m512i q[4], sc[4];  // q[i]: weights 64i..64i+63 (0..63, meaning q - 32), four sub-blocks of 16
    __m512i sc16;         // the 16 scales, one per lane
    float d;
  };
  static void unpack(U& u, const BlockQ6_K& b) {
    const __m512i m4 = _mm512_set1_epi8(0x0F), m2 = _mm512_set1_epi8(0x30);
    // as FQ6_K::bytes, two 32-byte pieces per zmm: [weights 128h + 0..31 | 32..63] take their
    // high bits from qh shifted left by 4 | 2, [64..95 | 96..127] shifted right by 0 | 2
    const __m512i left = _mm512_inserti64x4(_mm512_set1_epi16(4), _mm256_set1_epi16(2), 1);
    const __m512i right = _mm512_inserti64x4(_mm512_setzero_si512(), _mm256_set1_epi16(2), 1);
    for (int h = 0; h < 2; h++) {
      const __m512i l = _mm512_loadu_si512(b.ql + 64 * h);
      const __m512i hb = _mm512_broadcast_i64x4(load32(b.qh + 32 * h));
      u.q[2 * h] = _mm512_or_si512(_mm512_and_si512(l, m4), _mm512_and_si512(_mm512_sllv_epi16(hb, left), m2));
      u.q[2 * h + 1] = _mm512_or_si512(_mm512_and_si512(_mm512_srli_epi16(l, 4), m4), _mm512_and_si512(_mm512_srlv_epi16(hb, right), m2));
    }
    u.sc16 = _mm512_cvtepi8_epi32(load16(b.scales));
    for (int i = 0; i < 4; i++) {  // lane l of q[i]'s sums belongs to sub-block 4i + l / 4
      const __m512i idx = _mm512_add_epi32(_mm512_set1_epi32(4 * i), _mm512_setr_epi32(0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 2, 2, 3, 3, 3, 3));
      u.sc[i] = _mm512_permutexvar_epi32(idx, u.sc16);
    }
    u.d = half(b.d);
  }
  static void accumulate(__m512& acc, __m256&, const U& u, const XK& x) {
    // sum_j sc_j (q - 32) . x = sum_j sc_j q . x - 32 sum_j sc_j bsum_j
    __m512i sum = _mm512_slli_epi32(_mm512_mullo_epi32(u.sc16, _mm512_load_si512(x.bs)), 5);
    sum = _mm512_sub_epi32(_mm512_setzero_si512(), sum);
    for (int i = 0; i < 4; i++) {
      const __m512i dot = _mm512_dpbusd_epi32(_mm512_setzero_si512(), u.q[i], _mm512_load_si512(x.qs + 64 * i));
      sum = _mm512_add_epi32(sum, _mm512_mullo_epi32(dot, u.sc[i]));
    }
    acc = _mm512_fmadd_ps(_mm512_cvtepi32_ps(sum), _mm512_set1_ps(u.d * x.d), acc);
  }
};

// y[t, n0 + j], t < RT, j < RN: one weight row unpacked at a time, used by the RT input rows.
template <class D, class W, int RT, int RN>
void decode_k_tile(float* y, int ldy, const XK* xk, const W* w, int nb, int n0) {
  __m512 acc[RT][RN];
  __m256 macc[RT][RN];
  for (int i = 0; i < RT; i++)
    for (int j = 0; j < RN; j++) {
      acc[i][j] = _mm512_setzero_ps();
      macc[i][j] = _mm256_setzero_ps();
    }
  for (int b = 0; b < nb; b++)
    for (int j = 0; j < RN; j++) {
      const W& blk = w[static_cast<size_t>(j) * nb + b];
      for (size_t o = 0; o < sizeof(W); o += 64) _mm_prefetch(reinterpret_cast<const char*>(&blk) + kPrefetchBytes + o, _MM_HINT_T0);
      typename D::U u;
      D::unpack(u, blk);
      for (int i = 0; i < RT; i++) D::accumulate(acc[i][j], macc[i][j], u, xk[static_cast<size_t>(i) * nb + b]);
    }
  for (int i = 0; i < RT; i++)
    for (int j = 0; j < RN; j++) {
      __m256 m = _mm256_add_ps(macc[i][j], _mm256_add_ps(_mm512_castps512_ps256(acc[i][j]), _mm512_extractf32x8_ps(acc[i][j], 1)));
      __m128 q = _mm_add_ps(_mm256_castps256_ps128(m), _mm256_extractf128_ps(m, 1));
      q = _mm_add_ps(q, _mm_movehl_ps(q, q));
      q = _mm_add_ss(q, _mm_movehdup_ps(q));
      y[static_cast<size_t>(i) * ldy + n0 + j] = _mm_cvtss_f32(q);
    }
}

template <class D, class W, int RT>
void decode_k_rows(float* y, int ldy, const XK* xk, const W* w, int nb, int n0, int n1) {
  constexpr int kRN = RT == 2 ? 2 : 1;  // one row at a time streams best (decode_rows); RT x RN accumulators in registers
  int n = n0;
  for (; n + kRN <= n1; n += kRN) decode_k_tile<D, W, RT, kRN>(y, ldy, xk, w + static_cast<size_t>(n) * nb, nb, n);
  for (; n < n1; n++) decode_k_tile<D, W, RT, 1>(y, ldy, xk, w + static_cast<size_t>(n) * nb, nb, n);
}

template <class D, class W>
void decode_k(float* y, int ldy, const void* xq_bytes, const void* w_bytes, int T, int K, int n0, int n1) {
  const auto* xq = static_cast<const BlockQ8_K*>(xq_bytes);
  const auto* w = static_cast<const W*>(w_bytes);
  const int nb = K / kQK_K;
  Scratch scratch(sizeof(XK) * static_cast<size_t>(nb) * static_cast<size_t>(T));
  auto* xk = static_cast<XK*>(scratch.p);
  for (size_t i = 0; i < static_cast<size_t>(T) * nb; i++) D::prepare(xk[i], xq[i]);
  switch (T) {
    case 1: decode_k_rows<D, W, 1>(y, ldy, xk, w, nb, n0, n1); break;
    case 2: decode_k_rows<D, W, 2>(y, ldy, xk, w, nb, n0, n1); break;
    case 3: decode_k_rows<D, W, 3>(y, ldy, xk, w, nb, n0, n1); break;
    default: decode_k_rows<D, W, 4>(y, ldy, xk, w, nb, n0, n1); break;
  }
}

}  // namespace

void matmul_quant_k_avx512(float* y, int ldy, const void* xq, DType dt, const void* w, int T, int K, int n0, int n1) {
  if (n1 <= n0) return;
  if (dt == DType::Q4_K) {
    if (T > kDecodeRows) prefill_k<FQ4_K>(y, ldy, xq, w, T, K, n0, n1);
    else decode_k<DQ4_K, BlockQ4_K>(y, ldy, xq, w, T, K, n0, n1);
  } else if (dt == DType::Q6_K) {
    if (T > kDecodeRows) prefill_k<FQ6_K>(y, ldy, xq, w, T, K, n0, n1);
    else decode_k<DQ6_K, BlockQ6_K>(y, ldy, xq, w, T, K, n0, n1);
  } else {
    unsupported_quant_dtype(dt);
  }
}

}  // namespace tgv
