// A model with random weights built in memory: see include/tinygptv/random_model.h.
#include "tinygptv/random_model.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <memory>
#include <numbers>

#include "tinygptv/byte_order.h"
#include "tinygptv/error.h"
#include "tinygptv/qformer.h"
#include "tinygptv/quant.h"
#include "tinygptv/quantize.h"
#include "tinygptv/thread_pool.h"

namespace tgv {

ModelConfig full_model_config(int image_size) {
  ModelConfig c;  // the defaults are the real model's (model_file.h, interface.md)
  c.vision.image_size = image_size;
  return c;
}

ModelConfig tiny_model_config(int image_size) {
  ModelConfig c;
  c.vision = {image_size, 14, /*width*/ 128, /*layers*/ 2, /*heads*/ 2, /*mlp_dim*/ 256, 1e-6f, 1e-5f};
  c.qformer = {/*hidden*/ 64, /*layers*/ 2, /*heads*/ 2, /*intermediate*/ 128, /*cross_attention_freq*/ 2, /*query_tokens*/ 32, 1e-12f};
  c.projector.mid = 128;
  c.llm.hidden = 128;
  c.llm.layers = 2;
  c.llm.heads = 2;  // head dim 64
  c.llm.intermediate = 512;
  c.llm.rotary_dim = 16;
  return c;
}

std::vector<TensorEntry> model_tensors(const ModelConfig& c) {
  std::vector<TensorEntry> out;
  auto add = [&](const std::string& name, std::vector<int64_t> shape) { out.push_back({name, DType::F32, std::move(shape)}); };
  auto linear = [&](const std::string& name, int64_t n_out, int64_t n_in) {
    add(name + ".weight", {n_out, n_in});
    add(name + ".bias", {n_out});
  };
  auto norm = [&](const std::string& name, int64_t n) {
    add(name + ".weight", {n});
    add(name + ".bias", {n});
  };

  // EVA ViT-g (src/vision/vit_weights.cpp)
  const VisionConfig& v = c.vision;
  const int64_t W = v.width, P = v.patch_size, g = v.image_size / v.patch_size;
  add("visual_encoder.patch_embed.proj.weight", {W, 3, P, P});
  add("visual_encoder.patch_embed.proj.bias", {W});
  add("visual_encoder.cls_token", {1, 1, W});
  add("visual_encoder.pos_embed", {1, g * g + 1, W});
  for (int i = 0; i < v.layers; i++) {
    const std::string b = "visual_encoder.blocks." + std::to_string(i) + ".";
    norm(b + "norm1", W);
    add(b + "attn.qkv.weight", {3 * W, W});
    add(b + "attn.q_bias", {W});
    add(b + "attn.v_bias", {W});
    linear(b + "attn.proj", W, W);
    norm(b + "norm2", W);
    linear(b + "mlp.fc1", v.mlp_dim, W);
    linear(b + "mlp.fc2", W, v.mlp_dim);
  }
  norm("ln_vision", W);

  // Q-Former (src/qformer/qformer_weights.cpp)
  const QFormerConfig& q = c.qformer;
  const int64_t H = q.hidden;
  add("query_tokens", {1, q.query_tokens, H});
  norm("Qformer.bert.embeddings.LayerNorm", H);
  auto attention = [&](const std::string& p, int64_t kv_width) {
    linear(p + "self.query", H, H);
    linear(p + "self.key", H, kv_width);
    linear(p + "self.value", H, kv_width);
    linear(p + "output.dense", H, H);
    norm(p + "output.LayerNorm", H);
  };
  for (int i = 0; i < q.layers; i++) {
    const std::string b = "Qformer.bert.encoder.layer." + std::to_string(i) + ".";
    attention(b + "attention.", H);
    if (qformer_has_cross(i, q)) attention(b + "crossattention.", W);
    linear(b + "intermediate_query.dense", q.intermediate, H);
    linear(b + "output_query.dense", H, q.intermediate);
    norm(b + "output_query.LayerNorm", H);
  }

  // projector (src/projector/projector.cpp)
  const LlmConfig& l = c.llm;
  const int64_t D = l.hidden, hd = l.hidden / l.heads;
  linear("llama_proj", c.projector.mid, H);
  linear("llama_proj2", D, c.projector.mid);

  // Phi-2 (src/llm/phi2_weights.cpp)
  add("llama_model.model.embed_tokens.weight", {l.vocab_size, D});
  for (int i = 0; i < l.layers; i++) {
    const std::string b = "llama_model.model.layers." + std::to_string(i) + ".";
    norm(b + "input_layernorm", D);
    linear(b + "self_attn.query_key_value", 3 * D, D);
    norm(b + "self_attn.q_layernorm", hd);
    norm(b + "self_attn.k_layernorm", hd);
    linear(b + "self_attn.dense", D, D);
    add(b + "post_layernorm.weight", {D});
    linear(b + "mlp.fc1", l.intermediate, D);
    linear(b + "mlp.fc2", D, l.intermediate);
  }
  norm("llama_model.model.final_layernorm", D);
  linear("llama_model.lm_head", l.vocab_size, D);
  return out;
}

namespace {

bool ends_with(const std::string& s, const std::string& suffix) {
  return s.size() >= suffix.size() && s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

int64_t row_length(const std::vector<int64_t>& shape) {  // everything after dim 0
  int64_t n = 1;
  for (size_t i = 1; i < shape.size(); i++) n *= shape[i];
  return shape.empty() ? 1 : n;
}

// x[n] -> n values of dtype t at out (n a whole number of blocks): float formats
// converted, block formats through the format's own quantizer (quant.h).
void encode_row(uint8_t* out, const float* x, size_t n, DType t) {
  if (t == DType::F32) return void(std::memcpy(out, x, n * sizeof(float)));
  if (t == DType::F16 || t == DType::BF16) {
    for (size_t i = 0; i < n; i++) {
      const uint16_t h = t == DType::F16 ? f32_to_f16(x[i]) : f32_to_bf16(x[i]);
      std::memcpy(out + 2 * i, &h, 2);
    }
    return;
  }
  const QuantFormat* q = quant_format(t);
  TGV_ASSERT(q != nullptr, std::string("no quantizer for ") + dtype_name(t));
  q->quantize_row(out, x, n);
}

// splitmix64's finaliser: a well-mixed 64-bit hash of a counter.
uint64_t mix(uint64_t z) {
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
  return z ^ (z >> 31);
}

// N(0, 0.02) at 65536 equally likely levels: level i is the normal quantile at
// (i + 1/2) / 65536 (|x| <= 4.3 sigma), found by Newton's method on erfc. One 64-bit
// hash gives four 16-bit levels, so a value costs a quarter of a hash and a lookup;
// the same levels pre-encoded as F16 / BF16 make those dtypes a plain table read.
struct NormalTable {
  static constexpr int kLevels = 1 << 16;
  std::vector<float> f32 = std::vector<float>(kLevels);
  std::vector<uint16_t> f16 = std::vector<uint16_t>(kLevels), bf16 = std::vector<uint16_t>(kLevels);

  NormalTable() {
    for (int i = 0; i < kLevels / 2; i++) {  // the lower half; the upper half mirrors it
      const double p = (i + 0.5) / kLevels;  // Phi(x) = erfc(-x / sqrt 2) / 2
      double x = -1;
      for (int it = 0; it < 60; it++) {
        const double err = 0.5 * std::erfc(-x / std::sqrt(2.0)) - p;
        const double step = err / (std::exp(-0.5 * x * x) / std::sqrt(2 * std::numbers::pi));
        x = std::clamp(x - step, -9.0, 0.0);
        if (std::fabs(step) < 1e-12) break;
      }
      f32[static_cast<size_t>(i)] = static_cast<float>(0.02 * x);
      f32[static_cast<size_t>(kLevels - 1 - i)] = static_cast<float>(-0.02 * x);
    }
    for (int i = 0; i < kLevels; i++) {
      f16[static_cast<size_t>(i)] = f32_to_f16(f32[static_cast<size_t>(i)]);
      bf16[static_cast<size_t>(i)] = f32_to_bf16(f32[static_cast<size_t>(i)]);
    }
  }
  // Levels of values k .. k+3 of the stream `key`: the four lanes of hash(key + k / 4).
  static uint64_t levels(uint64_t key, size_t k) { return mix(key + k / 4); }
};

// Row `r` of tensor `e` (cols values) into out, in e.dtype: N(0, 0.02), or ones.
void fill_row(uint8_t* out, const TensorEntry& e, size_t r, size_t cols, bool ones, uint64_t key, const NormalTable& table,
              std::vector<float>& scratch) {
  const uint64_t row_key = key + r * ((cols + 3) / 4);  // each row its own run of counters
  if (!ones && (e.dtype == DType::F16 || e.dtype == DType::BF16)) {
    const uint16_t* t = e.dtype == DType::F16 ? table.f16.data() : table.bf16.data();
    for (size_t k = 0; k < cols; k += 4) {
      const uint64_t h = NormalTable::levels(row_key, k);
      uint16_t v[4] = {t[h & 0xffff], t[(h >> 16) & 0xffff], t[(h >> 32) & 0xffff], t[h >> 48]};
      std::memcpy(out + 2 * k, v, 2 * std::min<size_t>(4, cols - k));
    }
    return;
  }
  scratch.resize(cols + 3);
  for (size_t k = 0; k < cols; k += 4) {
    const uint64_t h = NormalTable::levels(row_key, k);
    for (int j = 0; j < 4; j++) scratch[k + j] = ones ? 1.0f : table.f32[(h >> (16 * j)) & 0xffff];
  }
  encode_row(out, scratch.data(), cols, e.dtype);
}

}  // namespace

ModelFile random_model_file(const ModelConfig& config, DType wanted, uint64_t seed) {
  std::vector<TensorEntry> entries = model_tensors(config);
  for (TensorEntry& e : entries) e.dtype = recipe_dtype(e.name, e.shape, wanted, /*pure*/ false).dtype;
  const SafetensorsLayout layout =
      safetensors_layout(entries, {{"config", config.to_json().dump()}, {"random_weights", "true"}});
  const std::string name = std::string("random model (") + dtype_name(wanted) + ", in memory)";
  MappedFile bytes = MappedFile::anonymous(checked_add(layout.header_bytes, layout.data_bytes, "random model"), name);
  uint8_t* base = bytes.writable();
  write_safetensors_header(base, layout);
  uint8_t* data = base + layout.header_bytes;

  static const NormalTable table;
  for (size_t i = 0; i < entries.size(); i++) {
    const TensorEntry& e = entries[i];
    const size_t cols = static_cast<size_t>(row_length(e.shape));
    const size_t rows = e.shape.empty() ? 1 : static_cast<size_t>(e.shape[0]);
    const bool ones = e.shape.size() == 1 && ends_with(e.name, ".weight");  // LayerNorm / RMSNorm weights
    const uint64_t key = mix(seed + i) << 20;  // tensor i's counters: key, key + 1, ...
    uint8_t* out = data + layout.offsets[i];
    // Rows are independent; a chunk is at least ~64 K values so the hand-off is cheap.
    parallel_for(rows, [&](size_t r0, size_t r1) {
      std::vector<float> scratch;
      for (size_t r = r0; r < r1; r++) {
        uint8_t* row = out + dtype_bytes(e.dtype, r * cols);
        fill_row(row, e, r, cols, ones, key, table, scratch);
        dtype_swap_le_host(e.dtype, row, cols);  // the bytes of a file are little-endian (no-op on such hosts)
      }
    }, std::max<size_t>(1, (size_t{1} << 16) / std::max<size_t>(cols, 1)));
  }
  return ModelFile(std::make_unique<SafetensorsFile>(std::move(bytes)));
}

void save_model_file(const ModelFile& model, const std::string& path,
                     const std::function<void(size_t done, size_t total)>& progress) {
  const MappedFile& bytes = model.file().bytes();
  std::unique_ptr<FILE, int (*)(FILE*)> f(std::fopen(path.c_str(), "wb"), &std::fclose);
  if (!f) fail("cannot write " + path);
  const size_t total = bytes.size(), step = size_t{64} << 20;
  for (size_t done = 0; done < total;) {
    const size_t n = std::min(step, total - done);
    if (std::fwrite(bytes.data() + done, 1, n, f.get()) != n) fail("write failed: " + path);
    done += n;
    if (progress) progress(done, total);
  }
  if (std::fflush(f.get()) != 0) fail("write failed: " + path);
}

}  // namespace tgv
