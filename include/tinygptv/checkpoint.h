// Reading the published checkpoints (model.md section 8) without Python:
//  - TorchFile: a file written by torch.save (PyTorch >= 1.6: a zip holding
//    PREFIX/data.pkl, PREFIX/data/<key> per storage, PREFIX/version, ...), e.g.
//    eva_vit_g.pth, blip2_pretrained_flant5xxl.pth, TinyGPT-V_for_StageK.pth.
//  - SafetensorsShards: Hugging Face safetensors, one file or shards listed in
//    model.safetensors.index.json (the Phi-2 release).
// Both hand out CheckpointTensor descriptors: name, dtype, shape and a loader. No
// tensor data is read until load() is called, so an optimizer state saved next to
// the weights costs nothing. Every size, offset and stride in a file is checked;
// problems are one-line tgv::Error messages naming the file and the tensor.
#pragma once
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "tinygptv/json.h"
#include "tinygptv/safetensors.h"

namespace tgv {

struct CheckpointTensor {
  std::string name;                          // state-dict key, as in the file
  std::string source;                        // the file it comes from (for messages)
  std::string dtype;                         // "F32", "F16", "BF16", "F64"; integer/bool kinds: "I64", "U8", ...
  std::vector<int64_t> shape;
  std::function<std::vector<float>()> load;  // float32 copy, C order; set for float dtypes only

  bool is_float() const { return static_cast<bool>(load); }
  int64_t numel() const;
};

class TorchFile {
 public:
  explicit TorchFile(const std::string& path);             // maps the file, parses zip + pickle
  TorchFile(std::vector<uint8_t> bytes, std::string label);  // the same from memory (tests, fuzzing)
  ~TorchFile();
  TorchFile(const TorchFile&) = delete;
  TorchFile& operator=(const TorchFile&) = delete;

  const std::string& label() const;
  // The tensors of the state dict: the top-level dict, or the one under "model"
  // (or "state_dict") when the file is a training checkpoint {"model": ..., "optimizer": ...}.
  // Non-tensor values are skipped. Valid while this TorchFile lives.
  std::vector<CheckpointTensor> state_dict() const;
  // A plain value of the top-level dict as JSON, following `keys` (e.g. {"config", "model"});
  // null when absent. Tensors become null; depth is capped.
  Json value_json(const std::vector<std::string>& keys) const;
  uint64_t bytes_read() const;  // storage bytes read (or inflated) so far: proves laziness in tests

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

class SafetensorsShards {
 public:
  // `path`: a .safetensors file, or a directory with model.safetensors.index.json
  // (its "weight_map" names the shards) or with model.safetensors.
  explicit SafetensorsShards(const std::string& path);
  std::vector<CheckpointTensor> tensors() const;  // valid while this object lives

 private:
  std::vector<std::unique_ptr<SafetensorsFile>> shards_;
};

}  // namespace tgv
