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
// work). Parallel over (head, query block) pairs.
//
// Fewer than 4 queries (decode: one per generated token) take another loop, attend_rows:
// a copy would cost as much as the work, and one head's keys are a row of all heads
// apart in the KV cache (D floats: 10 KB in Phi-2), so walking them head by head touches
// a new page for every key of every head. Instead each thread takes a range of heads
// and walks the cache rows once, in order, reading its heads' slices of each row
// together (the set's head_dots for the scores, head_axpys for the values: one kernel
// call per row, not per head, straight from the cache); the softmax is the plain
// two-pass one over the row's [heads, Tk] scores.
//
// Every head is computed the same way whatever the thread count, so results do not
// depend on it.
//
// Keys and values may be float32 or float16 (an F16 KV cache, half the bytes a decode
// step reads from it). Float16 rows are converted (exactly, kernels' convert_f16) into
// the tiles attend_block copies anyway, and attend_rows converts its heads' slice of
// each row into a small buffer before the dot and axpy: the arithmetic after that is
// the float32 code's, on the same values.
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

// Queries t0 .. t0+bq-1 of head h -> out (a last block of fewer than kCopyRows queries
// too: rare, and the copies then cost about as much as the work).
template <class E>
void attend_block(float* out, int out_stride, const Problem<E>& P, int h, int t0, int bq, Tiles& w) {
  const KernelSet& ks = kernels();
  const int hd = P.head_dim;
  const size_t col = static_cast<size_t>(h) * hd;
  auto q_row = [&](int i) { return P.q + static_cast<size_t>(t0 + i) * P.q_stride + col; };
  auto k_row = [&](int j) { return P.k + static_cast<size_t>(j) * P.kv_stride + col; };
  auto v_row = [&](int j) { return P.v + static_cast<size_t>(j) * P.kv_stride + col; };
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
      float block_max = -std::numeric_limits<float>::infinity();
      for (int j = 0; j < n; j++) {
        s[j] *= P.scale;
        block_max = std::max(block_max, s[j]);
      }
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
    // O += P V_blk
    for (int j = 0; j < bk; j++) {
      const float* vr = as_f32(v_row(j0 + j), hd, w.pv.data());  // pv: scratch until the matmul below
      for (int d = 0; d < hd; d++) w.vt[static_cast<size_t>(d) * bk + j] = vr[d];
    }
    ks.matmul_f32(w.pv.data(), hd, w.s.data(), w.vt.data(), bq, bk, 0, hd);
    for (size_t e = 0; e < static_cast<size_t>(bq) * hd; e++) w.o[e] += w.pv[e];
  }
  for (int i = 0; i < bq; i++) {
    float* dst = out + static_cast<size_t>(t0 + i) * out_stride + col;
    const float* o = w.o.data() + static_cast<size_t>(i) * hd;
    const float inv = w.l[i] > 0 ? 1.0f / w.l[i] : 0.0f;  // l = 0 only when no key is visible
    for (int d = 0; d < hd; d++) dst[d] = o[d] * inv;
  }
}

// Heads [h0, h1) of cache row `row` as float32: the row itself (float32), or its slice
// converted into buf (float16); head h's columns are then at the result + h * hd.
inline const float* heads_of(const float* row, int, int, int, std::vector<float>&) { return row; }
inline const float* heads_of(const uint16_t* row, int h0, int h1, int hd, std::vector<float>& buf) {
  const size_t c0 = static_cast<size_t>(h0) * hd, n = static_cast<size_t>(h1 - h0) * hd;
  buf.resize(c0 + n);
  kernels().convert_f16(buf.data() + c0, row + c0, static_cast<int>(n));
  return buf.data();
}

// Decode: queries 0 .. Tq-1 (Tq < kCopyRows), heads [h0, h1) -> out.
template <class E>
void attend_rows(float* out, int out_stride, const Problem<E>& P, int Tq, int h0, int h1) {
  const KernelSet& ks = kernels();
  const int hd = P.head_dim, nh = h1 - h0;
  thread_local std::vector<float> s, o, l, buf;  // [nh, n] scores then probabilities, [nh, hd], [nh], a row (float16)
  for (int i = 0; i < Tq; i++) {
    const int n = P.causal ? std::min(P.Tk, P.q_pos0 + i + 1) : P.Tk;  // visible keys
    const float* q = P.q + static_cast<size_t>(i) * P.q_stride;
    s.resize(static_cast<size_t>(nh) * n);
    o.assign(static_cast<size_t>(nh) * hd, 0.0f);
    l.assign(static_cast<size_t>(nh), 0.0f);
    const size_t c0 = static_cast<size_t>(h0) * hd;  // the first column of head h0
    for (int j = 0; j < n; j++) {  // s[h - h0, j] = scale * q_h . k_j,h
      const float* k = heads_of(P.k + static_cast<size_t>(j) * P.kv_stride, h0, h1, hd, buf);
      ks.head_dots(s.data() + j, static_cast<size_t>(n), q + c0, k + c0, nh, hd, P.scale);
    }
    for (int h = 0; h < nh && n > 0; h++) {
      float* sh = s.data() + static_cast<size_t>(h) * n;
      l[h] = ks.exp_sum(sh, *std::max_element(sh, sh + n), n);
    }
    for (int j = 0; j < n; j++) {  // o_h += p[h - h0, j] v_j,h
      const float* v = heads_of(P.v + static_cast<size_t>(j) * P.kv_stride, h0, h1, hd, buf);
      ks.head_axpys(o.data(), s.data() + j, static_cast<size_t>(n), v + c0, nh, hd);
    }
    for (int h = h0; h < h1; h++) {
      float* dst = out + static_cast<size_t>(i) * out_stride + static_cast<size_t>(h) * hd;
      const float* oh = o.data() + static_cast<size_t>(h - h0) * hd;
      const float inv = l[h - h0] > 0 ? 1.0f / l[h - h0] : 0.0f;  // l = 0 only when no key is visible
      for (int d = 0; d < hd; d++) dst[d] = oh[d] * inv;
    }
  }
}

template <class E>
void attend(float* out, int out_stride, const Problem<E>& P, int Tq, int heads) {
  if (Tq <= 0 || heads <= 0) return;
  const int head_dim = P.head_dim;
  if (Tq < kCopyRows) {  // decode: one range of heads per thread, the cache read in row order
    const size_t per_thread = (static_cast<size_t>(heads) + num_threads() - 1) / num_threads();
    parallel_for(static_cast<size_t>(heads), [&](size_t h0, size_t h1) {
      attend_rows(out, out_stride, P, Tq, static_cast<int>(h0), static_cast<int>(h1));
    }, per_thread);
    return;
  }
  const int blocks = (Tq + BQ - 1) / BQ;  // query blocks per head
  parallel_for(static_cast<size_t>(heads) * blocks, [&](size_t begin, size_t end) {
    Tiles w(head_dim);
    for (size_t job = begin; job < end; job++) {
      const int h = static_cast<int>(job / blocks), t0 = static_cast<int>(job % blocks) * BQ;
      attend_block(out, out_stride, P, h, t0, std::min(BQ, Tq - t0), w);
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
