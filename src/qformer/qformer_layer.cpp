// One Q-Former layer on the query tokens (model.md section 3), upstream LAVIS
// BertLayer.forward with query_length == Q (the text path never runs):
//   a = self.attention(x)                      # LN(x + dense(selfattn(x)))
//   if self.has_cross_attention:
//       a = self.crossattention(a, image)      # LN(a + dense(crossattn(q=a, kv=image)))
//   x = self.feed_forward_chunk_query(a)       # LN(a + output_query.dense(gelu(intermediate_query.dense(a))))
// Post-norm: the residual is added before each LayerNorm. Scores are scaled by
// 1/sqrt(head_dim); the attention masks are all-ones (nothing masked). The
// cross-attention keys/values are all image tokens, cls included.
#include <algorithm>
#include <cmath>
#include <vector>

#include "tinygptv/layers.h"
#include "tinygptv/qformer.h"

namespace tgv {

namespace {

// probs [heads, Q, T] = softmax over T of (q . k) * scale per head, from q [Q, H] and
// k [T, H]: the weights the attention kernel applies, written out for pictures only.
void attention_probs(std::vector<float>* probs, const float* q, const float* k, int Q, int T, int heads, int hd,
                     float scale) {
  const int H = heads * hd;
  probs->assign(static_cast<size_t>(heads) * Q * T, 0.0f);
  for (int h = 0; h < heads; h++)
    for (int i = 0; i < Q; i++) {
      float* p = probs->data() + (static_cast<size_t>(h) * Q + i) * T;
      for (int j = 0; j < T; j++) {
        float s = 0;
        for (int d = 0; d < hd; d++) s += q[static_cast<size_t>(i) * H + h * hd + d] * k[static_cast<size_t>(j) * H + h * hd + d];
        p[j] = s * scale;
      }
      const float m = *std::max_element(p, p + T);
      float sum = 0;
      for (int j = 0; j < T; j++) sum += p[j] = std::exp(p[j] - m);
      for (int j = 0; j < T; j++) p[j] /= sum;
    }
}

// x [Q, H] <- LN(x + dense(attention(q = x, kv = kv [T, C])))  (BertAttention + BertSelfOutput);
// probs, when given, receives the attention probabilities [heads, Q, T].
void bert_attention(float* x, const float* kv, int T, const QFormerAttentionWeights& w, const QFormerConfig& cfg, int Q,
                    std::vector<float>* probs = nullptr) {
  const int H = cfg.hidden, hd = H / cfg.heads;
  const size_t QH = static_cast<size_t>(Q) * H;
  std::vector<float> q(QH), ctx(QH), o(QH);                                           // [Q, H]
  std::vector<float> k(static_cast<size_t>(T) * H), v(static_cast<size_t>(T) * H);  // [T, H]
  linear(q.data(), x, w.query_w, w.query_b.data(), Q);
  linear(k.data(), kv, w.key_w, w.key_b.data(), T);
  linear(v.data(), kv, w.value_w, w.value_b.data(), T);
  const float scale = 1.0f / std::sqrt(static_cast<float>(hd));
  attention(ctx.data(), H, q.data(), H, k.data(), v.data(), H, Q, T, cfg.heads, hd, scale, /*causal=*/false, 0);
  if (probs) attention_probs(probs, q.data(), k.data(), Q, T, cfg.heads, hd, scale);
  linear(o.data(), ctx.data(), w.dense_w, w.dense_b.data(), Q);
  add(o.data(), o.data(), x, QH);
  layernorm(x, o.data(), w.ln_w.data(), w.ln_b.data(), Q, H, cfg.ln_eps);
}

}  // namespace

void qformer_layer_forward(float* x, const float* image, int n_image, const QFormerLayerWeights& w,
                           const QFormerConfig& cfg, bool cross, int Q, std::vector<float>* cross_probs) {
  const int H = cfg.hidden, I = cfg.intermediate;
  const size_t QH = static_cast<size_t>(Q) * H;
  bert_attention(x, x, Q, w.self_attn, cfg, Q);                   // self-attention over the queries
  if (cross) bert_attention(x, image, n_image, w.cross_attn, cfg, Q, cross_probs);  // queries read the image

  std::vector<float> mid(static_cast<size_t>(Q) * I);  // [Q, I]
  std::vector<float> o(QH);                            // [Q, H]
  linear(mid.data(), x, w.inter_w, w.inter_b.data(), Q);
  gelu_erf(mid.data(), mid.size());
  linear(o.data(), mid.data(), w.out_w, w.out_b.data(), Q);
  add(o.data(), o.data(), x, QH);
  layernorm(x, o.data(), w.out_ln_w.data(), w.out_ln_b.data(), Q, H, cfg.ln_eps);
}

}  // namespace tgv
