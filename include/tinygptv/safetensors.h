// safetensors files: 8-byte little-endian header length N, N bytes of JSON header
//   {"name": {"dtype": "F32", "shape": [2, 3], "data_offsets": [begin, end]}, ...,
//    "__metadata__": {"key": "string value"}}
// then the raw little-endian tensor bytes (offsets relative to the byte after the header).
//
// The reader maps the file and trusts nothing in it: header length against the file
// size, every offset against the data size, byte counts against dtype x shape
// (overflow-checked), no two tensors overlapping, duplicate names refused. Each
// problem is a one-line tgv::Error naming the file and the tensor.
#pragma once
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "tinygptv/mapped_file.h"
#include "tinygptv/tensor.h"

namespace tgv {

class SafetensorsFile {
 public:
  explicit SafetensorsFile(const std::string& path);  // throws tgv::Error
  // The same checks over bytes already in memory (e.g. MappedFile::anonymous filled
  // with a safetensors image); messages name bytes.path().
  explicit SafetensorsFile(MappedFile bytes);

  const std::string& path() const { return file_.path(); }
  const std::vector<Tensor>& tensors() const { return tensors_; }  // in header order
  const Tensor* find(const std::string& name) const;               // nullptr when absent
  const Tensor& get(const std::string& name) const;                // throws "missing tensor 'X' in FILE"
  // Throws "tensor 'X' has wrong shape; expected [a, b], got [c, d]".
  const Tensor& get(const std::string& name, const std::vector<int64_t>& shape) const;
  const std::map<std::string, std::string>& metadata() const { return metadata_; }
  const MappedFile& bytes() const { return file_; }  // the whole file: header and data

 private:
  MappedFile file_;
  std::vector<Tensor> tensors_;
  std::map<std::string, size_t> index_;
  std::map<std::string, std::string> metadata_;
  std::vector<std::unique_ptr<std::vector<float>>> realigned_;  // copies of misaligned tensors
};

// Writing, tensor by tensor (memory stays bounded): the header is written from
// `entries`, then produce(i, bytes) is called for each entry in order and must fill
// `bytes` with exactly dtype_bytes(dtype, numel) bytes, in host order (as a loaded
// Tensor's data is; they are swapped to little-endian on a big-endian host). Data
// is 64-byte aligned.
struct TensorEntry {
  std::string name;
  DType dtype;
  std::vector<int64_t> shape;
};

// Where everything goes in a file of these entries: the 8-byte length and the
// header (padded with spaces so the data starts 64-byte aligned) come first, then
// tensor i at header_bytes + offsets[i] (a multiple of 64), sizes[i] bytes long;
// the file is header_bytes + data_bytes long. write_safetensors writes this layout.
struct SafetensorsLayout {
  std::string header;           // the JSON text, padded
  size_t header_bytes = 0;      // 8 + header.size()
  std::vector<size_t> offsets;  // relative to the start of the data
  std::vector<size_t> sizes;
  size_t data_bytes = 0;
};
SafetensorsLayout safetensors_layout(const std::vector<TensorEntry>& entries,
                                     const std::vector<std::pair<std::string, std::string>>& metadata);
// The 8-byte little-endian length and the header of `layout` into out[0, header_bytes).
void write_safetensors_header(uint8_t* out, const SafetensorsLayout& layout);
void write_safetensors(const std::string& path, const std::vector<TensorEntry>& entries,
                       const std::vector<std::pair<std::string, std::string>>& metadata,
                       const std::function<void(size_t index, std::vector<uint8_t>& bytes)>& produce);

}  // namespace tgv
