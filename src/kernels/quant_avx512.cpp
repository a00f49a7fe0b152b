// AVX-512 VNNI integer dot products for block-quantized weights (quant.h): the
// matmul_quant of the avx512 kernel set, every weight format (quant_avx2.cpp explains the
// block arithmetic), and the Q8_0 / Q8_1 activation quantizers.
//
// matmul() has quantized the input rows to Q8_0 (Q8_1 for Q4_1 / Q5_1, Q8_K for Q4_K /
// Q6_K). Every weight is made an unsigned byte u = q + o (Q4_0: the nibble, o = 8; Q5_0:
// o = 16; Q8_0: q xor 0x80, o = 128; Q4_1 / Q5_1 / Q4_K: o = 0; Q6_K: o = 32), so that one
// vpdpbusd (unsigned bytes x signed bytes, four products summed into each int32 lane)
// does 64 multiply-adds, and
//   sum_k q_k x_k = sum_k u_k x_k - o * sum_k x_k
// where the second term depends on the activations alone (for the 32-blocks it is
// computed once per call and is where each block's int32 accumulator starts; for Q6_K it
// comes from Q8_K's bsums). The integers are exactly those of the scalar
// QuantFormat::vec_dot; then, per block,
//   y += d_w * d_x * sum_k q_k x_k      (+ m_w * s_x for Q4_1 / Q5_1)
// in float, the only place where the order of rounding differs from the scalar code
// (the K-formats: sub-block scales multiply int32 lanes, vpmulld, before that).
//
// Two loops, chosen by the number of input rows T:
//
//   T <= 4 (decode): weights streamed once, straight from their blocks, one weight row
//     at a time for T = 1 (4 per tile for T = 2..4). Blocks of 32: four blocks go into
//     two zmm, weights 0..15 of each block in one and 16..31 in the other, each block in
//     its own 128-bit lane, so the lanes of one block share one scale. K-formats: a
//     super-block in four zmm. The input rows are rearranged the same way once per call
//     (XGroup, XK), so each activation vector is one aligned load.
//
//   T >= 5 (prefill; not Q8_0, whose many-row products are float GEMMs: kernel_sets.h):
//     16 weight rows are packed once per call into a panel, as a GEMM
//     packs B: per block, vectors whose 32-bit lane n holds weights 4s..4s+3 of row n
//     (already unsigned), then the 16 rows' scales. The unpacking (nibbles, fifth bits,
//     halves, 6-bit scales) happens once per weight instead of once per tile of input
//     rows. The micro-kernel multiplies the panel with 8 input rows: each input row's
//     four bytes 4s..4s+3 are broadcast against vector s, so 8 vpdpbusd per row and block
//     of 32 give 16 outputs' exact block sums, then one convert and one FMA.
//
// Compiled with the AVX-512 flags (kernels_avx512.cpp); every helper stays in the
// anonymous namespace (`nm -C quant_avx512.cpp.o | grep " W "` prints nothing).
#include "kernels/quant_avx512.h"

#include "kernels/kernel_sets.h"

