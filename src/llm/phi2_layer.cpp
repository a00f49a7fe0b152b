// One Phi-2 decoder layer, TinyGPT-V variant (model.md section 5): parallel attention
// and MLP on one shared input norm. Upstream (TinyGPT-V modeling_phi.py, PhiDecoderLayer):
//
//   residual = hidden_states
//   hidden_states = self.input_layernorm(hidden_states)
//   attn_outputs = self.self_attn(hidden_states, ...)        # ends with post_layernorm (RMSNorm)
//   feed_forward_hidden_states = self.mlp(hidden_states)
//   hidden_states = attn_outputs + feed_forward_hidden_states + residual
//
// Shapes: x [T, D]; the T rows are positions state.pos .. state.pos+T-1; keys and
// values go to the KV cache rows with those positions before attention reads them
// (an F16 cache: they are made in float32 scratch, then rounded into the cache).
#include <cmath>
#include <cstring>

#include "tinygptv/layers.h"
#include "tinygptv/phi2.h"

namespace tgv {

void phi2_layer_forward(float* x, Phi2State& s, const Phi2LayerWeights& w, int layer, const LlmConfig& c, int T) {
  const int D = c.hidden, H = c.heads, hd = D / H;
  const size_t TD = static_cast<size_t>(T) * D;
  const int pos = s.pos;
  float* h = s.h.data();        // [T, D]
  float* qkv = s.qkv.data();    // [T, 3D]
  float* q = s.q.data();        // [T, D]
  float* attn = s.attn.data();  // [T, D]
  float* a = s.a.data();        // [T, D]
  float* ff = s.ff.data();      // [T, I]
  float* m = s.m.data();        // [T, D]
  const bool f16 = s.kv_dtype == DType::F16;
  const size_t l = static_cast<size_t>(layer), row0 = static_cast<size_t>(pos) * D;
  float* k = f16 ? s.k.data() : s.k_cache[l].data() + row0;  // this call's rows [T, D]
  float* v = f16 ? s.v.data() : s.v_cache[l].data() + row0;

  // h = input_layernorm(x)                                     LayerNorm(D), eps ln_eps
  layernorm(h, x, w.input_layernorm_weight.data(), w.input_layernorm_bias.data(), T, D, c.ln_eps);

  // qkv = query_key_value(h)                                   [T, 3D]
  linear(qkv, h, w.qkv_weight, w.qkv_bias.data(), T);

  // Split each row as [H, 3, hd]: head j's q, then its k, then its v (interleaved
  // by head, not [3, H, hd]). Upstream:
  //   qkv = qkv.view(bsz, q_len, self.num_heads, 3 * self.head_dim); q, k, v = qkv.split(head_dim, -1)
  for (int t = 0; t < T; t++) {
    const float* row = qkv + static_cast<size_t>(t) * 3 * D;
    for (int j = 0; j < H; j++) {
      const float* src = row + static_cast<size_t>(j) * 3 * hd;
      const size_t dst = static_cast<size_t>(t) * D + static_cast<size_t>(j) * hd;
      std::memcpy(q + dst, src, sizeof(float) * hd);
      std::memcpy(k + dst, src + hd, sizeof(float) * hd);
      std::memcpy(v + dst, src + 2 * hd, sizeof(float) * hd);
    }
  }

  // q = q_layernorm(q); k = k_layernorm(k): LayerNorm(hd) per head, before rotary.
  // [T, D] is [T*H, hd] with heads contiguous, so each head is one row.
  layernorm(q, q, w.q_layernorm_weight.data(), w.q_layernorm_bias.data(), T * H, hd, c.ln_eps);
  layernorm(k, k, w.k_layernorm_weight.data(), w.k_layernorm_bias.data(), T * H, hd, c.ln_eps);

  // Rotary on the first rotary_dim dims of each head, positions pos..pos+T-1
  // (float32 tables as upstream); dims rotary_dim..hd-1 pass through.
  rotary(q, D, T, H, hd, c.rotary_dim, pos, c.rope_theta);
  rotary(k, D, T, H, hd, c.rotary_dim, pos, c.rope_theta);

  // o = softmax(q k^T / sqrt(hd) + causal mask) v over the cached positions 0..pos+T-1.
  // Scores and softmax in float32 (upstream upcasts: Phi-2's QK^T overflows fp16).
  // Keys and values of every cached position [pos + T, D], this call's rows included.
  const float scale = static_cast<float>(1.0 / std::sqrt(static_cast<double>(hd)));
  if (f16) {
    uint16_t* k16 = s.k_cache16[l].data();
    uint16_t* v16 = s.v_cache16[l].data();
    for (size_t e = 0; e < TD; e++) {
      k16[row0 + e] = f32_to_f16(k[e]);
      v16[row0 + e] = f32_to_f16(v[e]);
    }
    attention(attn, D, q, D, k16, v16, D, T, pos + T, H, hd, scale, /*causal=*/true, /*q_pos0=*/pos);
  } else {
    attention(attn, D, q, D, s.k_cache[l].data(), s.v_cache[l].data(), D, T, pos + T, H, hd, scale, /*causal=*/true,
              /*q_pos0=*/pos);
  }

  // a = post_layernorm(dense(o))                               RMSNorm(D), eps rms_eps, weight only
  linear(a, attn, w.dense_weight, w.dense_bias.data(), T);
  rmsnorm(a, a, w.post_layernorm_weight.data(), T, D, c.rms_eps);

  // m = fc2(gelu_new(fc1(h)))                                  uses h, not x
  linear(ff, h, w.fc1_weight, w.fc1_bias.data(), T);
  gelu_tanh(ff, static_cast<size_t>(T) * c.intermediate);
  linear(m, ff, w.fc2_weight, w.fc2_bias.data(), T);

  // x = a + m + r
  add(a, a, m, TD);
  add(x, a, x, TD);
}

}  // namespace tgv
