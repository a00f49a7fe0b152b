// Hugging Face safetensors checkpoints, one file or sharded: see
// include/tinygptv/checkpoint.h. A sharded release has
//   model.safetensors.index.json = {"metadata": {...}, "weight_map": {"model.embed_tokens.weight": "model-00001-of-00002.safetensors", ...}}
// and every tensor listed there must be in the shard it names.
#include <filesystem>
#include <map>
#include <set>

#include "tinygptv/checkpoint.h"
#include "tinygptv/error.h"
#include "tinygptv/json.h"
#include "tinygptv/mapped_file.h"

namespace tgv {

namespace fs = std::filesystem;

SafetensorsShards::SafetensorsShards(const std::string& path) {
  std::error_code ec;
  if (!fs::is_directory(path, ec)) {
    shards_.push_back(std::make_unique<SafetensorsFile>(path));
    return;
  }
  const fs::path dir(path);
  const fs::path index = dir / "model.safetensors.index.json";
  if (!fs::exists(index, ec)) {
    if (fs::exists(dir / "model.safetensors", ec)) {
      shards_.push_back(std::make_unique<SafetensorsFile>((dir / "model.safetensors").string()));
      return;
    }
    fail(path + ": neither model.safetensors.index.json nor model.safetensors is there");
  }
  const std::vector<uint8_t> text = read_file_bytes(index.string());
  Json j;
  try {
    j = Json::parse(std::string_view(reinterpret_cast<const char*>(text.data()), text.size()));
  } catch (const Error& e) {
    fail(index.string() + ": " + e.what());
  }
  const Json* map = j.is_object() ? j.find("weight_map") : nullptr;
  if (!map || !map->is_object()) fail(index.string() + ": no \"weight_map\" object");
  std::map<std::string, std::string> where;  // tensor -> shard file name
  std::set<std::string> files;
  for (const auto& [name, file] : map->as_object()) {
    if (!file.is_string()) fail(index.string() + ": weight_map entry '" + name + "' is not a file name");
    const std::string& f = file.as_string();
    if (f.empty() || f.find('/') != std::string::npos || f.find('\\') != std::string::npos || f == "." || f == "..")
      fail(index.string() + ": shard name '" + f + "' is not a plain file name");
    where[name] = f;
    files.insert(f);
  }
  for (const std::string& f : files) shards_.push_back(std::make_unique<SafetensorsFile>((dir / f).string()));
  for (const auto& [name, f] : where) {
    bool found = false;
    for (const auto& s : shards_)
      if (fs::path(s->path()).filename() == f && s->find(name)) found = true;
    if (!found) fail(index.string() + ": tensor '" + name + "' is not in its shard " + f);
  }
}

std::vector<CheckpointTensor> SafetensorsShards::tensors() const {
  std::vector<CheckpointTensor> out;
  for (const auto& s : shards_) {
    for (const Tensor& t : s->tensors()) {
      CheckpointTensor c;
      c.name = t.name;
      c.source = s->path();
      c.dtype = dtype_name(t.dtype);
      c.shape = t.shape;
      const Tensor* p = &t;
      c.load = [p] { return tensor_f32(*p); };
      out.push_back(std::move(c));
    }
  }
  return out;
}

}  // namespace tgv
