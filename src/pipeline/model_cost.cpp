// FLOPs and bytes of the model's steps: see include/tinygptv/model_cost.h.
#include "tinygptv/model_cost.h"

#include "tinygptv/qformer.h"

namespace tgv {

double encode_flops(const ModelConfig& c) {
  const double W = c.vision.width, M = c.vision.mlp_dim, P = c.vision.patch_size;
  const double g = c.vision.image_size / c.vision.patch_size, N = g * g + 1;
  double f = 2 * (N - 1) * W * 3 * P * P;  // patch embedding: a [W, 3 P P] matrix over N - 1 patches
  // One ViT block: qkv, proj, fc1, fc2 over N rows; QK^T and AV (N x N x W each).
  f += c.vision.layers * (2 * N * (3 * W * W + W * W + 2 * W * M) + 2 * 2 * N * N * W);

  const double H = c.qformer.hidden, I = c.qformer.intermediate, Q = c.qformer.query_tokens;
  for (int i = 0; i < c.qformer.layers; i++) {
    f += 2 * Q * 4 * H * H + 2 * 2 * Q * Q * H;  // self-attention: q, k, v, dense; QK^T, AV
    if (qformer_has_cross(i, c.qformer))        // cross-attention: q and dense on Q rows, k and v on N image rows
      f += 2 * Q * 2 * H * H + 2 * N * 2 * W * H + 2 * 2 * Q * N * H;
    f += 2 * Q * 2 * H * I;  // intermediate_query, output_query
  }
  f += 2 * Q * (H * c.projector.mid + c.projector.mid * static_cast<double>(c.llm.hidden));  // llama_proj, llama_proj2
  return f;
}

double llm_forward_flops(const LlmConfig& c, int past, int T) {
  const double D = c.hidden, I = c.intermediate, t = T, p = past;
  const double matrices = 2 * t * (3 * D * D + D * D + 2 * D * I);  // qkv, dense, fc1, fc2
  const double attention = 2 * 2 * D * (t * p + t * (t + 1) / 2);   // row j sees past + j + 1 keys: QK^T and AV
  return c.layers * (matrices + attention) + 2 * D * static_cast<double>(c.vocab_size);  // + lm_head, last row
}

uint64_t decode_weight_bytes(const Phi2Weights& w) {
  uint64_t bytes = w.lm_head_weight.nbytes() + w.lm_head_bias.size() * sizeof(float);
  bytes += w.embed_tokens.nbytes() / static_cast<uint64_t>(w.embed_tokens.rows());
  for (const Phi2LayerWeights& l : w.layers)
    bytes += l.qkv_weight.nbytes() + l.dense_weight.nbytes() + l.fc1_weight.nbytes() + l.fc2_weight.nbytes();
  return bytes;
}

uint64_t kv_cache_bytes(const LlmConfig& c, int pos, DType kv_dtype) {
  const uint64_t element = kv_dtype == DType::F16 ? 2 : sizeof(float);
  return static_cast<uint64_t>(c.layers) * 2 * static_cast<uint64_t>(pos) * static_cast<uint64_t>(c.hidden) * element;
}

double config_weight_count(const ModelConfig& c) {
  auto linear = [](double n_out, double n_in) { return n_out * n_in + n_out; };
  const double W = c.vision.width, P = c.vision.patch_size, M = c.vision.mlp_dim;
  double n = linear(W, 3 * P * P) + W;  // patch embedding, cls token
  n += c.vision.layers * (2 * W + 3 * W * W + 2 * W + linear(W, W) + 2 * W + linear(M, W) + linear(W, M));
  n += 2 * W;  // ln_vision

  const double H = c.qformer.hidden, I = c.qformer.intermediate, Q = c.qformer.query_tokens;
  n += Q * H + 2 * H;  // query tokens, embeddings LayerNorm
  auto attention = [&](double kv_width) { return linear(H, H) + 2 * linear(H, kv_width) + linear(H, H) + 2 * H; };
  const int f = c.qformer.cross_attention_freq;
  const double cross_layers = (c.qformer.layers + f - 1) / f;  // layers i with qformer_has_cross(i): i % f == 0
  n += c.qformer.layers * (attention(H) + linear(I, H) + linear(H, I) + 2 * H) + cross_layers * attention(W);

  const double mid = c.projector.mid, D = c.llm.hidden, V = c.llm.vocab_size, F = c.llm.intermediate;
  const double hd = D / c.llm.heads;
  n += linear(mid, H) + linear(D, mid);
  n += V * D;  // embed_tokens
  n += c.llm.layers * (2 * D + linear(3 * D, D) + 4 * hd + linear(D, D) + D + linear(F, D) + linear(D, F));
  n += 2 * D + linear(V, D);  // final_layernorm, lm_head
  return n;
}

}  // namespace tgv
