// The model config from the input tensors' shapes: see docs/checkpoints.md, step 3.
// No published file states the dimensions; they are read off the tensors, so the
// same code converts the real files and the tiny test ones. Head counts follow
// model.md section 8 (ViT width / 88, Q-Former hidden / 64, Phi-2's config.json).
#include <cmath>

#include "checkpoint/convert_sources.h"
#include "tinygptv/error.h"

namespace tgv {

namespace {

using Shape = std::vector<int64_t>;

std::string num(int64_t v) { return std::to_string(v); }

}  // namespace

const Json* json_number(const Json& obj, const char* key) {
  const Json* v = obj.is_object() ? obj.find(key) : nullptr;
  return v && v->is_number() ? v : nullptr;
}

ModelConfig derive_config(const ConvertOptions& o, const ConvertSources& src, const Json& phi2_config,
                          const Json& stage_model_config, std::vector<std::string>& notes) {
  ModelConfig c;
  auto shape_of = [&](const std::string& name, size_t dims) -> const Shape& {
    const CheckpointTensor* t = src.peek(name);
    if (!t) fail("missing tensor '" + name + "' (expected in " + expected_source(name) + "); cannot derive the dimensions");
    if (t->shape.size() != dims) fail("tensor '" + name + "' in " + t->source + " has shape " + shape_str(t->shape) + "; expected " + num(static_cast<int64_t>(dims)) + " dimensions");
    return t->shape;
  };
  auto fits = [](int64_t v, const std::string& what) {
    if (v < 1 || v > (int64_t{1} << 24)) fail(what + " = " + num(v) + " is out of range");
    return static_cast<int>(v);
  };

  // Vision: patch_embed.proj.weight [W, 3, P, P]; blocks.N; mlp fc1 [M, W].
  const Shape& pe = shape_of("visual_encoder.patch_embed.proj.weight", 4);
  if (pe[1] != 3 || pe[2] != pe[3]) fail("visual_encoder.patch_embed.proj.weight has shape " + shape_str(pe) + "; expected [W, 3, P, P]");
  c.vision.width = fits(pe[0], "vision width");
  c.vision.patch_size = fits(pe[2], "patch size");
  const int blocks_in_file = src.count_indexed("visual_encoder.blocks.");
  if (o.vit_layers >= 0) {
    if (o.vit_layers > blocks_in_file) fail("--vit-layers " + num(o.vit_layers) + " but the ViT file has only " + num(blocks_in_file) + " blocks");
    c.vision.layers = o.vit_layers;
  } else {
    if (blocks_in_file < 2) fail("the ViT file has " + num(blocks_in_file) + " blocks; upstream uses all but the last (pass --vit-layers N)");
    c.vision.layers = blocks_in_file - 1;
    notes.push_back("ViT: " + num(c.vision.layers) + " of the file's " + num(blocks_in_file) + " blocks (upstream drops the last)");
  }
  if (o.vit_heads > 0) {
    c.vision.heads = o.vit_heads;
  } else {
    if (c.vision.width % 88) fail("ViT width " + num(c.vision.width) + " is not a multiple of EVA's head dim 88; pass --vit-heads N");
    c.vision.heads = c.vision.width / 88;
  }
  c.vision.mlp_dim = fits(shape_of("visual_encoder.blocks.0.mlp.fc1.weight", 2)[0], "ViT mlp dim");
  if (o.image_size > 0) {
    c.vision.image_size = o.image_size;
  } else if (const Json* s = json_number(stage_model_config, "image_size"); s && s->is_integer()) {
    c.vision.image_size = fits(s->as_int(), "image_size in the stage file's config");
    notes.push_back("image size " + num(c.vision.image_size) + " from the stage file's saved config");
  } else {
    c.vision.image_size = 224;
    notes.push_back("image size 224 (default)");
  }
  if (c.vision.image_size % c.vision.patch_size)
    fail("image size " + num(c.vision.image_size) + " is not a multiple of the patch size " + num(c.vision.patch_size));

  // Q-Former: query_tokens [1, Q, H]; layers with crossattention every `freq`.
  const Shape& qt = shape_of("query_tokens", 3);
  c.qformer.query_tokens = fits(qt[1], "query token count");
  c.qformer.hidden = fits(qt[2], "Q-Former hidden size");
  c.qformer.layers = src.count_indexed("Qformer.bert.encoder.layer.");
  if (c.qformer.layers < 1) fail("missing tensor 'Qformer.bert.encoder.layer.0.*' (expected in the --qformer file)");
  if (o.qformer_heads > 0) {
    c.qformer.heads = o.qformer_heads;
  } else {
    if (c.qformer.hidden % 64) fail("Q-Former hidden size " + num(c.qformer.hidden) + " is not a multiple of BERT's head dim 64");
    c.qformer.heads = c.qformer.hidden / 64;
  }
  c.qformer.intermediate = fits(shape_of("Qformer.bert.encoder.layer.0.intermediate_query.dense.weight", 2)[0], "Q-Former intermediate size");
  auto has_cross = [&](int i) { return src.has("Qformer.bert.encoder.layer." + num(i) + ".crossattention.self.query.weight"); };
  if (!has_cross(0)) fail("missing tensor 'Qformer.bert.encoder.layer.0.crossattention.self.query.weight' (expected in the --qformer file)");
  int freq = c.qformer.layers > 1 ? c.qformer.layers : 2;
  for (int i = 1; i < c.qformer.layers; i++)
    if (has_cross(i)) { freq = i; break; }
  for (int i = 0; i < c.qformer.layers; i++)
    if (has_cross(i) != (i % freq == 0))
      fail("Q-Former layer " + num(i) + (has_cross(i) ? " has" : " lacks") + " cross-attention, which does not fit one every " + num(freq) + " layers");
  c.qformer.cross_attention_freq = freq;

  c.projector.mid = fits(shape_of("llama_proj.weight", 2)[0], "llama_proj output size");

  // LLM: embed_tokens [V, D]; heads and rotary from config.json.
  const Shape& emb = shape_of("llama_model.model.embed_tokens.weight", 2);
  c.llm.vocab_size = fits(emb[0], "vocabulary size");
  c.llm.hidden = fits(emb[1], "LLM hidden size");
  c.llm.layers = src.count_indexed("llama_model.model.layers.");
  c.llm.intermediate = fits(shape_of("llama_model.model.layers.0.mlp.fc1.weight", 2)[0], "LLM intermediate size");
  if (o.llm_heads > 0) {
    c.llm.heads = o.llm_heads;
  } else {
    const Json* h = json_number(phi2_config, "num_attention_heads");
    if (!h) h = json_number(phi2_config, "n_head");
    if (!h || !h->is_integer()) fail("the --phi2 directory's config.json has no num_attention_heads (pass --llm-heads N)");
    c.llm.heads = fits(h->as_int(), "num_attention_heads");
  }
  if (c.llm.hidden % c.llm.heads) fail("LLM hidden size " + num(c.llm.hidden) + " is not a multiple of " + num(c.llm.heads) + " heads");
  const int head_dim = c.llm.hidden / c.llm.heads;
  if (const Json* r = json_number(phi2_config, "rotary_dim"); r && r->is_integer()) {
    c.llm.rotary_dim = static_cast<int>(r->as_int());
  } else {
    const Json* f = json_number(phi2_config, "partial_rotary_factor");
    c.llm.rotary_dim = static_cast<int>((f ? f->as_number() : 0.4) * head_dim);  // transformers: int(factor * head_dim)
  }
  if (const Json* t = json_number(phi2_config, "rope_theta")) c.llm.rope_theta = static_cast<float>(t->as_number());
  if (const Json* e = json_number(phi2_config, "layer_norm_eps")) c.llm.ln_eps = static_cast<float>(e->as_number());
  else if (const Json* e2 = json_number(phi2_config, "layer_norm_epsilon")) c.llm.ln_eps = static_cast<float>(e2->as_number());
  if (const Json* m = json_number(phi2_config, "max_position_embeddings"); m && m->is_integer()) c.llm.max_positions = fits(m->as_int(), "max_position_embeddings");
  else if (const Json* m2 = json_number(phi2_config, "n_positions"); m2 && m2->is_integer()) c.llm.max_positions = fits(m2->as_int(), "n_positions");

  return ModelConfig::from_json(c.to_json());  // the model file's own validation (multiples, ranges)
}

}  // namespace tgv
