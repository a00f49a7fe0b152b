// Phi-2, the TinyGPT-V variant (model.md section 5): token ids or input embeddings
// -> 32 decoder layers -> final LayerNorm -> lm_head -> next-token logits.
//
//   ModelFile mf("model.safetensors");
//   Phi2Weights w = load_phi2(mf);                  // views into mf: keep mf alive
//   Phi2State s(mf.config().llm);
//   std::vector<float> x(T * D), logits(V);
//   phi2_embed_tokens(x.data(), w, ids.data(), T);   // [T, D]
//   phi2_forward(logits.data(), s, w, cfg, x.data(), T, Phi2Logits::Last, {});  // prefill
//   ...phi2_forward(logits.data(), s, w, cfg, next.data(), 1, ...)              // decode
//
// Differences from plain Phi-2 (HF PhiForCausalLM), all TinyGPT-V's:
//   - per-head q_layernorm / k_layernorm (LayerNorm(head_dim)) before rotary;
//   - post_layernorm, an RMSNorm on the attention output (after `dense`);
//   - LoRA on query_key_value and dense, merged into the weights at conversion.
// Shapes: D hidden, H heads, hd = D / H, I intermediate, V vocab_size, T new tokens.
// Sources: src/llm/phi2_weights.cpp, phi2_layer.cpp, phi2_model.cpp, kv_cache.cpp,
// generate.cpp. Tests: tests/llm/.
#pragma once
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "tinygptv/dump.h"
#include "tinygptv/model_file.h"
#include "tinygptv/sampler.h"
#include "tinygptv/tensor.h"

namespace tgv {

// One decoder layer. Matrices stay in their stored dtype (mmapped views into the
// ModelFile); vectors are float32 copies.
struct Phi2LayerWeights {
  std::vector<float> input_layernorm_weight;  // llama_model.model.layers.{i}.input_layernorm.weight          [D]
  std::vector<float> input_layernorm_bias;    // llama_model.model.layers.{i}.input_layernorm.bias            [D]
  Tensor qkv_weight;                          // llama_model.model.layers.{i}.self_attn.query_key_value.weight [3*D, D]
  std::vector<float> qkv_bias;                // llama_model.model.layers.{i}.self_attn.query_key_value.bias   [3*D]
  std::vector<float> q_layernorm_weight;      // llama_model.model.layers.{i}.self_attn.q_layernorm.weight     [hd]
  std::vector<float> q_layernorm_bias;        // llama_model.model.layers.{i}.self_attn.q_layernorm.bias       [hd]
  std::vector<float> k_layernorm_weight;      // llama_model.model.layers.{i}.self_attn.k_layernorm.weight     [hd]
  std::vector<float> k_layernorm_bias;        // llama_model.model.layers.{i}.self_attn.k_layernorm.bias       [hd]
  Tensor dense_weight;                        // llama_model.model.layers.{i}.self_attn.dense.weight           [D, D]
  std::vector<float> dense_bias;              // llama_model.model.layers.{i}.self_attn.dense.bias             [D]
  std::vector<float> post_layernorm_weight;   // llama_model.model.layers.{i}.post_layernorm.weight (RMSNorm) [D]
  Tensor fc1_weight;                          // llama_model.model.layers.{i}.mlp.fc1.weight                   [I, D]
  std::vector<float> fc1_bias;                // llama_model.model.layers.{i}.mlp.fc1.bias                     [I]
  Tensor fc2_weight;                          // llama_model.model.layers.{i}.mlp.fc2.weight                   [D, I]
  std::vector<float> fc2_bias;                // llama_model.model.layers.{i}.mlp.fc2.bias                     [D]
};

struct Phi2Weights {
  Tensor embed_tokens;                         // llama_model.model.embed_tokens.weight     [V, D]
  std::vector<Phi2LayerWeights> layers;        // llama_model.model.layers.{i}.*            x layers
  std::vector<float> final_layernorm_weight;   // llama_model.model.final_layernorm.weight  [D]
  std::vector<float> final_layernorm_bias;     // llama_model.model.final_layernorm.bias    [D]
  Tensor lm_head_weight;                       // llama_model.lm_head.weight                [V, D]
  std::vector<float> lm_head_bias;             // llama_model.lm_head.bias                  [V]
};

// Every tensor with the shape the config implies; a missing tensor or a wrong shape
// is a tgv::Error naming the tensor (and both shapes).                phi2_weights.cpp
Phi2Weights load_phi2(const ModelFile& model);

// The keys (KV cache) of every layer and the scratch activations of one forward
// call. Positions continue across calls: `pos` tokens are in the cache.  kv_cache.cpp
// kv_dtype F32 (the default: exact) or F16 (half the memory and half the bytes a decode
// step reads from the cache, as llama.cpp's default; each key and value is rounded to
// float16 when stored). Any other dtype is a tgv::Error.
struct Phi2State {
  explicit Phi2State(const LlmConfig& config, DType kv_dtype = DType::F32);

