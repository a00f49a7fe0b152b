// Input tensors under their model names: see convert_sources.h.
#include "checkpoint/convert_sources.h"

#include "tinygptv/error.h"
#include "tinygptv/tensor.h"

namespace tgv {

namespace {

bool starts_with(const std::string& s, const std::string& p) { return s.compare(0, p.size(), p) == 0; }

void replace_all(std::string& s, const std::string& from, const std::string& to) {
  for (size_t p = s.find(from); p != std::string::npos; p = s.find(from, p + to.size())) s.replace(p, from.size(), to);
}

}  // namespace

std::string model_name(const std::string& name, Origin origin) {
  std::string n = name;
  switch (origin) {
    case Origin::Vit:  // the ViT file holds the encoder's own state dict
      if (!starts_with(n, "visual_encoder.")) n = "visual_encoder." + n;
      break;
    case Origin::Phi2:  // a Hugging Face PhiForCausalLM state dict
      if (starts_with(n, "model.") || starts_with(n, "lm_head.")) n = "llama_model." + n;
      break;
    case Origin::QFormer:
    case Origin::Stage:
      break;
  }
  // The PEFT wrapper: PeftModel.base_model (LoraModel).model (the Phi-2 module).
  const std::string peft = "llama_model.base_model.model.";
  if (starts_with(n, peft)) n = "llama_model." + n.substr(peft.size());
  // Newer peft: the wrapped Linear is `base_layer`, adapters are named ("default").
  replace_all(n, ".base_layer.", ".");
  replace_all(n, ".lora_A.default.", ".lora_A.");
  replace_all(n, ".lora_B.default.", ".lora_B.");
  return n;
}

std::string expected_source(const std::string& n) {
  if (starts_with(n, "visual_encoder.")) return "the --vit file";
  if (starts_with(n, "Qformer.") || starts_with(n, "query_tokens") || starts_with(n, "ln_vision.")) return "the --qformer file";
  if (starts_with(n, "llama_proj")) return "the --tinygptv stage file";
  if (n.find(".lora_") != std::string::npos) return "the --tinygptv stage file";
  return "the --phi2 directory";
}

void ConvertSources::add(CheckpointTensor t, Origin origin) {
  read_++;
  Entry e;
  e.order = static_cast<int>(origin);
  std::string name = model_name(t.name, origin);
  e.tensor = std::move(t);
  map_[name] = std::move(e);
}

int ConvertSources::order(const std::string& name) const {
  auto it = map_.find(name);
  return it == map_.end() ? -1 : it->second.order;
}

const CheckpointTensor* ConvertSources::find(const std::string& name) {
  auto it = map_.find(name);
  if (it == map_.end()) return nullptr;
  it->second.used = true;
  return &it->second.tensor;
}

const CheckpointTensor* ConvertSources::peek(const std::string& name) const {
  auto it = map_.find(name);
  return it == map_.end() ? nullptr : &it->second.tensor;
}

const CheckpointTensor& ConvertSources::need(const std::string& name, const std::vector<int64_t>& shape) {
  const CheckpointTensor* t = find(name);
  if (!t) fail("missing tensor '" + name + "' (expected in " + expected_source(name) + ")");
  if (!t->is_float()) fail("tensor '" + name + "' in " + t->source + " has dtype " + t->dtype + ", not a float type");
  if (t->shape != shape)
    fail("tensor '" + name + "' in " + t->source + " has shape " + shape_str(t->shape) + "; the config wants " + shape_str(shape));
  return *t;
}

int ConvertSources::count_indexed(const std::string& prefix) const {
  int n = 0;
  for (auto it = map_.lower_bound(prefix); it != map_.end() && starts_with(it->first, prefix); ++it) {
    size_t p = prefix.size(), q = p;
    long v = 0;
    while (q < it->first.size() && q - p < 6 && it->first[q] >= '0' && it->first[q] <= '9') v = v * 10 + (it->first[q++] - '0');
    if (q > p && q < it->first.size() && it->first[q] == '.' && v + 1 > n) n = static_cast<int>(v + 1);
  }
  return n;
}

size_t ConvertSources::used() const {
  size_t n = 0;
  for (const auto& [name, e] : map_) n += e.used;
  return n;
}

std::vector<std::string> ConvertSources::unused_names() const {
  std::vector<std::string> out;
  for (const auto& [name, e] : map_)
    if (!e.used) out.push_back(name);
  return out;
}

}  // namespace tgv
