// `tinygptv convert`: see include/tinygptv/convert.h and docs/checkpoints.md.
//
// Three steps:
//  1. load every input file's tensor list (nothing is read yet) into ConvertSources;
//  2. derive the config from the tensors' shapes (convert_config.cpp);
//  3. plan one recipe per output tensor (copy / fuse q,k,v / merge LoRA / default /
//     interpolate), then write them one by one through write_safetensors.
#include <algorithm>
#include <cmath>
#include <filesystem>
#include <functional>
#include <memory>

#include "checkpoint/convert_sources.h"
#include "tinygptv/checkpoint.h"
#include "tinygptv/convert.h"
#include "tinygptv/error.h"
#include "tinygptv/mapped_file.h"
#include "tinygptv/quantize.h"
#include "tinygptv/vision.h"

namespace tgv {

namespace {

namespace fs = std::filesystem;
using Shape = std::vector<int64_t>;

struct Planned {
  TensorEntry entry;
  std::function<std::vector<float>()> make;  // entry.shape floats, C order
};

std::string num(int64_t v) { return std::to_string(v); }

Json read_json_file(const std::string& path) {
  const std::vector<uint8_t> text = read_file_bytes(path);
  try {
    return Json::parse(std::string_view(reinterpret_cast<const char*>(text.data()), text.size()));
  } catch (const Error& e) {
    fail(path + ": " + e.what());
  }
}

// A Hugging Face directory without safetensors but with PyTorch weights
// (pytorch_model.bin, or shards listed in pytorch_model.bin.index.json): those files.
std::vector<std::string> pytorch_bin_files(const std::string& dir) {
  std::error_code ec;
  const fs::path d(dir);
  if (!fs::is_directory(d, ec) || fs::exists(d / "model.safetensors.index.json", ec) || fs::exists(d / "model.safetensors", ec)) return {};
  if (fs::exists(d / "pytorch_model.bin", ec)) return {(d / "pytorch_model.bin").string()};
  if (!fs::exists(d / "pytorch_model.bin.index.json", ec)) return {};
  const Json index = read_json_file((d / "pytorch_model.bin.index.json").string());
  const Json* map = index.is_object() ? index.find("weight_map") : nullptr;
  if (!map || !map->is_object()) fail((d / "pytorch_model.bin.index.json").string() + ": no \"weight_map\" object");
  std::vector<std::string> files;
  for (const auto& [name, file] : map->as_object()) {
    if (!file.is_string() || file.as_string().empty() || file.as_string().find('/') != std::string::npos || file.as_string()[0] == '.')
      fail((d / "pytorch_model.bin.index.json").string() + ": entry '" + name + "' does not name a plain file");
    const std::string path = (d / file.as_string()).string();
    if (std::find(files.begin(), files.end(), path) == files.end()) files.push_back(path);
  }
  return files;
}

// ---------------------------------------------------------------- recipes
// q, k, v [D, D] (rows = out features) -> [3D, D] with rows ordered [heads, 3, head_dim]:
// transformers 4.36's Wqkv.view(3, h, hd, D).transpose(0, 1), read backwards.
std::vector<float> fuse_per_head(const std::vector<float>& q, const std::vector<float>& k, const std::vector<float>& v,
                                 int heads, int head_dim, size_t cols) {
  const std::vector<float>* parts[3] = {&q, &k, &v};
  std::vector<float> out(q.size() * 3);
  const size_t block = static_cast<size_t>(head_dim) * cols;
  for (int h = 0; h < heads; h++)
    for (int j = 0; j < 3; j++)
      std::copy_n(parts[j]->data() + h * block, block, out.data() + (static_cast<size_t>(h) * 3 + j) * block);
  return out;
}

// w [out, in] += scale * B [out, r] @ A [r, in]  (PEFT's merge; the product summed in double)
void merge_lora(std::vector<float>& w, const std::vector<float>& a, const std::vector<float>& b, double scale,
                size_t out, size_t in, size_t r) {
  std::vector<double> row(in);
  for (size_t o = 0; o < out; o++) {
    std::fill(row.begin(), row.end(), 0.0);
    for (size_t k = 0; k < r; k++) {
      const double bk = b[o * r + k];
      const float* ak = a.data() + k * in;
      for (size_t i = 0; i < in; i++) row[i] += bk * ak[i];
    }
    float* wo = w.data() + o * in;
    for (size_t i = 0; i < in; i++) wo[i] = static_cast<float>(wo[i] + scale * row[i]);
  }
}

class Planner {
 public:
  Planner(ConvertSources& src, const ModelConfig& c, ConvertSummary& sum, double alpha, int r_override)
      : src_(src), c_(c), sum_(sum), alpha_(alpha), r_override_(r_override) {}

