// The dtype recipe and `tinygptv quantize`: see include/tinygptv/quantize.h and
// docs/quantization.md.
#include "tinygptv/quantize.h"

#include <algorithm>
#include <cstring>
#include <filesystem>

#include "tinygptv/error.h"
#include "tinygptv/json.h"
#include "tinygptv/quant.h"
#include "tinygptv/safetensors.h"
#include "tinygptv/thread_pool.h"

namespace tgv {

namespace {

struct NamedDType {
  const char* name;
  DType dtype;
};
constexpr NamedDType kRecipeDTypes[] = {
    {"f32", DType::F32},   {"f16", DType::F16},   {"bf16", DType::BF16}, {"q8_0", DType::Q8_0}, {"q4_0", DType::Q4_0},
    {"q4_1", DType::Q4_1}, {"q5_0", DType::Q5_0}, {"q5_1", DType::Q5_1}, {"q4_k", DType::Q4_K}, {"q6_k", DType::Q6_K},
};

const char* const kEmbedding = "llama_model.model.embed_tokens.weight";
const char* const kLmHead = "llama_model.lm_head.weight";

bool is_quantized(DType t) { return dtype_block_size(t) > 1; }

bool ends_with(const std::string& s, const std::string& suffix) {
  return s.size() >= suffix.size() && s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

// Where a format goes when a row is not whole blocks of it (llama.cpp's choice for
// the K-formats; F32 for the rest: such matrices are small, see the header).
DType fallback_of(DType t) {
  if (t == DType::Q4_K) return DType::Q5_0;
  if (t == DType::Q6_K) return DType::Q8_0;
  return DType::F32;
}

}  // namespace

bool recipe_dtype_from_name(const std::string& name, DType* out) {
  for (const NamedDType& d : kRecipeDTypes)
    if (name == d.name) {
      *out = d.dtype;
      return true;
    }
  return false;
}

const char* recipe_dtype_names() { return "f32|f16|bf16|q8_0|q4_0|q4_1|q5_0|q5_1|q4_k|q6_k"; }

std::string recipe_name(DType t) {
  for (const NamedDType& d : kRecipeDTypes)
    if (d.dtype == t) return d.name;
  return dtype_name(t);
}

RecipeChoice recipe_dtype(const std::string& name, const std::vector<int64_t>& shape, DType wanted, bool pure) {
  const bool matrix = shape.size() >= 2 && ends_with(name, ".weight");
  if (!matrix || wanted == DType::F32) return {DType::F32, DType::F32};
  DType want = wanted;
  if (!pure && is_quantized(wanted) && (name == kEmbedding || name == kLmHead))
    want = (wanted == DType::Q4_K || wanted == DType::Q6_K) ? DType::Q6_K : DType::Q8_0;
  int64_t cols = 1;
  for (size_t i = 1; i < shape.size(); i++) cols *= shape[i];
  DType got = want;
  while (cols % dtype_block_size(got) != 0) got = fallback_of(got);
  return {got, want};
}

void encode_floats(std::vector<uint8_t>& out, const float* x, size_t n, DType dtype) {
  out.resize(dtype_bytes(dtype, n));
  if (const QuantFormat* q = quant_format(dtype)) {
    const size_t bs = static_cast<size_t>(q->block_size), blocks = n / bs;
    TGV_ASSERT(blocks * bs == n, "encode_floats: not whole blocks");
    uint8_t* dst = out.data();
    parallel_for(blocks, [&](size_t b0, size_t b1) { q->quantize_row(dst + b0 * q->block_bytes, x + b0 * bs, (b1 - b0) * bs); },
                 std::max<size_t>(1, 16384 / bs));
    return;
  }
  if (dtype == DType::F32) {
    std::memcpy(out.data(), x, n * sizeof(float));
    return;
  }
  for (size_t i = 0; i < n; i++) {
    const uint16_t h = dtype == DType::F16 ? f32_to_f16(x[i]) : f32_to_bf16(x[i]);
    std::memcpy(out.data() + 2 * i, &h, 2);
  }
}

std::vector<std::string> fallback_warnings(const std::vector<RecipeFallback>& fallbacks) {
  // Group by (row length, preferred, stored): the real model has ~170 of one kind.
  struct Group {
    int64_t cols;
    DType preferred, dtype;
    std::vector<std::string> names;
  };
  std::vector<Group> groups;
  for (const RecipeFallback& f : fallbacks) {
    int64_t cols = 1;
    for (size_t i = 1; i < f.shape.size(); i++) cols *= f.shape[i];
    Group* g = nullptr;
    for (Group& e : groups)
      if (e.cols == cols && e.preferred == f.preferred && e.dtype == f.dtype) g = &e;
    if (!g) g = &groups.emplace_back(Group{cols, f.preferred, f.dtype, {}});
    g->names.push_back(f.name);
  }
  std::vector<std::string> lines;
  for (const Group& g : groups) {
    std::string line = "warning: " + std::to_string(g.names.size()) + (g.names.size() == 1 ? " matrix" : " matrices") +
                       " with rows of " + std::to_string(g.cols) + " (not whole blocks of " +
                       std::to_string(dtype_block_size(g.preferred)) + ") written as " + dtype_name(g.dtype) + " instead of " +
                       dtype_name(g.preferred) + ": ";
    const size_t shown = std::min<size_t>(g.names.size(), 3);
    for (size_t i = 0; i < shown; i++) line += (i ? ", " : "") + g.names[i];
    if (shown < g.names.size()) line += ", ... (" + std::to_string(g.names.size() - shown) + " more)";
    lines.push_back(line);
  }
  return lines;
}

QuantizeSummary quantize_model(const QuantizeOptions& o) {
  namespace fs = std::filesystem;
  std::error_code ec;
  if (fs::exists(o.out, ec) && fs::equivalent(o.in, o.out, ec)) fail(o.out + " is the input file; write to another file");
  const SafetensorsFile in(o.in);
  QuantizeSummary sum;
  std::vector<TensorEntry> entries;
  for (const Tensor& t : in.tensors()) {
    // A quantized input matrix must have whole blocks per row, as the loaders require.
    if (is_quantized(t.dtype) && t.cols() % dtype_block_size(t.dtype) != 0)
      fail(o.in + ": tensor '" + t.name + "' " + shape_str(t.shape) + " is " + dtype_name(t.dtype) + " but its rows of " +
           std::to_string(t.cols()) + " are not whole blocks of " + std::to_string(dtype_block_size(t.dtype)));
    const RecipeChoice c = recipe_dtype(t.name, t.shape, o.dtype, o.pure);
    if (c.fallback()) sum.fallbacks.push_back({t.name, t.shape, c.preferred, c.dtype});
    entries.push_back({t.name, c.dtype, t.shape});
    sum.count_in[dtype_name(t.dtype)]++;
    sum.count_out[dtype_name(c.dtype)]++;
    sum.bytes_in += t.nbytes();
    sum.bytes_out += dtype_bytes(c.dtype, static_cast<size_t>(t.numel()), t.name);
  }
  std::vector<std::pair<std::string, std::string>> metadata(in.metadata().begin(), in.metadata().end());
  std::erase_if(metadata, [](const auto& kv) { return kv.first == "quantization"; });
  metadata.push_back({"quantization", Json::object({{"dtype", Json::string(recipe_name(o.dtype))},
                                                    {"pure", Json::boolean(o.pure)}})
                                          .dump()});
  std::vector<float> values;  // the current tensor as float32: the largest tensor bounds memory
  write_safetensors(o.out, entries, metadata, [&](size_t i, std::vector<uint8_t>& bytes) {
    const Tensor& t = in.tensors()[i];
    values.resize(static_cast<size_t>(t.numel()));
    to_f32(values.data(), t.data, t.dtype, values.size());
    encode_floats(bytes, values.data(), values.size(), entries[i].dtype);
    if (o.progress) o.progress(i + 1, entries.size());
  });
  sum.tensors = entries.size();
  sum.file_in = static_cast<uint64_t>(fs::file_size(o.in, ec));
  sum.file_out = static_cast<uint64_t>(fs::file_size(o.out, ec));
  return sum;
}

}  // namespace tgv
