// Multi-head scaled dot-product attention over a key/value block (or KV cache), tiled
// with an online softmax (the FlashAttention scheme): no [Tq, Tk] score matrix is ever
// made, only one [BQ, BK] tile per thread.
//
// For one head and a block of up to BQ = 64 queries, keys are visited in blocks of
// BK = 128. Each query row i keeps a running maximum m_i, a running sum l_i and an
// unnormalised output o_i [head_dim]:
//     s_j   = scale * q_i . k_j                       (tile S = Q_blk K_blk^T: a matmul kernel)
//     m'    = max(m_i, max_j s_j)
//     p_j   = exp(s_j - m'),  l_i = l_i exp(m_i - m') + sum_j p_j     (kernels' exp_sum)
//     o_i   = o_i exp(m_i - m') + sum_j p_j v_j         (tile P V_blk: a matmul kernel)
// and at the end out_i = o_i / l_i. Scores, softmax and sums are float32 (Phi-2's QK^T
// must be accumulated in fp32: it overflows fp16). Causal: query t sees keys
// j <= q_pos0 + t; key blocks wholly in the future are skipped, the rest masked.
//
// The tiles go through the active KernelSet's matmul_f32 (the packed GEMM for 4 or
// more query rows), on Q, K and V^T copied into contiguous [rows, head_dim] /
// [head_dim, keys] buffers (a copy of O(BK * head_dim) per tile of O(BQ * BK * head_dim)
// work). V^T itself is made once per call for every head (transpose_values): made again
// for each query block, the transposes cost about what the products did at 1,025 tokens.
// Parallel over (head, query block) pairs.
//
// Fewer than 4 queries (decode: one per generated token) take another loop, attend_rows:
// a copy would cost as much as the work, and one head's keys are a row of all heads
// apart in the KV cache (D floats: 10 KB in Phi-2), so walking them head by head touches
// a new page for every key of every head. Instead the visible keys are cut into chunks
// of kKeyChunk = 64 cache rows, and each chunk (attend_chunk, one per pool job) reads its
// rows whole and in order, every head at once: the set's head_dots for the scores and
// head_axpys for the values, one kernel call per row. A chunk keeps its own softmax
// pieces (maximum m, sum l, unnormalised output o, per head), and the chunks are merged
// in order at the end, as the online softmax above merges key blocks. Each thread thus
// streams whole rows, not half of every row.
//
// Neither split depends on the thread count (the chunks are fixed, the merge is in chunk
// order), so results do not depend on it.
//
// Keys and values may be float32 or float16 (an F16 KV cache, half the bytes a decode
// step reads from it). Float16 rows are converted (exactly, kernels' convert_f16) into
// the tiles attend_block copies anyway, and attend_chunk converts each row into a small
// buffer before the dots and axpys: the arithmetic after that is the float32 code's, on
// the same values.
#include <algorithm>
#include <cmath>
#include <limits>
#include <vector>

#include "tinygptv/layers.h"
#include "tinygptv/thread_pool.h"

