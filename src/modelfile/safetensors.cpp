// safetensors reader and writer: see include/tinygptv/safetensors.h.
#include "tinygptv/safetensors.h"

#include <algorithm>
#include <cstdio>
#include <cstring>

#include "tinygptv/byte_order.h"
#include "tinygptv/error.h"
#include "tinygptv/json.h"

namespace tgv {

namespace {

constexpr uint64_t kMaxHeader = 100u << 20;  // the reference implementation's limit (100 MB)

}  // namespace

SafetensorsFile::SafetensorsFile(const std::string& path) : SafetensorsFile(MappedFile(path)) {}

SafetensorsFile::SafetensorsFile(MappedFile bytes) : file_(std::move(bytes)) {
  const std::string where = file_.path() + ": ";
  const uint8_t* p = file_.data();
  const size_t size = file_.size();
  if (size < 8) fail(where + "not a safetensors file (shorter than the 8-byte header length)");
  const uint64_t n = load_le64(p);
  if (n > size - 8) fail(where + "header length " + std::to_string(n) + " is longer than the file");
  if (n > kMaxHeader) fail(where + "header length " + std::to_string(n) + " exceeds the 100 MB limit");
  Json header;
  try {
    header = Json::parse(std::string_view(reinterpret_cast<const char*>(p + 8), static_cast<size_t>(n)));
  } catch (const Error& e) {
    fail(where + "malformed header: " + e.what());
  }
  if (!header.is_object()) fail(where + "malformed header: not a JSON object");
  const uint8_t* data = p + 8 + n;
  const size_t data_size = size - 8 - static_cast<size_t>(n);

  struct Span {
    uint64_t begin, end;
    size_t tensor;
  };
  std::vector<Span> spans;  // the non-empty tensors' byte ranges, checked for overlap below
  for (const auto& [name, info] : header.as_object()) {
    if (name == "__metadata__") {
      if (!info.is_object()) fail(where + "__metadata__ is not an object");
      for (const auto& [k, v] : info.as_object()) {
        if (!v.is_string()) fail(where + "__metadata__ value '" + k + "' is not a string");
        metadata_[k] = v.as_string();
      }
      continue;
    }
    const std::string t = where + "tensor '" + name + "': ";
    if (!info.is_object()) fail(t + "entry is not an object");
    const Json* dt = info.find("dtype");
    const Json* sh = info.find("shape");
    const Json* off = info.find("data_offsets");
    if (!dt || !dt->is_string()) fail(t + "missing dtype");
    if (!sh || !sh->is_array()) fail(t + "missing shape");
    if (!off || !off->is_array() || off->size() != 2) fail(t + "missing data_offsets");
    Tensor tensor;
    tensor.name = name;
    if (!dtype_from_name(dt->as_string(), &tensor.dtype)) fail(t + "unknown dtype '" + dt->as_string() + "'");
    size_t count = 1;
    if (sh->size() > 8) fail(t + "too many dimensions");
    for (const Json& d : sh->as_array()) {
      if (!d.is_integer() || d.as_int() < 0) fail(t + "shape has a non-integer or negative dimension");
      tensor.shape.push_back(d.as_int());
      count = checked_mul(count, static_cast<size_t>(d.as_int()), (t + "shape").c_str());
    }
    const Json& b = off->as_array()[0];
    const Json& e = off->as_array()[1];
    if (!b.is_integer() || !e.is_integer() || b.as_int() < 0 || e.as_int() < 0) fail(t + "bad data_offsets");
    const uint64_t begin = static_cast<uint64_t>(b.as_int()), end = static_cast<uint64_t>(e.as_int());
    if (begin > end) fail(t + "data_offsets begin after they end");
    if (end > data_size) fail(t + "data_offsets [" + std::to_string(begin) + ", " + std::to_string(end) +
                              ") run past the end of the file (data size " + std::to_string(data_size) + ")");
    const size_t nbytes = dtype_bytes(tensor.dtype, count, t + "size");
    if (end - begin != nbytes)
      fail(t + "holds " + std::to_string(end - begin) + " bytes but " + dt->as_string() + " " +
           shape_str(tensor.shape) + " needs " + std::to_string(nbytes));
    if (index_.count(name)) fail(t + "appears twice");
    const uint8_t* src = data + begin;
    // Used in place, unless loads would be misaligned or the host is big-endian: then
    // a copy, in host order (include/tinygptv/byte_order.h).
    if (nbytes && (reinterpret_cast<uintptr_t>(src) % dtype_size(tensor.dtype) != 0 || !kLittleEndianHost)) {
      auto copy = std::make_unique<std::vector<float>>((nbytes + 3) / 4);
      std::memcpy(copy->data(), src, nbytes);
      dtype_swap_le_host(tensor.dtype, copy->data(), count);
      src = reinterpret_cast<const uint8_t*>(copy->data());
      realigned_.push_back(std::move(copy));
    }
    tensor.data = src;
    if (nbytes) spans.push_back({begin, end, tensors_.size()});
    index_[name] = tensors_.size();
    tensors_.push_back(std::move(tensor));
  }
  std::sort(spans.begin(), spans.end(), [](const Span& a, const Span& b) { return a.begin < b.begin; });
  for (size_t i = 1; i < spans.size(); i++) {
    const Span& a = spans[i - 1];
    const Span& b = spans[i];
    if (b.begin < a.end)
      fail(where + "tensors '" + tensors_[a.tensor].name + "' and '" + tensors_[b.tensor].name + "' overlap (data_offsets [" +
           std::to_string(a.begin) + ", " + std::to_string(a.end) + ") and [" + std::to_string(b.begin) + ", " +
           std::to_string(b.end) + "))");
  }
}

const Tensor* SafetensorsFile::find(const std::string& name) const {
  auto it = index_.find(name);
  return it == index_.end() ? nullptr : &tensors_[it->second];
}

const Tensor& SafetensorsFile::get(const std::string& name) const {
  const Tensor* t = find(name);
  if (!t) fail(path() + ": missing tensor '" + name + "'");
  return *t;
}

const Tensor& SafetensorsFile::get(const std::string& name, const std::vector<int64_t>& shape) const {
  const Tensor& t = get(name);
  if (t.shape != shape)
    fail(path() + ": tensor '" + name + "' has wrong shape; expected " + shape_str(shape) + ", got " + shape_str(t.shape));
  return t;
}

SafetensorsLayout safetensors_layout(const std::vector<TensorEntry>& entries,
                                     const std::vector<std::pair<std::string, std::string>>& metadata) {
  Json header = Json::object();
  if (!metadata.empty()) {
    Json meta = Json::object();
    for (const auto& [k, v] : metadata) meta.set(k, Json::string(v));
    header.set("__metadata__", meta);
  }
  SafetensorsLayout layout;
  size_t offset = 0;
  for (const auto& e : entries) {
    size_t count = 1;
    Json shape = Json::array();
    for (int64_t d : e.shape) {
      count = checked_mul(count, static_cast<size_t>(d), "write_safetensors");
      shape.push_back(Json::integer(d));
    }
    const size_t n = dtype_bytes(e.dtype, count, "write_safetensors: " + e.name);
    offset = checked_add(offset, 63, "write_safetensors") / 64 * 64;
    Json info = Json::object();
    info.set("dtype", Json::string(dtype_name(e.dtype)));
    info.set("shape", shape);
    info.set("data_offsets", Json::array({Json::integer(static_cast<int64_t>(offset)), Json::integer(static_cast<int64_t>(offset + n))}));
    header.set(e.name, info);
    layout.offsets.push_back(offset);
    layout.sizes.push_back(n);
    offset = checked_add(offset, n, "write_safetensors");
  }
  layout.header = header.dump();
  layout.header.append((64 - (8 + layout.header.size()) % 64) % 64, ' ');  // data starts 64-byte aligned
  layout.header_bytes = 8 + layout.header.size();
  layout.data_bytes = offset;
  return layout;
}

void write_safetensors_header(uint8_t* out, const SafetensorsLayout& layout) {
  for (int i = 0; i < 8; i++) out[i] = static_cast<uint8_t>(static_cast<uint64_t>(layout.header.size()) >> (8 * i));
  std::memcpy(out + 8, layout.header.data(), layout.header.size());
}

void write_safetensors(const std::string& path, const std::vector<TensorEntry>& entries,
                       const std::vector<std::pair<std::string, std::string>>& metadata,
                       const std::function<void(size_t, std::vector<uint8_t>&)>& produce) {
  const SafetensorsLayout layout = safetensors_layout(entries, metadata);
  std::unique_ptr<FILE, int (*)(FILE*)> f(std::fopen(path.c_str(), "wb"), &std::fclose);
  if (!f) fail("cannot write " + path);
  std::vector<uint8_t> head(layout.header_bytes);
  write_safetensors_header(head.data(), layout);
  bool ok = std::fwrite(head.data(), 1, head.size(), f.get()) == head.size();
  std::vector<uint8_t> bytes;
  size_t pos = 0;
  static const uint8_t zeros[64] = {};
  for (size_t i = 0; i < entries.size() && ok; i++) {
    const size_t pad = layout.offsets[i] - pos;
    ok = std::fwrite(zeros, 1, pad, f.get()) == pad;
    bytes.clear();
    produce(i, bytes);
    TGV_ASSERT(bytes.size() == layout.sizes[i], "write_safetensors: wrong byte count for " + entries[i].name);
    size_t numel = 1;  // host order -> the file's little-endian
    for (int64_t d : entries[i].shape) numel *= static_cast<size_t>(d);
    dtype_swap_le_host(entries[i].dtype, bytes.data(), numel);
    ok = ok && std::fwrite(bytes.data(), 1, bytes.size(), f.get()) == bytes.size();
    pos = layout.offsets[i] + bytes.size();
  }
  if (!ok || std::fflush(f.get()) != 0) fail("write failed: " + path);
}

}  // namespace tgv
