// Loading the language model's weights from a model file: every tensor named as in
// interface.md, with the shape the config implies (errors name the tensor and both
// shapes). Matrices stay mmapped in their stored dtype (any weight format:
// ModelFile::matrix); vectors become float32 (stored F32, F16 or BF16).
#include <string>

#include "tinygptv/error.h"
#include "tinygptv/phi2.h"

namespace tgv {

Phi2Weights load_phi2(const ModelFile& model) {
  const LlmConfig& c = model.config().llm;
  const int64_t D = c.hidden, V = c.vocab_size, I = c.intermediate, hd = c.hidden / c.heads;
  const std::string p = "llama_model.";
  Phi2Weights w;
  w.embed_tokens = model.matrix(p + "model.embed_tokens.weight", {V, D});
  for (int i = 0; i < c.layers; i++) {  // layer by layer: a huge "layers" fails at the first missing one
    const std::string l = p + "model.layers." + std::to_string(i) + ".";
    Phi2LayerWeights& L = w.layers.emplace_back();
    L.input_layernorm_weight = model.floats(l + "input_layernorm.weight", {D});
    L.input_layernorm_bias = model.floats(l + "input_layernorm.bias", {D});
    L.qkv_weight = model.matrix(l + "self_attn.query_key_value.weight", {3 * D, D});
    L.qkv_bias = model.floats(l + "self_attn.query_key_value.bias", {3 * D});
    L.q_layernorm_weight = model.floats(l + "self_attn.q_layernorm.weight", {hd});
    L.q_layernorm_bias = model.floats(l + "self_attn.q_layernorm.bias", {hd});
    L.k_layernorm_weight = model.floats(l + "self_attn.k_layernorm.weight", {hd});
    L.k_layernorm_bias = model.floats(l + "self_attn.k_layernorm.bias", {hd});
    L.dense_weight = model.matrix(l + "self_attn.dense.weight", {D, D});
    L.dense_bias = model.floats(l + "self_attn.dense.bias", {D});
    L.post_layernorm_weight = model.floats(l + "post_layernorm.weight", {D});
    L.fc1_weight = model.matrix(l + "mlp.fc1.weight", {I, D});
    L.fc1_bias = model.floats(l + "mlp.fc1.bias", {I});
    L.fc2_weight = model.matrix(l + "mlp.fc2.weight", {D, I});
    L.fc2_bias = model.floats(l + "mlp.fc2.bias", {D});
  }
  w.final_layernorm_weight = model.floats(p + "model.final_layernorm.weight", {D});
  w.final_layernorm_bias = model.floats(p + "model.final_layernorm.bias", {D});
  w.lm_head_weight = model.matrix(p + "lm_head.weight", {V, D});
  w.lm_head_bias = model.floats(p + "lm_head.bias", {V});
  return w;
}

}  // namespace tgv