namespace tgv {

namespace {

constexpr int BQ = 64;      // queries per block
constexpr int BK = 128;     // keys per block
constexpr int kCopyRows = 4;  // from this many queries on, tiles go through copies + matmul (attend_block)
constexpr int kKeyChunk = 64;  // decode: keys per chunk (fixed: the split never depends on the thread count)

// Scratch of one thread: the tiles of one (head, query block) pair.
struct Tiles {
  std::vector<float> q, k, vt, s, pv, o, m, l;  // [BQ,hd] [BK,hd] [hd,BK] [BQ,BK] [BQ,hd] [BQ,hd] [BQ] [BQ]
  explicit Tiles(int hd)
      : q(static_cast<size_t>(BQ) * hd), k(static_cast<size_t>(BK) * hd), vt(static_cast<size_t>(hd) * BK),
        s(static_cast<size_t>(BQ) * BK), pv(static_cast<size_t>(BQ) * hd), o(static_cast<size_t>(BQ) * hd), m(BQ), l(BQ) {}
};

template <class E>  // the element type of k and v: float or uint16_t (float16)
struct Problem {
  const float* q;
  const E *k, *v;
  int q_stride, kv_stride, Tk, head_dim;
  float scale;
  bool causal;
  int q_pos0;
};

// n elements of k or v as float32 at dst (a copy, or the exact conversion of float16).
inline void load(float* dst, const float* src, int n) { std::copy(src, src + n, dst); }
inline void load(float* dst, const uint16_t* src, int n) { kernels().convert_f16(dst, src, n); }
// n elements of k or v as float32: src itself, or converted into scratch.
inline const float* as_f32(const float* src, int, float*) { return src; }
inline const float* as_f32(const uint16_t* src, int n, float* scratch) {
  load(scratch, src, n);
  return scratch;
}

// s[j] *= scale for j < n; returns the largest s[j] (-inf for n = 0). Eight running
// maxima: with one, every step waits for the previous max (4 cycles), and this loop was
// then as long as the two tile products. The maximum is exact, whatever the order.
inline float scale_and_max(float* s, int n, float scale) {
  constexpr int kLanes = 8;
  float mx[kLanes];
  std::fill(mx, mx + kLanes, -std::numeric_limits<float>::infinity());
  int j = 0;
  for (; j + kLanes <= n; j += kLanes)
    for (int u = 0; u < kLanes; u++) {
      s[j + u] *= scale;
      mx[u] = std::max(mx[u], s[j + u]);
    }
  for (; j < n; j++) {
    s[j] *= scale;
    mx[0] = std::max(mx[0], s[j]);
  }
  return *std::max_element(mx, mx + kLanes);
}

// V^T of every head as float32: vt[(h * head_dim + d) * Tk + j] = v[j, h * head_dim + d].
// Blocks of 16 keys: their rows are read whole, the writes are runs of 16 floats.
template <class E>
void transpose_values(float* vt, const Problem<E>& P, int heads) {
  const int hd = P.head_dim, Tk = P.Tk;
  constexpr int kKeys = 16;
  parallel_for(static_cast<size_t>(heads), [&](size_t h0, size_t h1) {
    std::vector<float> rows(static_cast<size_t>(kKeys) * hd);  // float16 rows, converted
    for (size_t h = h0; h < h1; h++) {
      float* dst = vt + h * hd * Tk;
      for (int j0 = 0; j0 < Tk; j0 += kKeys) {
        const int nk = std::min(kKeys, Tk - j0);
        const float* v[kKeys];
        for (int j = 0; j < nk; j++)
          v[j] = as_f32(P.v + static_cast<size_t>(j0 + j) * P.kv_stride + h * hd, hd, rows.data() + static_cast<size_t>(j) * hd);
        for (int d = 0; d < hd; d++)
          for (int j = 0; j < nk; j++) dst[static_cast<size_t>(d) * Tk + j0 + j] = v[j][d];
      }
    }
  });
}

// Queries t0 .. t0+bq-1 of head h -> out (a last block of fewer than kCopyRows queries
// too: rare, and the copies then cost about as much as the work). vt: head h's V^T
// [head_dim, Tk] (transpose_values).
template <class E>
void attend_block(float* out, int out_stride, const Problem<E>& P, const float* vt, int h, int t0, int bq, Tiles& w) {
  const KernelSet& ks = kernels();
  const int hd = P.head_dim;
  const size_t col = static_cast<size_t>(h) * hd;
  auto q_row = [&](int i) { return P.q + static_cast<size_t>(t0 + i) * P.q_stride + col; };
  auto k_row = [&](int j) { return P.k + static_cast<size_t>(j) * P.kv_stride + col; };
  // keys visible to query i: [0, visible(i))
  auto visible = [&](int i) { return P.causal ? std::min(P.Tk, P.q_pos0 + t0 + i + 1) : P.Tk; };

  for (int i = 0; i < bq; i++) std::copy(q_row(i), q_row(i) + hd, w.q.data() + static_cast<size_t>(i) * hd);
  std::fill(w.o.begin(), w.o.begin() + static_cast<size_t>(bq) * hd, 0.0f);
  std::fill(w.m.begin(), w.m.end(), -std::numeric_limits<float>::infinity());
  std::fill(w.l.begin(), w.l.end(), 0.0f);

  const int keys = visible(bq - 1);  // the last query sees the most keys
  for (int j0 = 0; j0 < keys; j0 += BK) {
    const int bk = std::min(BK, keys - j0);
    // S [bq, bk] = Q_blk K_blk^T
    for (int j = 0; j < bk; j++) load(w.k.data() + static_cast<size_t>(j) * hd, k_row(j0 + j), hd);
    ks.matmul_f32(w.s.data(), bk, w.q.data(), w.k.data(), bq, hd, 0, bk);
    // online softmax, row by row; p overwrites s (0 for masked keys)
    for (int i = 0; i < bq; i++) {
      float* s = w.s.data() + static_cast<size_t>(i) * bk;
      const int n = std::clamp(visible(i) - j0, 0, bk);
      const float block_max = scale_and_max(s, n, P.scale);
      std::fill(s + n, s + bk, 0.0f);
      if (n == 0) continue;
      const float m_new = std::max(w.m[i], block_max);
      const float alpha = std::exp(w.m[i] - m_new);  // 0 on the first block (m = -inf)
      w.l[i] = w.l[i] * alpha + ks.exp_sum(s, m_new, n);
      w.m[i] = m_new;
      if (alpha != 1.0f) {
        float* o = w.o.data() + static_cast<size_t>(i) * hd;
        for (int d = 0; d < hd; d++) o[d] *= alpha;
      }
    }
    // O += P V_blk   (V_blk^T: keys j0 .. j0+bk-1 of each row of V^T)
    for (int d = 0; d < hd; d++) {
      const float* src = vt + static_cast<size_t>(d) * P.Tk + j0;
      std::copy(src, src + bk, w.vt.data() + static_cast<size_t>(d) * bk);
    }
    ks.matmul_f32(w.pv.data(), hd, w.s.data(), w.vt.data(), bq, bk, 0, hd);
    ks.axpy(w.o.data(), 1.0f, w.pv.data(), bq * hd);  // o += pv: 1 * pv is exact, so the same sums as a plain add
  }
  for (int i = 0; i < bq; i++) {
    float* dst = out + static_cast<size_t>(t0 + i) * out_stride + col;
    const float* o = w.o.data() + static_cast<size_t>(i) * hd;
    const float inv = w.l[i] > 0 ? 1.0f / w.l[i] : 0.0f;  // l = 0 only when no key is visible
    for (int d = 0; d < hd; d++) dst[d] = o[d] * inv;
  }
}

// Cache row `row` (every head) as float32: the row itself (float32), or converted into
// buf (float16); head h's columns are then at the result + h * hd.
inline const float* row_f32(const float* row, int, std::vector<float>&) { return row; }
inline const float* row_f32(const uint16_t* row, int n, std::vector<float>& buf) {
  buf.resize(static_cast<size_t>(n));
  kernels().convert_f16(buf.data(), row, n);
  return buf.data();
}

// Keys [j0, j0 + nk) of query row q, every head -> this chunk's softmax pieces:
//   m[h] = max_j s_hj,  l[h] = sum_j exp(s_hj - m[h]),  o[h, :] = sum_j exp(s_hj - m[h]) v_j,h
template <class E>
void attend_chunk(float* m, float* l, float* o, const float* q, const Problem<E>& P, int heads, int j0, int nk) {
  const KernelSet& ks = kernels();
  const int hd = P.head_dim, D = heads * hd;
  thread_local std::vector<float> s, buf;  // [heads, nk] scores then probabilities; a row (float16)
  s.resize(static_cast<size_t>(heads) * nk);
  for (int j = 0; j < nk; j++) {  // s[h, j] = scale * q_h . k_j,h
    const float* k = row_f32(P.k + static_cast<size_t>(j0 + j) * P.kv_stride, D, buf);
    ks.head_dots(s.data() + j, static_cast<size_t>(nk), q, k, heads, hd, P.scale);
  }
  for (int h = 0; h < heads; h++) {
    float* sh = s.data() + static_cast<size_t>(h) * nk;
    m[h] = *std::max_element(sh, sh + nk);
    l[h] = ks.exp_sum(sh, m[h], nk);
  }
  std::fill(o, o + D, 0.0f);
  for (int j = 0; j < nk; j++) {  // o_h += p[h, j] v_j,h
    const float* v = row_f32(P.v + static_cast<size_t>(j0 + j) * P.kv_stride, D, buf);
    ks.head_axpys(o, s.data() + j, static_cast<size_t>(nk), v, heads, hd);
  }
}

// Decode: queries 0 .. Tq-1 (Tq < kCopyRows), every head -> out. The visible keys are
// cut into chunks of kKeyChunk (attend_chunk, in parallel), then merged in chunk order:
//   M = max_c m_c,  L = sum_c l_c exp(m_c - M),  out_h = (sum_c exp(m_c - M) o_c,h) / L
template <class E>
void attend_rows(float* out, int out_stride, const Problem<E>& P, int Tq, int heads) {
  const int hd = P.head_dim;
  const size_t D = static_cast<size_t>(heads) * hd;
  thread_local std::vector<float> m, l, o;  // [chunks, heads] [chunks, heads] [chunks, D]: reused, no allocation per token
  for (int i = 0; i < Tq; i++) {
    const int n = P.causal ? std::min(P.Tk, P.q_pos0 + i + 1) : P.Tk;  // visible keys
    const int chunks = (n + kKeyChunk - 1) / kKeyChunk;
    const float* q = P.q + static_cast<size_t>(i) * P.q_stride;
    m.resize(static_cast<size_t>(chunks) * heads);
    l.resize(static_cast<size_t>(chunks) * heads);
    o.resize(static_cast<size_t>(chunks) * D);
    // (the workers see these through pointers: each thread has its own thread_local vectors)
    float *mp = m.data(), *lp = l.data(), *op = o.data();
    parallel_for(static_cast<size_t>(chunks), [&](size_t c0, size_t c1) {
      for (size_t c = c0; c < c1; c++) {
        const int j0 = static_cast<int>(c) * kKeyChunk;
        attend_chunk(mp + c * heads, lp + c * heads, op + c * D, q, P, heads, j0, std::min(kKeyChunk, n - j0));
      }
    });
    for (int h = 0; h < heads; h++) {
      float M = -std::numeric_limits<float>::infinity();
      for (int c = 0; c < chunks; c++) M = std::max(M, m[static_cast<size_t>(c) * heads + h]);
      float* dst = out + static_cast<size_t>(i) * out_stride + static_cast<size_t>(h) * hd;
      std::fill(dst, dst + hd, 0.0f);
      float L = 0;
      for (int c = 0; c < chunks; c++) {
        const size_t ch = static_cast<size_t>(c) * heads + h;
        const float w = std::exp(m[ch] - M);  // exactly 1 for the chunk that holds the maximum
        L += l[ch] * w;
        const float* oc = o.data() + static_cast<size_t>(c) * D + static_cast<size_t>(h) * hd;
        for (int d = 0; d < hd; d++) dst[d] += w * oc[d];
      }
      const float inv = L > 0 ? 1.0f / L : 0.0f;  // L = 0 only when no key is visible
      for (int d = 0; d < hd; d++) dst[d] *= inv;
    }
  }
}

template <class E>
void attend(float* out, int out_stride, const Problem<E>& P, int Tq, int heads) {
  if (Tq <= 0 || heads <= 0) return;
  const int head_dim = P.head_dim;
  if (Tq < kCopyRows) {  // decode: chunks of keys in parallel, each read as whole cache rows
    attend_rows(out, out_stride, P, Tq, heads);
    return;
  }
  thread_local std::vector<float> vt_buf;  // [heads, head_dim, Tk], kept between calls
  vt_buf.resize(static_cast<size_t>(heads) * head_dim * P.Tk);
  const float* vt = vt_buf.data();  // the workers see this thread's buffer through the pointer
  transpose_values(vt_buf.data(), P, heads);
  const int blocks = (Tq + BQ - 1) / BQ;  // query blocks per head
  parallel_for(static_cast<size_t>(heads) * blocks, [&](size_t begin, size_t end) {
    Tiles w(head_dim);
    for (size_t job = begin; job < end; job++) {
      const int h = static_cast<int>(job / blocks), t0 = static_cast<int>(job % blocks) * BQ;
      const float* vt_h = vt + static_cast<size_t>(h) * head_dim * P.Tk;
      attend_block(out, out_stride, P, vt_h, h, t0, std::min(BQ, Tq - t0), w);
    }
  });
}

}  // namespace

void attention(float* out, int out_stride, const float* q, int q_stride, const float* k, const float* v,
               int kv_stride, int Tq, int Tk, int heads, int head_dim, float scale, bool causal, int q_pos0) {
  attend(out, out_stride, Problem<float>{q, k, v, q_stride, kv_stride, Tk, head_dim, scale, causal, q_pos0}, Tq, heads);
}

void attention(float* out, int out_stride, const float* q, int q_stride, const uint16_t* k, const uint16_t* v,
               int kv_stride, int Tq, int Tk, int heads, int head_dim, float scale, bool causal, int q_pos0) {
  attend(out, out_stride, Problem<uint16_t>{q, k, v, q_stride, kv_stride, Tk, head_dim, scale, causal, q_pos0}, Tq,
         heads);
}

}  // namespace tgv
