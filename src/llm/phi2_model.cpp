// The language model around its layers: token embeddings in, logits out.
//
//   x = inputs_embeds                                  [T, D]   (embed_tokens rows / image embeddings)
//   for layer in layers: x = layer(x)                  [T, D]   (phi2_layer.cpp)
//   x = final_layernorm(x)                             [T, D]   LayerNorm(D), eps ln_eps
//   logits = lm_head(x)                                [T, V]   Linear D -> V with bias
//
// Each call appends its T positions to the KV cache in `state`, so a prefill of the
// prompt followed by one-row calls gives the same logits as recomputing everything.
#include <algorithm>
#include <cstring>
#include <string>

#include "tinygptv/error.h"
#include "tinygptv/layers.h"
#include "tinygptv/phi2.h"

namespace tgv {

void phi2_embed_tokens(float* out, const Phi2Weights& w, const int* ids, int T) {
  const int64_t V = w.embed_tokens.rows();
  for (int t = 0; t < T; t++)
    if (ids[t] < 0 || ids[t] >= V)
      fail("token id " + std::to_string(ids[t]) + " is outside the vocabulary (0.." + std::to_string(V - 1) + ")");
  const size_t D = static_cast<size_t>(w.embed_tokens.cols());
  for (int t = 0; t < T; t++) tensor_row_f32(out + static_cast<size_t>(t) * D, w.embed_tokens, ids[t]);
}

void phi2_forward(float* logits, Phi2State& s, const Phi2Weights& w, const LlmConfig& c, const float* embeds, int T,
                  Phi2Logits which, const DumpFn& dump) {
  TGV_ASSERT(T >= 1, "phi2_forward needs at least one position");
  TGV_ASSERT(static_cast<int>(w.layers.size()) == c.layers && static_cast<int>(s.k_cache.size()) == c.layers,
             "weights/state made for another config");
  const int D = c.hidden, V = c.vocab_size;
  const size_t TD = static_cast<size_t>(T) * D;
  if (static_cast<int64_t>(s.pos) + T > c.max_positions)
    fail("context limit: " + std::to_string(s.pos) + " + " + std::to_string(T) + " positions exceed max_positions " +
         std::to_string(c.max_positions));
  phi2_reserve(s, s.pos + T, D);
  s.x.resize(TD);
  s.h.resize(TD);
  s.qkv.resize(3 * TD);
  s.q.resize(TD);
  if (s.kv_dtype == DType::F16) {
    s.k.resize(TD);
    s.v.resize(TD);
  }
  s.attn.resize(TD);
  s.a.resize(TD);
  s.m.resize(TD);
  s.ff.resize(static_cast<size_t>(T) * c.intermediate);

  float* x = s.x.data();
  std::memcpy(x, embeds, TD * sizeof(float));
  if (dump) dump("llm.embeds", x, {T, D});
  for (int i = 0; i < c.layers; i++) {
    phi2_layer_forward(x, s, w.layers[static_cast<size_t>(i)], i, c, T);
    if (dump) dump("llm.layer." + std::to_string(i), x, {T, D});
  }
  s.pos += T;

  // Final norm on every row when all logits (or the dump) are wanted, else only the last.
  const bool all = which == Phi2Logits::All || static_cast<bool>(dump);
  const int rows = all ? T : 1;
  float* xn = all ? x : x + static_cast<size_t>(T - 1) * D;
  layernorm(xn, xn, w.final_layernorm_weight.data(), w.final_layernorm_bias.data(), rows, D, c.ln_eps);
  if (dump) dump("llm.final_norm", x, {T, D});
  if (!all) {
    linear(logits, xn, w.lm_head_weight, w.lm_head_bias.data(), 1);
    return;
  }
  float* out = logits;
  if (which == Phi2Logits::Last) {  // dumping, but the caller wants only the last row
    s.logits.resize(static_cast<size_t>(T) * V);
    out = s.logits.data();
  }
  linear(out, x, w.lm_head_weight, w.lm_head_bias.data(), T);
  if (dump) dump("llm.logits", out, {T, V});
  if (out != logits) std::memcpy(logits, out + static_cast<size_t>(T - 1) * V, sizeof(float) * V);
}

}  // namespace tgv
