// The converter's view of its inputs: every tensor of every input file under its
// model name (interface.md spelling, before LoRA merging), later files overriding
// earlier ones, each remembering whether the output used it (the rest is "dropped").
//
//   eva_vit_g.pth   blocks.3.attn.qkv.weight           -> visual_encoder.blocks.3.attn.qkv.weight
//   Phi-2 shards    model.layers.0.self_attn.q_proj.weight -> llama_model.model.layers.0.self_attn.q_proj.weight
//   stage file      llama_model.base_model.model.model.layers.0.self_attn.dense.lora_A.default.weight
//                                                     -> llama_model.model.layers.0.self_attn.dense.lora_A.weight
//                   ...dense.base_layer.weight         -> ...dense.weight
#pragma once
#include <map>
#include <string>
#include <vector>

#include "tinygptv/checkpoint.h"
#include "tinygptv/convert.h"
#include "tinygptv/json.h"

namespace tgv {

enum class Origin { Vit, QFormer, Phi2, Stage };

// The model name of a tensor stored as `name` in a file of kind `origin`.
std::string model_name(const std::string& name, Origin origin);

class ConvertSources {
 public:
  void add(CheckpointTensor t, Origin origin);  // under model_name(t.name, origin); replaces an earlier one

  bool has(const std::string& name) const { return map_.count(name) != 0; }
  int order(const std::string& name) const;     // the file's position in the loading order (-1: absent)
  // The tensor, marked used; nullptr when absent.
  const CheckpointTensor* find(const std::string& name);
  // The tensor with exactly `shape`, marked used; throws naming the tensor, the file
  // it was expected in, and both shapes.
  const CheckpointTensor& need(const std::string& name, const std::vector<int64_t>& shape);
  const CheckpointTensor* peek(const std::string& name) const;  // not marked used
  // One more than the largest N of names "<prefix>N.<...>" (0 when none).
  int count_indexed(const std::string& prefix) const;

  size_t read() const { return read_; }
  size_t used() const;
  std::vector<std::string> unused_names() const;

 private:
  struct Entry {
    CheckpointTensor tensor;
    int order = 0;
    bool used = false;
  };
  std::map<std::string, Entry> map_;
  size_t read_ = 0;
};

// Which option names the file a tensor is expected in ("--vit", "--qformer", ...).
std::string expected_source(const std::string& model_name);

// A number under `key` of a JSON object, else nullptr (configs may lack anything).
const Json* json_number(const Json& obj, const char* key);

// The config from the tensors' shapes, the options, Phi-2's config.json and the stage
// file's saved config.model; `notes` says where inferred values came from.  convert_config.cpp
ModelConfig derive_config(const ConvertOptions& options, const ConvertSources& src, const Json& phi2_config,
                          const Json& stage_model_config, std::vector<std::string>& notes);

}  // namespace tgv
