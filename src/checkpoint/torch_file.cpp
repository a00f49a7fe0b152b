// torch.save files: the zip container (zip.h), the pickled object (pickle.h), and
// tensors as views into storages. See include/tinygptv/checkpoint.h.
//
// A tensor is _rebuild_tensor_v2(storage, offset, size, stride): element
// (i0, i1, ...) lives at storage[offset + i0*stride0 + i1*stride1 + ...]. Several
// tensors may share one storage (views, tied weights); a transposed view has
// non-contiguous strides and is copied out element by element.
#include <algorithm>
#include <cstring>

#include "checkpoint/pickle.h"
#include "checkpoint/zip.h"
#include "tinygptv/byte_order.h"
#include "tinygptv/checkpoint.h"
#include "tinygptv/error.h"
#include "tinygptv/mapped_file.h"
#include "tinygptv/tensor.h"

namespace tgv {

namespace {

using Kind = PyObject::Kind;

constexpr uint64_t kMaxPickle = uint64_t{1} << 30;  // data.pkl of a state dict is kilobytes
constexpr int kMaxJsonDepth = 32;
constexpr size_t kMaxBroadcast = 16;  // view elements per storage element, at most

// Storage element -> float.
float element_f32(const uint8_t* p, const std::string& dtype) {
  if (dtype == "F32") return load_le_f32(p);
  if (dtype == "F16") return f16_to_f32(load_le16(p));
  if (dtype == "BF16") return bf16_to_f32(load_le16(p));
  return static_cast<float>(load_le_f64(p));  // F64
}

bool float_dtype(const std::string& d) { return d == "F32" || d == "F16" || d == "BF16" || d == "F64"; }

}  // namespace

int64_t CheckpointTensor::numel() const {
  int64_t n = 1;
  for (int64_t d : shape) n *= d;
  return n;
}

struct TorchFile::Impl {
  std::string label;
  MappedFile mapped;
  std::vector<uint8_t> owned;
  std::unique_ptr<ZipArchive> zip;
  std::string prefix;  // the archive's top folder ("archive", or the file's stem)
  Pickle pickle;
  // One inflated entry is kept, so tensors sharing a deflated storage inflate it once.
  const ZipEntry* cached_entry = nullptr;
  ZipBytes cached;

