// One Q-Former layer on the query tokens (model.md section 3), upstream LAVIS
// BertLayer.forward with query_length == Q (the text path never runs):
//   a = self.attention(x)                      # LN(x + dense(selfattn(x)))
//   if self.has_cross_attention:
//       a = self.crossattention(a, image)      # LN(a + dense(crossattn(q=a, kv=image)))
//   x = self.feed_forward_chunk_query(a)       # LN(a + output_query.dense(gelu(intermediate_query.dense(a))))
// Post-norm: the residual is added before each LayerNorm. Scores are scaled by
// 1/sqrt(head_dim); the attention masks are all-ones (nothing masked). The
// cross-attention keys/values are all image tokens, cls included.
#include <cmath>
#include <vector>

#include "tinygptv/layers.h"
#include "tinygptv/qformer.h"

namespace tgv {

namespace {

// x [Q, H] <- LN(x + dense(attention(q = x, kv = kv [T, C])))  (BertAttention + BertSelfOutput)
void bert_attention(float* x, const float* kv, int T, const QFormerAttentionWeights& w, const QFormerConfig& cfg, int Q) {
  const int H = cfg.hidden, hd = H / cfg.heads;
  const size_t QH = static_cast<size_t>(Q) * H;
  std::vector<float> q(QH), ctx(QH), o(QH);                                           // [Q, H]
  std::vector<float> k(static_cast<size_t>(T) * H), v(static_cast<size_t>(T) * H);  // [T, H]
  linear(q.data(), x, w.query_w, w.query_b.data(), Q);
  linear(k.data(), kv, w.key_w, w.key_b.data(), T);
  linear(v.data(), kv, w.value_w, w.value_b.data(), T);
  const float scale = 1.0f / std::sqrt(static_cast<float>(hd));
  attention(ctx.data(), H, q.data(), H, k.data(), v.data(), H, Q, T, cfg.heads, hd, scale, /*causal=*/false, 0);
  linear(o.data(), ctx.data(), w.dense_w, w.dense_b.data(), Q);
  add(o.data(), o.data(), x, QH);
  layernorm(x, o.data(), w.ln_w.data(), w.ln_b.data(), Q, H, cfg.ln_eps);
}

}  // namespace

void qformer_layer_forward(float* x, const float* image, int n_image, const QFormerLayerWeights& w,
                           const QFormerConfig& cfg, bool cross, int Q) {
  const int H = cfg.hidden, I = cfg.intermediate;
  const size_t QH = static_cast<size_t>(Q) * H;
  bert_attention(x, x, Q, w.self_attn, cfg, Q);                   // self-attention over the queries
  if (cross) bert_attention(x, image, n_image, w.cross_attn, cfg, Q);  // queries read the image

  std::vector<float> mid(static_cast<size_t>(Q) * I);  // [Q, I]
  std::vector<float> o(QH);                            // [Q, H]
  linear(mid.data(), x, w.inter_w, w.inter_b.data(), Q);
  gelu_erf(mid.data(), mid.size());
  linear(o.data(), mid.data(), w.out_w, w.out_b.data(), Q);
  add(o.data(), o.data(), x, QH);
  layernorm(x, o.data(), w.out_ln_w.data(), w.out_ln_b.data(), Q, H, cfg.ln_eps);
}

}  // namespace tgv
