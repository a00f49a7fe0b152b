// Multi-head scaled dot-product attention over a key/value block (or KV cache), tiled
// with an online softmax (the FlashAttention scheme): no [Tq, Tk] score matrix is ever
// made, only one [query block, key block] tile per thread.
//
// For one head and a block of BQ = 64 queries, keys are visited in blocks of at most
// kMaxKeys = 320 (kMaxKeysCausal = 128 under a causal mask, where a block reaching past
// the diagonal is partly wasted), all of one size: ceil(Tk / blocks), so that 257 keys
// are one block, not 128 + 128 + 1. Likewise fewer than kSliver = 8 queries left over join
// the block before them (257 queries: 64 + 64 + 64 + 65): a block of one query cost the
// copies and packing of a whole block, and was one job in five at 224 px.
// Each query row i keeps a running maximum m_i, a running sum l_i and an unnormalised
// output o_i [head_dim]:
//     s_j   = scale * q_i . k_j                       (tile S = Q_blk K_blk^T: a matmul kernel)
//     m'    = max(m_i, max_j s_j)
//     p_j   = exp(s_j - m'),  l_i = l_i exp(m_i - m') + sum_j p_j     (kernels' exp_sum)
//     o_i   = o_i exp(m_i - m') + sum_j p_j v_j         (tile P V_blk: a matmul kernel)
// and at the end out_i = o_i / l_i. Scores, softmax and sums are float32 (Phi-2's QK^T
// must be accumulated in fp32: it overflows fp16). Causal: query t sees keys
// j <= q_pos0 + t; key blocks wholly in the future are skipped, the rest masked.
//
// The tiles go through the active KernelSet's matmul_f32 (the packed GEMM for 4 or
// more query rows), which wants each operand as one contiguous array: the query block is
// copied, and K and V^T are laid out once per call for every head (split_heads: K as
// [Tk, head_dim] per head, V^T as [head_dim, keys] per key block), so that a key block's
// tiles are plain pointers into them. (Copied per tile instead, K and V^T cost one copy
// per query block: 16 of each at 1,025 tokens.) Parallel over (head, query block) pairs.
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
// the K and V^T that split_heads lays out anyway, and attend_chunk converts each row
// into a small buffer before the dots and axpys: the arithmetic after that is the
// float32 code's, on the same values.
#include <algorithm>
#include <cmath>
#include <limits>
#include <vector>

#include "tinygptv/layers.h"
#include "tinygptv/thread_pool.h"

