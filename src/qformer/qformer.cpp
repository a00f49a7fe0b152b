// The Q-Former forward (model.md section 3), upstream Blip2Base / MiniGPT-4 encode_img:
//   query_output = self.Qformer.bert(query_embeds=query_tokens,
//                                    encoder_hidden_states=image_embeds, ...)
// With only query embeddings, BertEmbeddings is just its LayerNorm (no word or
// position embeddings, dropout off), then the layers run on the Q query rows.
#include <algorithm>
#include <string>
#include <vector>

#include "tinygptv/layers.h"
#include "tinygptv/qformer.h"

namespace tgv {

void qformer_forward(float* out, const float* image, int n_image, const QFormerWeights& w, const QFormerConfig& cfg,
                     const DumpFn& dump, QFormerCrossAttention* cross_attention) {
  const int Q = cfg.query_tokens, H = cfg.hidden;
  const std::vector<int64_t> shape = {Q, H};
  // x = embeddings.LayerNorm(query_tokens), kept in `out` [Q, H] from here on
  layernorm(out, w.query_tokens.data(), w.embed_ln_w.data(), w.embed_ln_b.data(), Q, H, cfg.ln_eps);
  if (dump) dump("qformer.embed", out, shape);
  if (cross_attention) *cross_attention = QFormerCrossAttention{cfg.heads, Q, n_image, {}, {}};
  for (int i = 0; i < cfg.layers; i++) {
    const bool cross = qformer_has_cross(i, cfg);
    std::vector<float>* probs = nullptr;
    if (cross_attention && cross) {
      cross_attention->layer_index.push_back(i);
      probs = &cross_attention->probs.emplace_back();
    }
    qformer_layer_forward(out, image, n_image, w.layers[static_cast<size_t>(i)], cfg, cross, Q, probs);
    if (dump) dump("qformer.layer." + std::to_string(i), out, shape);
  }
}

}  // namespace tgv
