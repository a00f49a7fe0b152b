// The Q-Former (model.md section 3): a query-only BERT whose Q learned queries read
// the image tokens through cross-attention on every cross_attention_freq-th layer
// (from layer 0). Post-norm residuals (BERT): LayerNorm(x + sublayer(x)).
// Implementations: src/qformer/.
//
//   x = embeddings.LayerNorm(query_tokens)                          "qformer.embed"
//   for each layer i:                                               "qformer.layer.{i}"
//     a = LN(x + dense(selfattn(x)))
//     if i % cross_attention_freq == 0: a = LN(a + dense(crossattn(q = a, kv = image)))
//     x = LN(a + output_query.dense(gelu(intermediate_query.dense(a))))
#pragma once
#include <vector>

#include "tinygptv/dump.h"
#include "tinygptv/model_file.h"
#include "tinygptv/tensor.h"

namespace tgv {

// One BertAttention + BertSelfOutput: {prefix} is
// Qformer.bert.encoder.layer.{i}.attention. or ...crossattention.
struct QFormerAttentionWeights {
  Tensor query_w;                // {prefix}self.query.weight          [H, H]
  std::vector<float> query_b;    // {prefix}self.query.bias            [H]
  Tensor key_w;                  // {prefix}self.key.weight            [H, H] (self) / [H, W] (cross)
  std::vector<float> key_b;      // {prefix}self.key.bias              [H]
  Tensor value_w;                // {prefix}self.value.weight          [H, H] (self) / [H, W] (cross)
  std::vector<float> value_b;    // {prefix}self.value.bias            [H]
  Tensor dense_w;                // {prefix}output.dense.weight        [H, H]
  std::vector<float> dense_b;    // {prefix}output.dense.bias          [H]
  std::vector<float> ln_w;       // {prefix}output.LayerNorm.weight    [H]
  std::vector<float> ln_b;       // {prefix}output.LayerNorm.bias      [H]
};

struct QFormerLayerWeights {
  QFormerAttentionWeights self_attn;   // Qformer.bert.encoder.layer.{i}.attention.*
  QFormerAttentionWeights cross_attn;  // Qformer.bert.encoder.layer.{i}.crossattention.*  (only when qformer_has_cross(i))
  Tensor inter_w;                // Qformer.bert.encoder.layer.{i}.intermediate_query.dense.weight  [I, H]
  std::vector<float> inter_b;    // Qformer.bert.encoder.layer.{i}.intermediate_query.dense.bias    [I]
  Tensor out_w;                  // Qformer.bert.encoder.layer.{i}.output_query.dense.weight        [H, I]
  std::vector<float> out_b;      // Qformer.bert.encoder.layer.{i}.output_query.dense.bias          [H]
  std::vector<float> out_ln_w;   // Qformer.bert.encoder.layer.{i}.output_query.LayerNorm.weight    [H]
  std::vector<float> out_ln_b;   // Qformer.bert.encoder.layer.{i}.output_query.LayerNorm.bias      [H]
};

struct QFormerWeights {
  std::vector<float> query_tokens;  // query_tokens                                   [1, Q, H]
  std::vector<float> embed_ln_w;    // Qformer.bert.embeddings.LayerNorm.weight       [H]
  std::vector<float> embed_ln_b;    // Qformer.bert.embeddings.LayerNorm.bias         [H]
  std::vector<QFormerLayerWeights> layers;  // config qformer.layers of them
};

// What the queries looked at: the cross-attention probabilities of every
// cross-attention layer (an optional output of qformer_forward, for pictures such as
// `tinygptv ask --attention-map`; nothing is computed when it is not asked for).
struct QFormerCrossAttention {
  int heads = 0, queries = 0, keys = 0;  // keys = n_image: the cls token, then the patches row-major
  std::vector<int> layer_index;          // which Q-Former layer each entry of probs comes from
  std::vector<std::vector<float>> probs; // per cross-attention layer: softmax(q k^T / sqrt(hd))  [heads, Q, keys]
};

// Whether layer i has cross-attention: i % cross_attention_freq == 0 (BLIP-2).
inline bool qformer_has_cross(int i, const QFormerConfig& cfg) { return i % cfg.cross_attention_freq == 0; }

// Loads and shape-checks every Q-Former tensor; W is the image token width (vision.width).
QFormerWeights load_qformer(const ModelFile& mf, const QFormerConfig& cfg, int W);

// out [Q, H] from the image tokens image [n_image, W] (ln_vision output, cls included).   qformer.cpp
// cross_attention, when given, receives the cross-attention probabilities.
void qformer_forward(float* out, const float* image, int n_image, const QFormerWeights& w, const QFormerConfig& cfg,
                     const DumpFn& dump, QFormerCrossAttention* cross_attention = nullptr);

// One layer, in place on x [Q, H]. cross_probs, when given on a cross-attention layer,
// receives that layer's probabilities [heads, Q, n_image].                               qformer_layer.cpp
void qformer_layer_forward(float* x, const float* image, int n_image, const QFormerLayerWeights& w,
                           const QFormerConfig& cfg, bool cross, int Q, std::vector<float>* cross_probs = nullptr);

}  // namespace tgv
