// The model config (interface.md) and ModelFile: see include/tinygptv/model_file.h.
#include "tinygptv/model_file.h"

#include <charconv>

#include "tinygptv/error.h"
#include "tinygptv/quant.h"
#include "tinygptv/number_text.h"

namespace tgv {

namespace {

// Sizes no tensor pins down get a limit, so an edited config cannot size a buffer
// beyond any real image (docs/limits.md). The patch grid: the position table is
// interpolated to image_size / patch_size a side, and every image-side activation
// has (grid^2 + 1) rows. Upstream runs 16 (224 px) and 32 (448 px); 128 a side is
// 16385 image tokens, about 1 GB of activations at the real widths.
constexpr int kMaxPatchGrid = 128;

const Json& section(const Json& j, const char* name) {
  const Json* s = j.find(name);
  if (!s || !s->is_object()) fail(std::string("config: missing section '") + name + "'");
  return *s;
}

int get_int(const Json& s, const char* sec, const char* key, int min_value) {
  const Json* v = s.find(key);
  const std::string where = std::string("config: ") + sec + "." + key;
  if (!v) fail(where + " is missing");
  if (!v->is_integer()) fail(where + " must be an integer");
  const int64_t x = v->as_int();
  if (x < min_value || x > (int64_t{1} << 24)) fail(where + " = " + std::to_string(x) + " is out of range");
  return static_cast<int>(x);
}

float get_float(const Json& s, const char* sec, const char* key) {
  const Json* v = s.find(key);
  const std::string where = std::string("config: ") + sec + "." + key;
  if (!v) fail(where + " is missing");
  if (!v->is_number()) fail(where + " must be a number");
  const double x = v->as_number();
  if (!(x >= 0 && x < 1e30)) fail(where + " is out of range");
  return static_cast<float>(x);
}

}  // namespace

ModelConfig ModelConfig::from_json(const Json& j) {
  if (!j.is_object()) fail("config: not a JSON object");
  ModelConfig c;
  const Json& v = section(j, "vision");
  c.vision.image_size = get_int(v, "vision", "image_size", 1);
  c.vision.patch_size = get_int(v, "vision", "patch_size", 1);
  c.vision.width = get_int(v, "vision", "width", 1);
  c.vision.layers = get_int(v, "vision", "layers", 0);
  c.vision.heads = get_int(v, "vision", "heads", 1);
  c.vision.mlp_dim = get_int(v, "vision", "mlp_dim", 1);
  c.vision.ln_eps = get_float(v, "vision", "ln_eps");
  c.vision.ln_vision_eps = get_float(v, "vision", "ln_vision_eps");
  const Json& q = section(j, "qformer");
  c.qformer.hidden = get_int(q, "qformer", "hidden", 1);
  c.qformer.layers = get_int(q, "qformer", "layers", 0);
  c.qformer.heads = get_int(q, "qformer", "heads", 1);
  c.qformer.intermediate = get_int(q, "qformer", "intermediate", 1);
  c.qformer.cross_attention_freq = get_int(q, "qformer", "cross_attention_freq", 1);
  c.qformer.query_tokens = get_int(q, "qformer", "query_tokens", 1);
  c.qformer.ln_eps = get_float(q, "qformer", "ln_eps");
  const Json& p = section(j, "projector");
  c.projector.mid = get_int(p, "projector", "mid", 1);
  const Json& l = section(j, "llm");
  c.llm.vocab_size = get_int(l, "llm", "vocab_size", 1);
  c.llm.hidden = get_int(l, "llm", "hidden", 1);
  c.llm.layers = get_int(l, "llm", "layers", 0);
  c.llm.heads = get_int(l, "llm", "heads", 1);
  c.llm.intermediate = get_int(l, "llm", "intermediate", 1);
  c.llm.rotary_dim = get_int(l, "llm", "rotary_dim", 0);
  c.llm.rope_theta = get_float(l, "llm", "rope_theta");
  c.llm.ln_eps = get_float(l, "llm", "ln_eps");
  c.llm.rms_eps = get_float(l, "llm", "rms_eps");
  c.llm.max_positions = get_int(l, "llm", "max_positions", 1);

  if (c.vision.width % c.vision.heads) fail("config: vision.width is not a multiple of vision.heads");
  if (c.vision.image_size % c.vision.patch_size) fail("config: vision.image_size is not a multiple of vision.patch_size");
  if (c.vision.image_size / c.vision.patch_size > kMaxPatchGrid)
    fail("config: vision.image_size / vision.patch_size = " + std::to_string(c.vision.image_size / c.vision.patch_size) +
         " patches a side exceeds the limit of " + std::to_string(kMaxPatchGrid));
  if (c.qformer.hidden % c.qformer.heads) fail("config: qformer.hidden is not a multiple of qformer.heads");
  if (c.llm.hidden % c.llm.heads) fail("config: llm.hidden is not a multiple of llm.heads");
  const int head_dim = c.llm.hidden / c.llm.heads;
  if (c.llm.rotary_dim > head_dim || c.llm.rotary_dim % 2) fail("config: llm.rotary_dim must be even and at most the head dim");
  return c;
}

Json ModelConfig::to_json() const {
  auto num = [](float f) {  // the float's shortest decimal form, so 1e-6f is written as 1e-06
    const std::string text = format_shortest(f);
    double d = 0;
    bool too_large = false;
    parse_double(text.data(), text.data() + text.size(), &d, &too_large);
    return Json::number(d);
  };
  Json v = Json::object({{"image_size", Json::integer(vision.image_size)}, {"patch_size", Json::integer(vision.patch_size)},
                         {"width", Json::integer(vision.width)}, {"layers", Json::integer(vision.layers)},
                         {"heads", Json::integer(vision.heads)}, {"mlp_dim", Json::integer(vision.mlp_dim)},
                         {"ln_eps", num(vision.ln_eps)}, {"ln_vision_eps", num(vision.ln_vision_eps)}});
  Json q = Json::object({{"hidden", Json::integer(qformer.hidden)}, {"layers", Json::integer(qformer.layers)},
                         {"heads", Json::integer(qformer.heads)}, {"intermediate", Json::integer(qformer.intermediate)},
                         {"cross_attention_freq", Json::integer(qformer.cross_attention_freq)},
                         {"query_tokens", Json::integer(qformer.query_tokens)}, {"ln_eps", num(qformer.ln_eps)}});
  Json p = Json::object({{"mid", Json::integer(projector.mid)}});
  Json l = Json::object({{"vocab_size", Json::integer(llm.vocab_size)}, {"hidden", Json::integer(llm.hidden)},
                         {"layers", Json::integer(llm.layers)}, {"heads", Json::integer(llm.heads)},
                         {"intermediate", Json::integer(llm.intermediate)}, {"rotary_dim", Json::integer(llm.rotary_dim)},
                         {"rope_theta", num(llm.rope_theta)}, {"ln_eps", num(llm.ln_eps)}, {"rms_eps", num(llm.rms_eps)},
                         {"max_positions", Json::integer(llm.max_positions)}});
  return Json::object({{"vision", v}, {"qformer", q}, {"projector", p}, {"llm", l}});
}

ModelFile::ModelFile(const std::string& path) : ModelFile(std::make_unique<SafetensorsFile>(path)) {}

ModelFile::ModelFile(std::unique_ptr<SafetensorsFile> file) : file_(std::move(file)) {
  const std::string& path = file_->path();
  auto it = file_->metadata().find("config");
  if (it == file_->metadata().end()) fail(path + ": no __metadata__ \"config\" (is this a tinygptv model file?)");
  try {
    config_ = ModelConfig::from_json(Json::parse(it->second));
  } catch (const Error& e) {
    fail(path + ": " + e.what());
  }
}

const Tensor& ModelFile::matrix(const std::string& name, const std::vector<int64_t>& shape) const {
  const Tensor& t = file_->get(name, shape);
  const QuantFormat* q = quant_format(t.dtype);
  if (q && !q->vec_dot)
    fail(file_->path() + ": tensor '" + name + "' is " + dtype_name(t.dtype) + ", an activation format, not a weight format");
  if (q && t.cols() % q->block_size != 0)
    fail(file_->path() + ": tensor '" + name + "' " + shape_str(t.shape) + " is " + dtype_name(t.dtype) + " but its rows of " +
         std::to_string(t.cols()) + " are not whole blocks of " + std::to_string(q->block_size));
  return t;
}

const Tensor& ModelFile::unquantized(const std::string& name) const {
  const Tensor& t = file_->get(name);
  if (quant_format(t.dtype))
    fail(file_->path() + ": tensor '" + name + "' is " + dtype_name(t.dtype) + "; vectors and tables must be F32, F16 or BF16 " +
         "(only weight matrices are quantized)");
  return t;
}

std::vector<float> ModelFile::floats(const std::string& name, const std::vector<int64_t>& shape) const {
  file_->get(name, shape);  // the shape check first
  return tensor_f32(unquantized(name));
}

}  // namespace tgv