namespace tgv {

namespace {

constexpr int BQ = 64;      // queries per block
constexpr int kSliver = 8;  // a last block of fewer queries than this joins the one before
constexpr int kMaxQ = BQ + kSliver - 1;
constexpr int kMaxKeys = 320, kMaxKeysCausal = 128;  // keys per block, at most
constexpr int kCopyRows = 4;  // from this many queries on, tiles go through copies + matmul (attend_block)
constexpr int kKeyChunk = 64;  // decode: keys per chunk (fixed: the split never depends on the thread count)

// Scratch of one thread: the tiles of one (head, query block) pair, for key blocks of bk.
struct Tiles {
  std::vector<float> q, s, pv, o, m, l;  // [kMaxQ,hd] [kMaxQ,bk] [kMaxQ,hd] [kMaxQ,hd] [kMaxQ] [kMaxQ]
  Tiles(int hd, int bk)
      : q(static_cast<size_t>(kMaxQ) * hd), s(static_cast<size_t>(kMaxQ) * bk), pv(static_cast<size_t>(kMaxQ) * hd),
        o(static_cast<size_t>(kMaxQ) * hd), m(kMaxQ), l(kMaxQ) {}
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

// K and V^T of every head as float32, laid out so that each tile attend_block needs is
// one contiguous array:
//   kh[(h * Tk + j) * hd + d]               = k[j, h * hd + d]   (head h's keys: [Tk, hd])
//   vt[h * hd * Tk + b0 * hd + d * nb + i]  = v[b0 + i, h * hd + d]
// for the key block b0 .. b0+nb-1 (nb = min(key_block, Tk - b0)): its V^T, [hd, nb].
// Blocks of 16 keys: their rows are read once, the V^T writes are runs of 16 floats.
template <class E>
void split_heads(float* kh, float* vt, const Problem<E>& P, int heads, int key_block) {
  const int hd = P.head_dim, Tk = P.Tk;
  constexpr int kKeys = 16;
  parallel_for(static_cast<size_t>(heads), [&](size_t h0, size_t h1) {
    std::vector<float> rows(static_cast<size_t>(kKeys) * hd);  // float16 rows, converted
    for (size_t h = h0; h < h1; h++) {
      for (int j = 0; j < Tk; j++) load(kh + (h * Tk + j) * hd, P.k + static_cast<size_t>(j) * P.kv_stride + h * hd, hd);
      for (int b0 = 0; b0 < Tk; b0 += key_block) {
        const int nb = std::min(key_block, Tk - b0);
        float* dst = vt + h * hd * Tk + static_cast<size_t>(b0) * hd;
        for (int j0 = b0; j0 < b0 + nb; j0 += kKeys) {
          const int nk = std::min(kKeys, b0 + nb - j0);
          const float* v[kKeys];
          for (int j = 0; j < nk; j++)
            v[j] = as_f32(P.v + static_cast<size_t>(j0 + j) * P.kv_stride + h * hd, hd, rows.data() + static_cast<size_t>(j) * hd);
          for (int d = 0; d < hd; d++)
            for (int j = 0; j < nk; j++) dst[static_cast<size_t>(d) * nb + (j0 - b0) + j] = v[j][d];
        }
      }
    }
  });
}

// Queries t0 .. t0+bq-1 of head h -> out, keys in blocks of key_block. kh, vt: head h's
// keys and its V^T per key block (split_heads).
template <class E>
void attend_block(float* out, int out_stride, const Problem<E>& P, const float* kh, const float* vt, int h, int t0, int bq,
                  int key_block, Tiles& w) {
  const KernelSet& ks = kernels();
  const int hd = P.head_dim;
  const size_t col = static_cast<size_t>(h) * hd;
  auto q_row = [&](int i) { return P.q + static_cast<size_t>(t0 + i) * P.q_stride + col; };
  // keys visible to query i: [0, visible(i))
  auto visible = [&](int i) { return P.causal ? std::min(P.Tk, P.q_pos0 + t0 + i + 1) : P.Tk; };

  for (int i = 0; i < bq; i++) std::copy(q_row(i), q_row(i) + hd, w.q.data() + static_cast<size_t>(i) * hd);
  std::fill(w.o.begin(), w.o.begin() + static_cast<size_t>(bq) * hd, 0.0f);
  std::fill(w.m.begin(), w.m.end(), -std::numeric_limits<float>::infinity());
  std::fill(w.l.begin(), w.l.end(), 0.0f);

  const int keys = visible(bq - 1);  // the last query sees the most keys
  for (int j0 = 0; j0 < keys; j0 += key_block) {
    // the block has nb keys (its V^T rows are nb long); this query block sees bk of them
    const int nb = std::min(key_block, P.Tk - j0), bk = std::min(nb, keys - j0);
    // S [bq, bk] = Q_blk K_blk^T, in rows of nb
    ks.matmul_f32(w.s.data(), nb, w.q.data(), kh + static_cast<size_t>(j0) * hd, bq, hd, 0, bk);
    // online softmax, row by row; p overwrites s (0 for masked keys, up to nb)
    for (int i = 0; i < bq; i++) {
      float* s = w.s.data() + static_cast<size_t>(i) * nb;
      const int n = std::clamp(visible(i) - j0, 0, bk);
      const float block_max = scale_and_max(s, n, P.scale);
      std::fill(s + n, s + nb, 0.0f);
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
    // O += P V_blk over the block's nb keys (a masked key's p is 0: adds nothing)
    ks.matmul_f32(w.pv.data(), hd, w.s.data(), vt + static_cast<size_t>(j0) * hd, bq, nb, 0, hd);
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
  // query blocks per head (a sliver joins the last), keys per block (blocks of one size)
  const int blocks = std::max(1, Tq % BQ < kSliver ? Tq / BQ : Tq / BQ + 1);
  const int max_keys = P.causal ? kMaxKeysCausal : kMaxKeys, key_blocks = std::max(1, (P.Tk + max_keys - 1) / max_keys);
  const int bk = std::max(1, (P.Tk + key_blocks - 1) / key_blocks);
  thread_local std::vector<float> kh_buf, vt_buf;  // [heads, Tk, head_dim] each, kept between calls
  const size_t per_head = static_cast<size_t>(head_dim) * P.Tk;
  kh_buf.resize(heads * per_head);
  vt_buf.resize(heads * per_head);
  const float *kh = kh_buf.data(), *vt = vt_buf.data();  // the workers see this thread's buffers through the pointers
  split_heads(kh_buf.data(), vt_buf.data(), P, heads, bk);
  parallel_for(static_cast<size_t>(heads) * blocks, [&](size_t begin, size_t end) {
    Tiles w(head_dim, bk);
    for (size_t job = begin; job < end; job++) {
      const int h = static_cast<int>(job / blocks), b = static_cast<int>(job % blocks), t0 = b * BQ;
      attend_block(out, out_stride, P, kh + h * per_head, vt + h * per_head, h, t0, b == blocks - 1 ? Tq - t0 : BQ, bk, w);
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