  void open(const uint8_t* data, size_t size);
  const ZipEntry& storage_entry(const PyObject& storage) const;
  void check_view(const std::string& name, const PyObject& t) const;
  std::vector<float> load(const PyObject& t);
  Json to_json(uint32_t i, int depth, size_t& budget) const;
};

void TorchFile::Impl::open(const uint8_t* data, size_t size) {
  if (size >= 2 && data[0] == 0x80) fail(label + ": legacy torch.save format (PyTorch < 1.6) is not supported; re-save it with torch >= 1.6");
  if (size < 4 || std::memcmp(data, "PK\x03\x04", 4) != 0) fail(label + ": not a PyTorch checkpoint (no zip signature)");
  zip = std::make_unique<ZipArchive>(data, size, label);
  const ZipEntry* pkl = nullptr;
  for (const ZipEntry& e : zip->entries()) {
    const size_t slash = e.name.find('/');
    if (slash == std::string::npos || e.name.substr(slash) != "/data.pkl") continue;
    if (pkl) fail(label + ": two data.pkl entries ('" + pkl->name + "', '" + e.name + "')");
    pkl = &e;
    prefix = e.name.substr(0, slash);
  }
  if (!pkl) fail(label + ": no PREFIX/data.pkl entry (not a torch.save file)");
  if (const ZipEntry* bo = zip->find(prefix + "/byteorder")) {
    ZipBytes b = zip->read(*bo);
    if (std::string(reinterpret_cast<const char*>(b.data), b.size) != "little")
      fail(label + ": big-endian checkpoints are not supported");
  }
  if (pkl->size > kMaxPickle) fail(label + ": data.pkl is implausibly large (" + std::to_string(pkl->size) + " bytes)");
  ZipBytes bytes = zip->read(*pkl);
  try {
    pickle = unpickle(bytes.data, bytes.size);
  } catch (const Error& e) {
    fail(label + ": " + e.what());
  }
}

const ZipEntry& TorchFile::Impl::storage_entry(const PyObject& storage) const {
  const ZipEntry* e = zip->find(prefix + "/data/" + storage.s);
  if (!e) fail(label + ": storage '" + storage.s + "' has no entry " + prefix + "/data/" + storage.s);
  return *e;
}

// Every element the view touches must lie inside its storage, and the storage inside its entry.
void TorchFile::Impl::check_view(const std::string& name, const PyObject& t) const {
  const PyObject& st = pickle.at(t.storage);
  const std::string what = label + ": tensor '" + name + "': ";
  const size_t esize = storage_dtype_size(st.dtype);
  // 64-bit counts from the pickle: checked_size, not a cast, where size_t is 32 bits
  const size_t storage_numel = checked_size(static_cast<uint64_t>(st.i), (what + "storage size").c_str());
  const size_t storage_bytes = checked_mul(storage_numel, esize, (what + "storage size").c_str());
  const ZipEntry& e = storage_entry(st);
  if (e.size < storage_bytes) fail(what + "storage '" + st.s + "' needs " + std::to_string(storage_bytes) + " bytes, its entry holds " + std::to_string(e.size));
  size_t numel = 1, last = checked_size(static_cast<uint64_t>(t.offset), (what + "offset").c_str());
  for (size_t d = 0; d < t.shape.size(); d++) {
    numel = checked_mul(numel, checked_size(static_cast<uint64_t>(t.shape[d]), (what + "size").c_str()), (what + "size").c_str());
    if (t.shape[d] > 0)
      last = checked_add(last, checked_mul(static_cast<size_t>(t.shape[d] - 1), checked_size(static_cast<uint64_t>(t.stride[d]), (what + "stride").c_str()), (what + "stride").c_str()), (what + "stride").c_str());
  }
  // Stride-0 (broadcast) views may hold more elements than their storage; a few times
  // more is plausible, a bomb of 2^40 elements over a 4-byte storage is not.
  if (numel / kMaxBroadcast > storage_numel)
    fail(what + "view " + shape_str(t.shape) + " has far more elements than its storage (" + std::to_string(st.i) + ")");
  if (numel > 0 && last >= storage_numel)
    fail(what + "view " + shape_str(t.shape) + " at offset " + std::to_string(t.offset) + " reaches element " + std::to_string(last) +
         " of a storage of " + std::to_string(st.i));
}

std::vector<float> TorchFile::Impl::load(const PyObject& t) {
  const PyObject& st = pickle.at(t.storage);
  const ZipEntry& e = storage_entry(st);
  if (&e != cached_entry) {
    cached = ZipBytes();
    cached = zip->read(e);
    cached_entry = e.method == 0 ? nullptr : &e;  // stored entries are views: nothing worth keeping
  }
  const ZipBytes bytes = cached;
  if (!cached_entry) cached = ZipBytes();
  const size_t esize = storage_dtype_size(st.dtype);
  size_t numel = 1;
  for (int64_t d : t.shape) numel *= static_cast<size_t>(d);  // checked in check_view
  std::vector<float> out(numel);
  if (numel == 0) return out;
  // Walk the view in C order with an odometer over the dims (no recursion).
  const size_t dims = t.shape.size();
  std::vector<int64_t> idx(dims, 0);
  size_t pos = static_cast<size_t>(t.offset);
  // Re-packed archives need not align entries: the 16-bit fast path wants aligned loads.
  // Storages are little-endian: the fast paths read them in place only on a little-endian host.
  const bool aligned = reinterpret_cast<uintptr_t>(bytes.data) % esize == 0 && kLittleEndianHost;
  const bool inner_contiguous = dims == 0 || t.stride[dims - 1] == 1;
  const size_t inner = dims == 0 ? 1 : static_cast<size_t>(t.shape[dims - 1]);
  for (size_t o = 0; o < numel;) {
    if (inner_contiguous && st.dtype == "F32" && kLittleEndianHost) {
      std::memcpy(out.data() + o, bytes.data + pos * 4, inner * 4);
    } else if (inner_contiguous && aligned && st.dtype != "F64") {
      to_f32(out.data() + o, bytes.data + pos * esize, st.dtype == "F16" ? DType::F16 : DType::BF16, inner);
    } else {
      const size_t s = dims == 0 ? 0 : static_cast<size_t>(t.stride[dims - 1]);
      for (size_t k = 0; k < inner; k++) out[o + k] = element_f32(bytes.data + (pos + k * s) * esize, st.dtype);
    }
    o += inner;
    // advance the odometer over dims 0..dims-2
    for (size_t d = dims > 0 ? dims - 1 : 0; d-- > 0;) {
      pos += static_cast<size_t>(t.stride[d]);
      if (++idx[d] < t.shape[d]) break;
      pos -= static_cast<size_t>(t.stride[d]) * static_cast<size_t>(t.shape[d]);
      idx[d] = 0;
    }
  }
  return out;
}

// `budget` bounds the nodes visited: shared sub-lists cannot make the walk exponential.
Json TorchFile::Impl::to_json(uint32_t i, int depth, size_t& budget) const {
  if (depth > kMaxJsonDepth) fail(label + ": value nested deeper than " + std::to_string(kMaxJsonDepth));
  if (budget-- == 0) fail(label + ": value too large to read as a config");
  const PyObject& o = pickle.at(i);
  switch (o.kind) {
    case Kind::Bool: return Json::boolean(o.b);
    case Kind::Int: return Json::integer(o.i);
    case Kind::Float: return Json::number(o.f);
    case Kind::Str: return Json::string(o.s);
    case Kind::Global: return Json::string(o.s);
    case Kind::List:
    case Kind::Tuple: {
      Json a = Json::array();
      for (uint32_t e : o.items) a.push_back(to_json(e, depth + 1, budget));
      return a;
    }
    case Kind::Dict: {
      Json d = Json::object();
      for (size_t k = 0; k + 1 < o.items.size(); k += 2) {
        const PyObject& key = pickle.at(o.items[k]);
        if (key.kind == Kind::Str) d.set(key.s, to_json(o.items[k + 1], depth + 1, budget));
        else if (key.kind == Kind::Int) d.set(std::to_string(key.i), to_json(o.items[k + 1], depth + 1, budget));
      }
      return d;
    }
    default: return Json::null();
  }
}

TorchFile::TorchFile(const std::string& path) : impl_(std::make_unique<Impl>()) {
  impl_->label = path;
  impl_->mapped = MappedFile(path);
  impl_->open(impl_->mapped.data(), impl_->mapped.size());
}

TorchFile::TorchFile(std::vector<uint8_t> bytes, std::string label) : impl_(std::make_unique<Impl>()) {
  impl_->label = std::move(label);
  impl_->owned = std::move(bytes);
  impl_->open(impl_->owned.data(), impl_->owned.size());
}

TorchFile::~TorchFile() = default;

const std::string& TorchFile::label() const { return impl_->label; }

uint64_t TorchFile::bytes_read() const { return impl_->zip->bytes_read(); }

std::vector<CheckpointTensor> TorchFile::state_dict() const {
  const Pickle& pk = impl_->pickle;
  const PyObject* dict = &pk.at(pk.root);
  if (dict->kind != Kind::Dict) fail(impl_->label + ": the checkpoint is not a dict of tensors");
  for (const char* key : {"model", "state_dict"}) {
    const PyObject* inner = pk.dict_get(*dict, key);
    if (inner && inner->kind == Kind::Dict) { dict = inner; break; }
  }
  std::vector<CheckpointTensor> out;
  std::vector<std::string> seen;
  for (size_t k = 0; k + 1 < dict->items.size(); k += 2) {
    const PyObject& key = pk.at(dict->items[k]);
    const PyObject& value = pk.at(dict->items[k + 1]);
    if (key.kind != Kind::Str || value.kind != Kind::Tensor) continue;
    impl_->check_view(key.s, value);
    CheckpointTensor t;
    t.name = key.s;
    t.source = impl_->label;
    t.dtype = pk.at(value.storage).dtype;
    t.shape = value.shape;
    if (float_dtype(t.dtype)) {
      Impl* impl = impl_.get();
      const uint32_t index = dict->items[k + 1];
      t.load = [impl, index] { return impl->load(impl->pickle.at(index)); };
    }
    // A key set twice: the last value wins, as in the Python dict.
    auto it = std::find_if(out.begin(), out.end(), [&](const CheckpointTensor& c) { return c.name == t.name; });
    if (it != out.end()) *it = std::move(t);
    else out.push_back(std::move(t));
  }
  return out;
}

Json TorchFile::value_json(const std::vector<std::string>& keys) const {
  const Pickle& pk = impl_->pickle;
  const PyObject* o = &pk.at(pk.root);
  for (const std::string& k : keys) {
    o = pk.dict_get(*o, k);
    if (!o) return Json::null();
  }
  size_t budget = 1u << 20;
  return impl_->to_json(static_cast<uint32_t>(o - pk.objects.data()), 0, budget);
}

}  // namespace tgv