  DType kv_dtype = DType::F32;
  int pos = 0;                               // tokens already in the cache
  int max_positions = 0;                     // config.max_positions: the context limit
  int capacity = 0;                          // rows allocated in each cache (grows on demand)
  std::vector<std::vector<float>> k_cache;   // [layers][capacity, D]  keys after q/k-norm and rotary (F32)
  std::vector<std::vector<float>> v_cache;   // [layers][capacity, D]  (F32)
  std::vector<std::vector<uint16_t>> k_cache16;  // the same as float16 (F16); the other pair stays empty
  std::vector<std::vector<uint16_t>> v_cache16;
  // Scratch for T rows (resized by phi2_forward):
  std::vector<float> x;      // [T, D]   residual stream
  std::vector<float> h;      // [T, D]   input_layernorm(x), shared by attention and MLP
  std::vector<float> qkv;    // [T, 3D]  fused projection, rows laid out [H, 3, hd]
  std::vector<float> q;      // [T, D]   queries, heads contiguous
  std::vector<float> k, v;   // [T, D]   this call's keys and values before rounding (F16 cache only)
  std::vector<float> attn;   // [T, D]   attention output, heads re-concatenated
  std::vector<float> a;      // [T, D]   post_layernorm(dense(attn))
  std::vector<float> ff;     // [T, I]   gelu_new(fc1(h))
  std::vector<float> m;      // [T, D]   fc2(ff)
  std::vector<float> logits; // [T, V]   when every row's logits are wanted

  void reset() { pos = 0; }  // forget the cache (the buffers are kept)
};

// Makes room for `n` positions in every layer's cache (kept contents); a call with
// n > max_positions is a tgv::Error ("context limit").
void phi2_reserve(Phi2State& state, int n, int hidden);

// Rows of embed_tokens for ids[T] -> out [T, D] (any stored dtype -> float32).
// An id outside 0..V-1 is a tgv::Error naming it.                     phi2_model.cpp
void phi2_embed_tokens(float* out, const Phi2Weights& w, const int* ids, int T);

// One decoder layer on x [T, D] in place; the T rows have positions state.pos + t
// and their keys/values are written to the cache rows state.pos + t.  phi2_layer.cpp
void phi2_layer_forward(float* x, Phi2State& state, const Phi2LayerWeights& w, int layer, const LlmConfig& config, int T);

enum class Phi2Logits { Last, All };

// Appends T positions (input embeddings [T, D]) to the state and computes logits:
// Last -> logits [V] of the last row; All -> logits [T, V]. With `dump` set, calls it
// with "llm.embeds", "llm.layer.{i}", "llm.final_norm", "llm.logits" ([T, V] always).
// Positions past config.max_positions are a tgv::Error (nothing is changed then).
void phi2_forward(float* logits, Phi2State& state, const Phi2Weights& w, const LlmConfig& config,
                  const float* embeds, int T, Phi2Logits which, const DumpFn& dump);

// Generation (generate.cpp): prefill `embeds` [T, D], then one token at a time.
// Stops at eos_id, after max_new_tokens, or when on_token returns false (the caller
// decodes text and checks stop strings there, see sampler.h find_stop). Returns the
// generated ids (the eos id is not included). The sampler's repetition penalty sees
// `penalty_ids` (e.g. the prompt's text ids; upstream: none) plus every generated id.
struct GenerateOptions {
  int max_new_tokens = 300;
  int eos_id = 50256;        // <|endoftext|>
  int min_new_tokens = 0;    // eos is masked until this many ids exist (upstream min_length=1: 1)
  std::vector<int> penalty_ids;
};
std::vector<int> phi2_generate(Phi2State& state, const Phi2Weights& w, const LlmConfig& config, const float* embeds,
                               int T, const SamplerConfig& sampler, Rng& rng, const GenerateOptions& options,
                               const std::function<bool(int id)>& on_token);

}  // namespace tgv
