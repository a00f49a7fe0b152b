// Loading the Q-Former weights from a model file (names and shapes: interface.md,
// include/tinygptv/qformer.h). Only the query path exists: the text-path
// `intermediate.*` / `output.*` tensors are neither needed nor looked for.
// Cross-attention tensors are required exactly on the layers that use them.
#include <string>

#include "tinygptv/qformer.h"

namespace tgv {

namespace {

QFormerAttentionWeights load_attention(const ModelFile& mf, const std::string& p, int64_t H, int64_t kv_width) {
  QFormerAttentionWeights a;
  a.query_w = mf.matrix(p + "self.query.weight", {H, H});
  a.query_b = mf.floats(p + "self.query.bias", {H});
  a.key_w = mf.matrix(p + "self.key.weight", {H, kv_width});
  a.key_b = mf.floats(p + "self.key.bias", {H});
  a.value_w = mf.matrix(p + "self.value.weight", {H, kv_width});
  a.value_b = mf.floats(p + "self.value.bias", {H});
  a.dense_w = mf.matrix(p + "output.dense.weight", {H, H});
  a.dense_b = mf.floats(p + "output.dense.bias", {H});
  a.ln_w = mf.floats(p + "output.LayerNorm.weight", {H});
  a.ln_b = mf.floats(p + "output.LayerNorm.bias", {H});
  return a;
}

}  // namespace

QFormerWeights load_qformer(const ModelFile& mf, const QFormerConfig& cfg, int W) {
  const int64_t H = cfg.hidden, I = cfg.intermediate, Q = cfg.query_tokens;
  QFormerWeights w;
  w.query_tokens = mf.floats("query_tokens", {1, Q, H});
  w.embed_ln_w = mf.floats("Qformer.bert.embeddings.LayerNorm.weight", {H});
  w.embed_ln_b = mf.floats("Qformer.bert.embeddings.LayerNorm.bias", {H});
  for (int i = 0; i < cfg.layers; i++) {
    const std::string b = "Qformer.bert.encoder.layer." + std::to_string(i) + ".";
    QFormerLayerWeights l;
    l.self_attn = load_attention(mf, b + "attention.", H, H);
    if (qformer_has_cross(i, cfg)) l.cross_attn = load_attention(mf, b + "crossattention.", H, W);
    l.inter_w = mf.matrix(b + "intermediate_query.dense.weight", {I, H});
    l.inter_b = mf.floats(b + "intermediate_query.dense.bias", {I});
    l.out_w = mf.matrix(b + "output_query.dense.weight", {H, I});
    l.out_b = mf.floats(b + "output_query.dense.bias", {H});
    l.out_ln_w = mf.floats(b + "output_query.LayerNorm.weight", {H});
    l.out_ln_b = mf.floats(b + "output_query.LayerNorm.bias", {H});
    w.layers.push_back(std::move(l));
  }
  return w;
}

}  // namespace tgv
