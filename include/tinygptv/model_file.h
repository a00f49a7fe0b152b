// The project's model file: one safetensors file whose __metadata__["config"] is a
// JSON string with every dimension (interface.md), and whose tensors carry the
// upstream state-dict names (PEFT wrapper removed, LoRA merged).
#pragma once
#include <memory>
#include <string>

#include "tinygptv/json.h"
#include "tinygptv/safetensors.h"

namespace tgv {

struct VisionConfig {       // "vision": EVA ViT-g/14
  int image_size = 224;     // the size the model runs at (S)
  int patch_size = 14;
  int width = 1408;         // W
  int layers = 39;
  int heads = 16;           // head dim = width / heads (88)
  int mlp_dim = 6144;
  float ln_eps = 1e-6f;
  float ln_vision_eps = 1e-5f;
};

struct QFormerConfig {      // "qformer": query-only BERT
  int hidden = 768;         // H
  int layers = 12;
  int heads = 12;           // head dim 64
  int intermediate = 3072;
  int cross_attention_freq = 2;
  int query_tokens = 32;    // Q
  float ln_eps = 1e-12f;
};

struct ProjectorConfig {    // "projector": llama_proj H -> mid, llama_proj2 mid -> D
  int mid = 4096;
};

struct LlmConfig {          // "llm": Phi-2, TinyGPT-V variant
  int vocab_size = 51200;   // V
  int hidden = 2560;        // D
  int layers = 32;
  int heads = 32;           // head dim 80
  int intermediate = 10240;
  int rotary_dim = 32;
  float rope_theta = 10000.0f;
  float ln_eps = 1e-5f;
  float rms_eps = 1e-6f;
  int max_positions = 2048;
};

struct ModelConfig {
  VisionConfig vision;
  QFormerConfig qformer;
  ProjectorConfig projector;
  LlmConfig llm;

  // Every key required; throws "config: missing key 'llm.hidden'" and the like.
  static ModelConfig from_json(const Json& j);
  Json to_json() const;
};

class ModelFile {
 public:
  explicit ModelFile(const std::string& path);  // safetensors + parsed, validated config
  explicit ModelFile(std::unique_ptr<SafetensorsFile> file);  // the same over a file already open (or in memory)

  const ModelConfig& config() const { return config_; }
  const SafetensorsFile& file() const { return *file_; }

  bool has(const std::string& name) const { return file_->find(name) != nullptr; }
  // A tensor with the shape the config implies; errors name the tensor and both shapes.
  const Tensor& tensor(const std::string& name, const std::vector<int64_t>& shape) const { return file_->get(name, shape); }
  // A weight matrix (rows = dim 0, a row = everything after it), in any weight dtype:
  // F32, F16, BF16 or a quantized format whose rows are whole blocks. Anything else
  // (rows of 48 in Q4_K, an activation format such as Q8_K) is a one-line tgv::Error.
  const Tensor& matrix(const std::string& name, const std::vector<int64_t>& shape) const;
  // A small tensor (norm weights, biases, tokens, position tables) as float32. It must
  // be stored as F32, F16 or BF16: a quantized vector is a tgv::Error naming it.
  std::vector<float> floats(const std::string& name, const std::vector<int64_t>& shape) const;
  const Tensor& unquantized(const std::string& name) const;  // the same check, any shape

 private:
  std::unique_ptr<SafetensorsFile> file_;
  ModelConfig config_;
};

}  // namespace tgv