namespace tgv {

namespace {

// ---- the formats ------------------------------------------------------------------------
// For each: W its block, X the activation block, kOffset the o above, kMin whether
// there is an m * s term. group(): four consecutive blocks as (lo, hi) for the decode
// loop. bytes(): one block's 32 unsigned weights in order, for packing (Q8_0 has none:
// its products with more than one row are the float GEMM's, fast_quant_reads_xq).

inline __m256i nibbles16(const uint8_t* p) {  // 16 bytes -> 32 nibbles, low ones first
  const __m128i b = load16(p);
  return _mm256_and_si256(_mm256_set_m128i(_mm_srli_epi16(b, 4), b), _mm256_set1_epi8(0x0F));
}

template <class B>
inline void nibble_group(__m512i& lo, __m512i& hi, const B* b) {
  const __m512i v = lanes4(b[0].qs, b[1].qs, b[2].qs, b[3].qs);
  lo = _mm512_and_si512(v, _mm512_set1_epi8(0x0F));
  hi = _mm512_and_si512(_mm512_srli_epi16(v, 4), _mm512_set1_epi8(0x0F));
}

// The fifth bits of four Q5 blocks: bit j of qh is weight j's; lo holds weights 0..15 of
// each block, hi 16..31.
template <class B>
inline void fifth_bits(__m512i& lo, __m512i& hi, const B* b) {
  uint64_t l = 0, h = 0;
  for (int j = 0; j < 4; j++) {
    const uint32_t qh = static_cast<uint32_t>(load_i32(b[j].qh));
    l |= static_cast<uint64_t>(qh & 0xFFFF) << (16 * j);
    h |= static_cast<uint64_t>(qh >> 16) << (16 * j);
  }
  const __m512i sixteen = _mm512_set1_epi8(16);
  lo = _mm512_mask_add_epi8(lo, static_cast<__mmask64>(l), lo, sixteen);
  hi = _mm512_mask_add_epi8(hi, static_cast<__mmask64>(h), hi, sixteen);
}

inline __m256i fifth_bits32(__m256i v, const uint8_t* qh) {
  return _mm256_mask_add_epi8(v, static_cast<__mmask32>(load_i32(qh)), v, _mm256_set1_epi8(16));
}

struct FQ8_0 {
  using W = BlockQ8_0;
  using X = BlockQ8_0;
  static constexpr int kOffset = 128;
  static constexpr bool kMin = false;
  static void group(__m512i& lo, __m512i& hi, const W* b) {
    const __m512i flip = _mm512_set1_epi8(static_cast<char>(0x80));
    lo = _mm512_xor_si512(lanes4(b[0].qs, b[1].qs, b[2].qs, b[3].qs), flip);
    hi = _mm512_xor_si512(lanes4(b[0].qs + 16, b[1].qs + 16, b[2].qs + 16, b[3].qs + 16), flip);
  }
};

struct FQ4_0 {
  using W = BlockQ4_0;
  using X = BlockQ8_0;
  static constexpr int kOffset = 8;
  static constexpr bool kMin = false;
  static void group(__m512i& lo, __m512i& hi, const W* b) { nibble_group(lo, hi, b); }
  static __m256i bytes(const W& b) { return nibbles16(b.qs); }
};

struct FQ5_0 {
  using W = BlockQ5_0;
  using X = BlockQ8_0;
  static constexpr int kOffset = 16;
  static constexpr bool kMin = false;
  static void group(__m512i& lo, __m512i& hi, const W* b) {
    nibble_group(lo, hi, b);
    fifth_bits(lo, hi, b);
  }
  static __m256i bytes(const W& b) { return fifth_bits32(nibbles16(b.qs), b.qh); }
};

struct FQ4_1 {
  using W = BlockQ4_1;
  using X = BlockQ8_1;
  static constexpr int kOffset = 0;
  static constexpr bool kMin = true;
  static void group(__m512i& lo, __m512i& hi, const W* b) { nibble_group(lo, hi, b); }
  static __m256i bytes(const W& b) { return nibbles16(b.qs); }
};

struct FQ5_1 {
  using W = BlockQ5_1;
  using X = BlockQ8_1;
  static constexpr int kOffset = 0;
  static constexpr bool kMin = true;
  static void group(__m512i& lo, __m512i& hi, const W* b) {
    nibble_group(lo, hi, b);
    fifth_bits(lo, hi, b);
  }
  static __m256i bytes(const W& b) { return fifth_bits32(nibbles16(b.qs), b.qh); }
};

inline uint16_t act_s(const BlockQ8_0&) { return 0; }
inline uint16_t act_s(const BlockQ8_1& x) { return x.s; }

// ---- decode: T <= 4 (kDecodeRows) ------------------------------------------------------------

// Four activation blocks laid out as group() lays out four weight blocks.
struct alignas(64) XGroup {
  int8_t lo[64], hi[64];  // lane j: block j's activations 0..15 / 16..31
  int32_t start[16];      // where each int32 lane starts: -o * (its 8 activations' sum)
  float d[16];            // lanes 4j..4j+3: block j's d
  float s[4];             // block j's s (Q8_1)
};

// Row t of xq (nb blocks) -> ng = ceil(nb / 4) groups; blocks past nb are zero.
template <class F>
void prepare_groups(XGroup* g, const typename F::X* x, int nb) {
  const int ng = (nb + 3) / 4;
  for (int q = 0; q < ng; q++) {
    XGroup& o = g[q];
    std::memset(&o, 0, sizeof o);
    for (int j = 0; j < 4 && 4 * q + j < nb; j++) {
      const typename F::X& b = x[4 * q + j];
      std::memcpy(o.lo + 16 * j, b.qs, 16);
      std::memcpy(o.hi + 16 * j, b.qs + 16, 16);
      for (int l = 0; l < 4; l++) o.d[4 * j + l] = half(b.d);
      o.s[j] = half(act_s(b));
    }
    const __m512i off = _mm512_set1_epi8(static_cast<char>(F::kOffset));
    const __m512i lo = _mm512_load_si512(o.lo), hi = _mm512_load_si512(o.hi);
    const __m512i sum = _mm512_dpbusd_epi32(_mm512_dpbusd_epi32(_mm512_setzero_si512(), off, lo), off, hi);
    _mm512_store_si512(o.start, _mm512_sub_epi32(_mm512_setzero_si512(), sum));
  }
}

// y[t, n0 + j] for t < RT, j < RN. w: row n0's blocks, rows nb blocks apart. xg: RT rows of ng groups.
template <class F, int RT, int RN>
void decode_tile(float* y, int ldy, const XGroup* xg, const typename F::W* w, int nb, int n0) {
  using W = typename F::W;
  const int ng = (nb + 3) / 4, full = nb / 4;
  __m512 acc[RT][RN];
  __m128 macc[RT][RN];
  for (int i = 0; i < RT; i++)
    for (int j = 0; j < RN; j++) {
      acc[i][j] = _mm512_setzero_ps();
      macc[i][j] = _mm_setzero_ps();
    }
  for (int q = 0; q < ng; q++) {
    __m512i lo[RN], hi[RN];
    __m512 dw[RN];
    __m128 mw[RN];
    for (int j = 0; j < RN; j++) {
      const W* b = w + static_cast<size_t>(j) * nb + 4 * q;
      for (size_t o = 0; o < 4 * sizeof(W); o += 64) _mm_prefetch(reinterpret_cast<const char*>(b) + kPrefetchBytes + o, _MM_HINT_T0);
      W pad[4];
      if (q >= full) {  // the last, partial group: zero blocks (d = 0) after the row's end
        std::memset(pad, 0, sizeof pad);
        std::memcpy(pad, b, sizeof(W) * static_cast<size_t>(nb - 4 * q));
        b = pad;
      }
      F::group(lo[j], hi[j], b);
      dw[j] = scales4(b);
      if constexpr (F::kMin)
        mw[j] = _mm_cvtph_ps(_mm_setr_epi16(static_cast<short>(b[0].m), static_cast<short>(b[1].m), static_cast<short>(b[2].m),
                                            static_cast<short>(b[3].m), 0, 0, 0, 0));
    }
    for (int i = 0; i < RT; i++) {
      const XGroup& x = xg[static_cast<size_t>(i) * ng + q];
      const __m512i xlo = _mm512_load_si512(x.lo), xhi = _mm512_load_si512(x.hi), start = _mm512_load_si512(x.start);
      const __m512 dx = _mm512_load_ps(x.d);
      for (int j = 0; j < RN; j++) {
        const __m512i s = _mm512_dpbusd_epi32(_mm512_dpbusd_epi32(start, lo[j], xlo), hi[j], xhi);
        acc[i][j] = _mm512_fmadd_ps(_mm512_cvtepi32_ps(s), _mm512_mul_ps(dw[j], dx), acc[i][j]);
        if constexpr (F::kMin) macc[i][j] = _mm_fmadd_ps(mw[j], _mm_load_ps(x.s), macc[i][j]);
      }
    }
  }
  for (int i = 0; i < RT; i++)
    for (int j = 0; j < RN; j++) {
      float v = hsum(acc[i][j]);
      if constexpr (F::kMin) {
        __m128 m = macc[i][j];
        m = _mm_add_ps(m, _mm_movehl_ps(m, m));
        m = _mm_add_ss(m, _mm_movehdup_ps(m));
        v += _mm_cvtss_f32(m);
      }
      y[static_cast<size_t>(i) * ldy + n0 + j] = v;
    }
}

template <class F, int RT>
void decode_rows(float* y, int ldy, const XGroup* xg, const typename F::W* w, int nb, int n0, int n1) {
  // One input row: one weight row at a time, so the matrix is read as one sequential
  // stream (one thread, bench_quant: ~25 GB/s, against 13-20 GB/s with 2 to 8 rows
  // interleaved). 2 to 4 input rows: 4 weight rows per tile, each unpacked group used RT times.
  constexpr int kRN = RT == 1 ? 1 : 4;
  int n = n0;
  for (; n + kRN <= n1; n += kRN) decode_tile<F, RT, kRN>(y, ldy, xg, w + static_cast<size_t>(n) * nb, nb, n);
  for (; n + 4 <= n1; n += 4) decode_tile<F, RT, 4>(y, ldy, xg, w + static_cast<size_t>(n) * nb, nb, n);
  switch (n1 - n) {
    case 1: decode_tile<F, RT, 1>(y, ldy, xg, w + static_cast<size_t>(n) * nb, nb, n); break;
    case 2: decode_tile<F, RT, 2>(y, ldy, xg, w + static_cast<size_t>(n) * nb, nb, n); break;
    case 3: decode_tile<F, RT, 3>(y, ldy, xg, w + static_cast<size_t>(n) * nb, nb, n); break;
    default: break;
  }
}

template <class F>
void decode(float* y, int ldy, const void* xq_bytes, const void* w_bytes, int T, int K, int n0, int n1) {
  const auto* xq = static_cast<const typename F::X*>(xq_bytes);
  const auto* w = static_cast<const typename F::W*>(w_bytes);
  const int nb = K / kQK, ng = (nb + 3) / 4;
  Scratch scratch(sizeof(XGroup) * static_cast<size_t>(ng) * static_cast<size_t>(T));
  auto* xg = static_cast<XGroup*>(scratch.p);
  for (int t = 0; t < T; t++) prepare_groups<F>(xg + static_cast<size_t>(t) * ng, xq + static_cast<size_t>(t) * nb, nb);
  switch (T) {
    case 1: decode_rows<F, 1>(y, ldy, xg, w, nb, n0, n1); break;
    case 2: decode_rows<F, 2>(y, ldy, xg, w, nb, n0, n1); break;
    case 3: decode_rows<F, 3>(y, ldy, xg, w, nb, n0, n1); break;
    default: decode_rows<F, 4>(y, ldy, xg, w, nb, n0, n1); break;
  }
}

// ---- prefill: T >= 5 ------------------------------------------------------------------------

// Per input row and block: d, s (Q8_1) and the start of the int32 sum, -o * sum x.
struct XInfo {
  float d, s;
  int32_t start;
  int32_t unused;
};

template <class F>
void prepare_info(XInfo* info, const typename F::X* x, size_t blocks) {
  for (size_t b = 0; b < blocks; b++) {
    const __m256i v = load32(x[b].qs);
    // sum of 32 signed bytes: maddubs with 1 -> int16 pairs, madd -> int32, reduce
    const __m256i p = _mm256_madd_epi16(_mm256_maddubs_epi16(_mm256_set1_epi8(1), v), _mm256_set1_epi16(1));
    __m128i s = _mm_add_epi32(_mm256_castsi256_si128(p), _mm256_extracti128_si256(p, 1));
    s = _mm_add_epi32(s, _mm_shuffle_epi32(s, 0x4E));
    s = _mm_add_epi32(s, _mm_shuffle_epi32(s, 0xB1));
    info[b].d = half(x[b].d);
    info[b].s = half(act_s(x[b]));
    info[b].start = -F::kOffset * _mm_cvtsi128_si32(s);
    info[b].unused = 0;
  }
}

// One packed block of a panel: vector s (64 bytes) holds weights 4s..4s+3 of row n in
// its lane n, for s = 0..7; then the 16 rows' d, then (kMin) their m, as floats.
template <class F>
constexpr size_t panel_block_bytes() { return 8 * 64 + 64 + (F::kMin ? 64 : 0); }

// Rows n..n+rows-1 (rows <= 16; the missing rows are zeros) of every block -> panel.
template <class F>
void pack_panel(uint8_t* panel, const typename F::W* w, int nb, int rows) {
  using W = typename F::W;
  static_assert(offsetof(W, d) == 0, "the gather below reads d (and m) as the block's first 32-bit word");
  const __mmask16 valid = static_cast<__mmask16>((1u << rows) - 1);
  // byte offset of row n's block from row 0's
  const __m512i row_offset = _mm512_mullo_epi32(_mm512_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15),
                                                _mm512_set1_epi32(nb * static_cast<int>(sizeof(W))));
  for (int b = 0; b < nb; b++) {
    uint8_t* out = panel + static_cast<size_t>(b) * panel_block_bytes<F>();
    __m512i z[8];  // z[i] = [row i | row i + 8], 8 dwords each
    for (int i = 0; i < 8; i++) {
      __m256i r[2];
      for (int h = 0; h < 2; h++) {
        const int n = i + 8 * h;
        r[h] = n < rows ? F::bytes(w[static_cast<size_t>(n) * nb + b]) : _mm256_setzero_si256();
      }
      z[i] = _mm512_inserti64x4(_mm512_zextsi256_si512(r[0]), r[1], 1);
    }
    // 8 x 8 transpose of dwords inside each 256-bit half (rows 0-7, rows 8-15).
    __m512i t[8], u[8];
    for (int i = 0; i < 4; i++) {
      t[2 * i] = _mm512_unpacklo_epi32(z[2 * i], z[2 * i + 1]);
      t[2 * i + 1] = _mm512_unpackhi_epi32(z[2 * i], z[2 * i + 1]);
    }
    for (int i = 0; i < 2; i++) {  // rows 4i..4i+3: u[4i + c] holds dword c (lane 0/2) and c + 4 (lane 1/3)
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
    // The 16 rows' first words (d, and m for Q4_1 / Q5_1) in one gather.
    const __m512i dm = _mm512_mask_i32gather_epi32(_mm512_setzero_si512(), valid, row_offset, w + b, 1);
    _mm512_store_ps(out + 512, _mm512_cvtph_ps(_mm512_cvtepi32_epi16(dm)));
    if constexpr (F::kMin) {
      static_assert(offsetof(W, m) == 2, "m right after d");
      _mm512_store_ps(out + 576, _mm512_cvtph_ps(_mm512_cvtepi32_epi16(_mm512_srli_epi32(dm, 16))));
    }
  }
}

// y[t0 + i, n .. n + 15] for i < RT (only the first `rows` columns stored).
template <class F, int RT>
void prefill_tile(float* y, int ldy, const uint8_t* panel, const typename F::X* xq, const XInfo* info, int nb, int t0,
                  int n, __mmask16 store) {
  const typename F::X* xr[RT];
  const XInfo* ir[RT];
  for (int i = 0; i < RT; i++) {
    xr[i] = xq + static_cast<size_t>(t0 + i) * nb;
    ir[i] = info + static_cast<size_t>(t0 + i) * nb;
  }
  __m512 acc[RT];
  for (int i = 0; i < RT; i++) acc[i] = _mm512_setzero_ps();
  for (int b = 0; b < nb; b++) {
    const uint8_t* p = panel + static_cast<size_t>(b) * panel_block_bytes<F>();
    __m512i s[RT];
    for (int i = 0; i < RT; i++) s[i] = _mm512_set1_epi32(ir[i][b].start);
    for (int k = 0; k < 8; k++) {
      const __m512i wk = _mm512_load_si512(p + 64 * k);
      for (int i = 0; i < RT; i++) s[i] = _mm512_dpbusd_epi32(s[i], wk, _mm512_set1_epi32(load_i32(xr[i][b].qs + 4 * k)));
    }
    const __m512 dw = _mm512_load_ps(p + 512);
    for (int i = 0; i < RT; i++) acc[i] = _mm512_fmadd_ps(_mm512_cvtepi32_ps(s[i]), _mm512_mul_ps(dw, _mm512_set1_ps(ir[i][b].d)), acc[i]);
    if constexpr (F::kMin) {
      const __m512 mw = _mm512_load_ps(p + 576);
      for (int i = 0; i < RT; i++) acc[i] = _mm512_fmadd_ps(mw, _mm512_set1_ps(ir[i][b].s), acc[i]);
    }
  }
  for (int i = 0; i < RT; i++) _mm512_mask_storeu_ps(y + static_cast<size_t>(t0 + i) * ldy + n, store, acc[i]);
}

template <class F>
void prefill(float* y, int ldy, const void* xq_bytes, const void* w_bytes, int T, int K, int n0, int n1) {
  const auto* xq = static_cast<const typename F::X*>(xq_bytes);
  const auto* w = static_cast<const typename F::W*>(w_bytes);
  const int nb = K / kQK;
  Scratch info_buf(sizeof(XInfo) * static_cast<size_t>(T) * nb), panel_buf(panel_block_bytes<F>() * static_cast<size_t>(nb));
  auto* info = static_cast<XInfo*>(info_buf.p);
  auto* panel = static_cast<uint8_t*>(panel_buf.p);
  prepare_info<F>(info, xq, static_cast<size_t>(T) * nb);
  for (int n = n0; n < n1; n += kPanel) {
    const int rows = n1 - n < kPanel ? n1 - n : kPanel;
    pack_panel<F>(panel, w + static_cast<size_t>(n) * nb, nb, rows);
    const __mmask16 store = static_cast<__mmask16>((1u << rows) - 1);
    int t = 0;
    for (; t + kRows <= T; t += kRows) prefill_tile<F, kRows>(y, ldy, panel, xq, info, nb, t, n, store);
    switch (T - t) {
      case 1: prefill_tile<F, 1>(y, ldy, panel, xq, info, nb, t, n, store); break;
      case 2: prefill_tile<F, 2>(y, ldy, panel, xq, info, nb, t, n, store); break;
      case 3: prefill_tile<F, 3>(y, ldy, panel, xq, info, nb, t, n, store); break;
      case 4: prefill_tile<F, 4>(y, ldy, panel, xq, info, nb, t, n, store); break;
      case 5: prefill_tile<F, 5>(y, ldy, panel, xq, info, nb, t, n, store); break;
      case 6: prefill_tile<F, 6>(y, ldy, panel, xq, info, nb, t, n, store); break;
      case 7: prefill_tile<F, 7>(y, ldy, panel, xq, info, nb, t, n, store); break;
      default: break;
    }
  }
}


template <class F>
void matmul_blocks(float* y, int ldy, const void* xq, const void* w, int T, int K, int n0, int n1) {
  if (n1 <= n0) return;
  if (T <= kDecodeRows) decode<F>(y, ldy, xq, w, T, K, n0, n1);
  else prefill<F>(y, ldy, xq, w, T, K, n0, n1);
}

// ---- activation quantization ----------------------------------------------------------------
// quantize_row_q8_0 / quantize_row_q8_1 / quantize_row_q8_K (src/quant/) 16 values per instruction, the same
// bytes for finite inputs: max is exact in any order, d = amax / 127 and 1 / d are the
// same IEEE divisions, the half conversion is the scalar function's, and std::round (half
// away from zero) is rebuilt exactly: t = trunc(v), plus sign(v) when |v - t| >= 0.5
// (v - t is exact for |v| < 2^23, and |v * id| <= 127 here).

inline __m512i round_away(__m512 v) {
  const __m512 t = _mm512_roundscale_ps(v, _MM_FROUND_TO_ZERO | _MM_FROUND_NO_EXC);
  const __mmask16 up = _mm512_cmp_ps_mask(_mm512_abs_ps(_mm512_sub_ps(v, t)), _mm512_set1_ps(0.5f), _CMP_GE_OQ);
  const __m512 one = _mm512_or_ps(_mm512_set1_ps(1.0f), _mm512_and_ps(v, _mm512_set1_ps(-0.0f)));  // copysign(1, v)
  return _mm512_cvttps_epi32(_mm512_mask_add_ps(t, up, t, one));
}

// One block of 32: the codes into qs, returns d (before its rounding to half) and, in
// *sum, the sum of the codes.
inline float quantize32(int8_t* qs, const float* v, int* sum) {
  const __m512 a = _mm512_loadu_ps(v), b = _mm512_loadu_ps(v + 16);
  const float amax = _mm512_reduce_max_ps(_mm512_max_ps(_mm512_abs_ps(a), _mm512_abs_ps(b)));
  const float d = amax / 127.0f;
  const float id = d != 0 ? 1.0f / d : 0.0f;
  const __m512i qa = round_away(_mm512_mul_ps(a, _mm512_set1_ps(id)));
  const __m512i qb = round_away(_mm512_mul_ps(b, _mm512_set1_ps(id)));
  _mm_storeu_si128(reinterpret_cast<__m128i*>(qs), _mm512_cvtepi32_epi8(qa));
  _mm_storeu_si128(reinterpret_cast<__m128i*>(qs + 16), _mm512_cvtepi32_epi8(qb));
  *sum = _mm512_reduce_add_epi32(_mm512_add_epi32(qa, qb));
  return d;
}

void quantize_row_q8_0_avx512(void* out, const float* x, size_t n) {
  auto* o = static_cast<BlockQ8_0*>(out);
  for (size_t b = 0; b < n / kQK; b++) {
    int sum;
    o[b].d = f32_to_f16(quantize32(o[b].qs, x + b * kQK, &sum));
  }
}

void quantize_row_q8_1_avx512(void* out, const float* x, size_t n) {
  auto* o = static_cast<BlockQ8_1*>(out);
  for (size_t b = 0; b < n / kQK; b++) {
    int sum;
    const float d = quantize32(o[b].qs, x + b * kQK, &sum);
    o[b].d = f32_to_f16(d);
    o[b].s = f32_to_f16(static_cast<float>(sum) * d);
  }
}

// quantize_row_q8_K: the value of largest |v| (the first such, with its sign) sets
// iscale = -127 / max; q = min(127, nearest_int(iscale * v)), nearest_int rounding to
// even (vcvtps2dq with that rounding); 16 sums of 16; d = 1 / iscale.
void quantize_row_q8_K_avx512(void* out, const float* x, size_t n) {
  auto* o = static_cast<BlockQ8_K*>(out);
  for (size_t b = 0; b < n / kQK_K; b++) {
    const float* v = x + b * kQK_K;
    __m512 amax16 = _mm512_setzero_ps();
    for (int i = 0; i < 16; i++) amax16 = _mm512_max_ps(_mm512_abs_ps(_mm512_loadu_ps(v + 16 * i)), amax16);
    const float amax = _mm512_reduce_max_ps(amax16);
    BlockQ8_K& q = o[b];
    if (amax == 0) {
      std::memset(&q, 0, sizeof q);
      continue;
    }
    int first = 0;  // the first j with |v_j| == amax
    for (int i = 0; i < 16; i++) {
      const __mmask16 hit = _mm512_cmp_ps_mask(_mm512_abs_ps(_mm512_loadu_ps(v + 16 * i)), _mm512_set1_ps(amax), _CMP_EQ_OQ);
      if (hit) {
        first = 16 * i + __builtin_ctz(hit);
        break;
      }
    }
    const float iscale = -127.0f / v[first];
    for (int i = 0; i < 16; i++) {
      const __m512 f = _mm512_mul_ps(_mm512_set1_ps(iscale), _mm512_loadu_ps(v + 16 * i));
      __m512i c = _mm512_cvt_roundps_epi32(f, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
      c = _mm512_min_epi32(c, _mm512_set1_epi32(127));
      _mm_storeu_si128(reinterpret_cast<__m128i*>(q.qs + 16 * i), _mm512_cvtepi32_epi8(c));
      q.bsums[i] = static_cast<int16_t>(_mm512_reduce_add_epi32(c));
    }
    q.d = 1 / iscale;
  }
}

}  // namespace

QuantizeRowFn quantize_row_avx512(DType activation) {
  switch (activation) {
    case DType::Q8_0: return quantize_row_q8_0_avx512;
    case DType::Q8_1: return quantize_row_q8_1_avx512;
    case DType::Q8_K: return quantize_row_q8_K_avx512;
    default: return nullptr;
  }
}

void matmul_quant_avx512(float* y, int ldy, const float* x, const void* xq, DType dt, const void* w, int T, int K, int n0, int n1) {
  switch (dt) {
    case DType::Q8_0:  // T > 1: the float GEMM on the exact weights (fast_quant_reads_xq)
      if (!fast_quant_reads_xq(dt, T)) gemm_q8_0_avx512(y, ldy, x, w, T, K, n0, n1);
      else if (n1 > n0) decode<FQ8_0>(y, ldy, xq, w, T, K, n0, n1);
      break;
    case DType::Q4_0: matmul_blocks<FQ4_0>(y, ldy, xq, w, T, K, n0, n1); break;
    case DType::Q5_0: matmul_blocks<FQ5_0>(y, ldy, xq, w, T, K, n0, n1); break;
    case DType::Q4_1: matmul_blocks<FQ4_1>(y, ldy, xq, w, T, K, n0, n1); break;
    case DType::Q5_1: matmul_blocks<FQ5_1>(y, ldy, xq, w, T, K, n0, n1); break;
    case DType::Q4_K:
    case DType::Q6_K: matmul_quant_k_avx512(y, ldy, xq, dt, w, T, K, n0, n1); break;
    default: matmul_quant_avx2(y, ldy, x, xq, dt, w, T, K, n0, n1); break;
  }
}

}  // namespace tgv