  std::vector<Planned> plan();

 private:
  void copy(const std::string& name, const Shape& shape) {
    const CheckpointTensor* t = &src_.need(name, shape);
    add(name, shape, [t] { return t->load(); });
  }
  void linear(const std::string& name, int64_t out, int64_t in) {
    copy(name + ".weight", {out, in});
    copy(name + ".bias", {out});
  }
  void layernorm(const std::string& name, int64_t n) {
    copy(name + ".weight", {n});
    copy(name + ".bias", {n});
  }
  void or_default(const std::string& name, const Shape& shape, float value) {
    if (src_.has(name)) return copy(name, shape);
    sum_.defaulted++;
    const size_t n = static_cast<size_t>(shape[0]);
    add(name, shape, [n, value] { return std::vector<float>(n, value); });
  }
  // `module`.weight [out, in] (optionally fused from q/k/v) with its LoRA pair merged.
  void lora_linear(const std::string& module, int64_t out, int64_t in, bool fusable);
  void add(const std::string& name, const Shape& shape, std::function<std::vector<float>()> make) {
    Planned p;
    p.entry = TensorEntry{name, DType::F32, shape};
    p.make = std::move(make);
    plan_.push_back(std::move(p));
  }

  ConvertSources& src_;
  const ModelConfig& c_;
  ConvertSummary& sum_;
  double alpha_;
  int r_override_;
  std::vector<Planned> plan_;
};

void Planner::lora_linear(const std::string& module, int64_t out, int64_t in, bool fusable) {
  const std::string parent = module.substr(0, module.rfind('.') + 1);
  const std::string wname = module + ".weight", bname = module + ".bias";
  // Base weight and bias: the fused tensor, or q/k/v fused per head (whichever file came later).
  const bool separate = fusable && src_.has(parent + "q_proj.weight");
  const bool fuse = separate && (!src_.has(wname) || src_.order(parent + "q_proj.weight") > src_.order(wname));
  const int heads = c_.llm.heads, hd = c_.llm.hidden / c_.llm.heads;
  std::function<std::vector<float>()> base_w, base_b;
  if (fuse) {
    const Shape sq{out / 3, in}, sb{out / 3};
    const CheckpointTensor* q = &src_.need(parent + "q_proj.weight", sq);
    const CheckpointTensor* k = &src_.need(parent + "k_proj.weight", sq);
    const CheckpointTensor* v = &src_.need(parent + "v_proj.weight", sq);
    const CheckpointTensor* qb = &src_.need(parent + "q_proj.bias", sb);
    const CheckpointTensor* kb = &src_.need(parent + "k_proj.bias", sb);
    const CheckpointTensor* vb = &src_.need(parent + "v_proj.bias", sb);
    base_w = [=] { return fuse_per_head(q->load(), k->load(), v->load(), heads, hd, static_cast<size_t>(in)); };
    base_b = [=] { return fuse_per_head(qb->load(), kb->load(), vb->load(), heads, hd, 1); };
    sum_.fused++;
  } else {
    const CheckpointTensor* w = &src_.need(wname, {out, in});
    const CheckpointTensor* b = &src_.need(bname, {out});
    base_w = [w] { return w->load(); };
    base_b = [b] { return b->load(); };
  }
  const std::string an = module + ".lora_A.weight", bn = module + ".lora_B.weight";
  if (src_.has(an) != src_.has(bn)) fail("LoRA for '" + module + "' has only one of lora_A and lora_B");
  if (src_.has(an)) {
    const CheckpointTensor* pa = src_.peek(an);
    if (pa->shape.size() != 2 || pa->shape[0] < 1 || pa->shape[1] != in)
      fail("tensor '" + an + "' in " + pa->source + " has shape " + shape_str(pa->shape) + "; expected [r, " + num(in) + "]");
    const int64_t r = pa->shape[0];
    const CheckpointTensor* a = &src_.need(an, {r, in});
    const CheckpointTensor* b = &src_.need(bn, {out, r});
    const double scale = alpha_ / static_cast<double>(r_override_ > 0 ? r_override_ : r);
    sum_.lora_scale = scale;
    sum_.merged++;
    add(wname, {out, in}, [=] {
      std::vector<float> w = base_w();
      merge_lora(w, a->load(), b->load(), scale, static_cast<size_t>(out), static_cast<size_t>(in), static_cast<size_t>(r));
      return w;
    });
  } else {
    add(wname, {out, in}, base_w);
  }
  add(bname, {out}, base_b);
}

std::vector<Planned> Planner::plan() {
  const VisionConfig& v = c_.vision;
  const int64_t W = v.width, P = v.patch_size, M = v.mlp_dim;
  const std::string ve = "visual_encoder.";
  copy(ve + "patch_embed.proj.weight", {W, 3, P, P});
  copy(ve + "patch_embed.proj.bias", {W});
  copy(ve + "cls_token", {1, 1, W});
  {  // pos_embed [1, G*G + 1, W] for 224 -> [1, g*g + 1, W] for the image size
    const CheckpointTensor* pos = src_.find(ve + "pos_embed");
    if (!pos) fail("missing tensor 'visual_encoder.pos_embed' (expected in the --vit file)");
    const Shape& s = pos->shape;
    const int64_t cells = s.size() == 3 ? s[1] - 1 : -1;
    const int64_t G = cells > 0 ? static_cast<int64_t>(std::llround(std::sqrt(static_cast<double>(cells)))) : -1;
    if (s.size() != 3 || s[0] != 1 || s[2] != W || G * G != cells)
      fail("tensor 'visual_encoder.pos_embed' in " + pos->source + " has shape " + shape_str(s) + "; expected [1, G*G + 1, " + num(W) + "]");
    const int64_t g = v.image_size / P;
    if (G != g) sum_.interpolated++;
    add(ve + "pos_embed", {1, g * g + 1, W}, [pos, G, g, W] {
      std::vector<float> table = pos->load();
      if (G == g) return table;
      std::vector<float> out(static_cast<size_t>((g * g + 1) * W));
      std::copy_n(table.data(), W, out.data());  // the cls position is kept as is
      interpolate_pos_grid(out.data() + W, table.data() + W, static_cast<int>(G), static_cast<int>(g), static_cast<int>(W));
      return out;
    });
  }
  for (int i = 0; i < v.layers; i++) {
    const std::string b = ve + "blocks." + num(i) + ".";
    layernorm(b + "norm1", W);
    copy(b + "attn.qkv.weight", {3 * W, W});
    copy(b + "attn.q_bias", {W});
    copy(b + "attn.v_bias", {W});
    linear(b + "attn.proj", W, W);
    layernorm(b + "norm2", W);
    linear(b + "mlp.fc1", M, W);
    linear(b + "mlp.fc2", W, M);
  }
  layernorm("ln_vision", W);

  const QFormerConfig& q = c_.qformer;
  const int64_t H = q.hidden, I = q.intermediate;
  copy("query_tokens", {1, q.query_tokens, H});
  layernorm("Qformer.bert.embeddings.LayerNorm", H);
  for (int i = 0; i < q.layers; i++) {
    const std::string L = "Qformer.bert.encoder.layer." + num(i) + ".";
    for (const char* m : {"query", "key", "value"}) linear(L + "attention.self." + m, H, H);
    linear(L + "attention.output.dense", H, H);
    layernorm(L + "attention.output.LayerNorm", H);
    if (i % q.cross_attention_freq == 0) {
      linear(L + "crossattention.self.query", H, H);
      linear(L + "crossattention.self.key", H, W);
      linear(L + "crossattention.self.value", H, W);
      linear(L + "crossattention.output.dense", H, H);
      layernorm(L + "crossattention.output.LayerNorm", H);
    }
    linear(L + "intermediate_query.dense", I, H);
    linear(L + "output_query.dense", H, I);
    layernorm(L + "output_query.LayerNorm", H);
  }

  const LlmConfig& l = c_.llm;
  const int64_t D = l.hidden, F = l.intermediate, V = l.vocab_size, hd = l.hidden / l.heads;
  linear("llama_proj", c_.projector.mid, H);
  linear("llama_proj2", D, c_.projector.mid);
  const std::string lm = "llama_model.model.";
  copy(lm + "embed_tokens.weight", {V, D});
  for (int i = 0; i < l.layers; i++) {
    const std::string L = lm + "layers." + num(i) + ".";
    layernorm(L + "input_layernorm", D);
    lora_linear(L + "self_attn.query_key_value", 3 * D, D, true);
    // A plain Phi-2 has no q/k LayerNorm and no RMSNorm: ones and zeros (model.md section 8).
    for (const char* n : {"q_layernorm", "k_layernorm"}) {
      or_default(L + "self_attn." + n + ".weight", {hd}, 1.0f);
      or_default(L + "self_attn." + n + ".bias", {hd}, 0.0f);
    }
    lora_linear(L + "self_attn.dense", D, D, false);
    or_default(L + "post_layernorm.weight", {D}, 1.0f);
    linear(L + "mlp.fc1", F, D);
    linear(L + "mlp.fc2", D, F);
  }
  layernorm(lm + "final_layernorm", D);
  linear("llama_model.lm_head", V, D);
  return std::move(plan_);
}

}  // namespace

ConvertSummary convert_checkpoints(const ConvertOptions& o) {
  if (o.vit.empty() || o.qformer.empty() || o.phi2.empty() || o.out.empty())
    fail("convert needs --phi2 DIR, --vit FILE, --qformer FILE and --out FILE");
  ConvertSummary sum;
  ConvertSources src;
  // Upstream order (later files override): ViT, Q-Former (load_from_pretrained), Phi-2, stage file.
  TorchFile vit(o.vit);
  for (CheckpointTensor& t : vit.state_dict()) src.add(std::move(t), Origin::Vit);
  TorchFile qformer(o.qformer);
  for (CheckpointTensor& t : qformer.state_dict()) src.add(std::move(t), Origin::QFormer);
  std::error_code ec;
  std::unique_ptr<SafetensorsShards> phi2;
  std::vector<std::unique_ptr<TorchFile>> phi2_bins;
  for (const std::string& f : pytorch_bin_files(o.phi2)) phi2_bins.push_back(std::make_unique<TorchFile>(f));
  if (phi2_bins.empty()) phi2 = std::make_unique<SafetensorsShards>(o.phi2);
  for (CheckpointTensor& t : phi2 ? phi2->tensors() : std::vector<CheckpointTensor>()) src.add(std::move(t), Origin::Phi2);
  for (const auto& f : phi2_bins)
    for (CheckpointTensor& t : f->state_dict()) src.add(std::move(t), Origin::Phi2);
  Json phi2_config = Json::object();
  if (fs::is_directory(o.phi2, ec) && fs::exists(fs::path(o.phi2) / "config.json", ec))
    phi2_config = read_json_file((fs::path(o.phi2) / "config.json").string());
  std::unique_ptr<TorchFile> stage;
  Json stage_model_config = Json::object();
  if (!o.stage.empty()) {
    stage = std::make_unique<TorchFile>(o.stage);
    for (CheckpointTensor& t : stage->state_dict()) src.add(std::move(t), Origin::Stage);
    const Json cfg = stage->value_json({"config", "model"});  // runner_base: config.to_dict()
    if (cfg.is_object()) stage_model_config = cfg;
  }
  sum.read = src.read();

  sum.config = derive_config(o, src, phi2_config, stage_model_config, sum.notes);
  if (o.lora_alpha > 0) {
    sum.lora_alpha = o.lora_alpha;
  } else if (const Json* a = json_number(stage_model_config, "lora_alpha")) {
    sum.lora_alpha = a->as_number();
    sum.notes.push_back("LoRA alpha " + Json::number(sum.lora_alpha).dump() + " from the stage file's saved config");
  } else {
    sum.lora_alpha = 16;  // upstream's default (minigpt_base: lora_alpha=16)
    sum.notes.push_back("LoRA alpha 16 (default; the stage file's config records none)");
  }

  Planner planner(src, sum.config, sum, sum.lora_alpha, o.lora_r);
  std::vector<Planned> plan = planner.plan();
  const std::vector<std::string> unused = src.unused_names();
  size_t stray_lora = 0;
  for (const std::string& n : unused) stray_lora += n.find(".lora_") != std::string::npos;
  if (stray_lora) sum.notes.push_back("warning: " + num(static_cast<int64_t>(stray_lora)) + " LoRA tensors were not merged (not on query_key_value or dense)");
  if (sum.merged) sum.notes.push_back("LoRA scale alpha/r = " + Json::number(sum.lora_scale).dump());

  // The dtypes: the recipe `tinygptv quantize` uses too (include/tinygptv/quantize.h).
  std::vector<TensorEntry> entries;
  std::vector<RecipeFallback> fallbacks;
  for (Planned& p : plan) {
    const RecipeChoice c = recipe_dtype(p.entry.name, p.entry.shape, o.dtype, /*pure=*/false);
    if (c.fallback()) fallbacks.push_back({p.entry.name, p.entry.shape, c.preferred, c.dtype});
    p.entry.dtype = c.dtype;
    entries.push_back(p.entry);
  }
  for (const std::string& w : fallback_warnings(fallbacks)) sum.notes.push_back(w);
  Json source = Json::object({{"vit", Json::string(fs::path(o.vit).filename().string())},
                              {"qformer", Json::string(fs::path(o.qformer).filename().string())},
                              {"phi2", Json::string(fs::path(o.phi2).filename().string())},
                              {"tinygptv", Json::string(o.stage.empty() ? "" : fs::path(o.stage).filename().string())}});
  write_safetensors(o.out, entries, {{"config", sum.config.to_json().dump()}, {"converted_from", source.dump()}},
                    [&](size_t i, std::vector<uint8_t>& out) {
                      const std::vector<float> v = plan[i].make();
                      size_t n = 1;
                      for (int64_t dim : plan[i].entry.shape) n *= static_cast<size_t>(dim);
                      TGV_ASSERT(v.size() == n, "convert: recipe for " + plan[i].entry.name + " made the wrong number of values");
                      encode_floats(out, v.data(), v.size(), plan[i].entry.dtype);
                      if (o.progress) o.progress(i + 1, plan.size());
                    });
  sum.written = plan.size();
  sum.dropped = sum.read - src.used();
  sum.bytes_written = static_cast<uint64_t>(fs::file_size(o.out, ec));
  return sum;
}

}  // namespace tgv
