// A whole file, read-only, memory-mapped (POSIX mmap) so that model weights are
// paged in on demand and shared between processes. Falls back to reading the file
// into memory where mmap is unavailable. MappedFile::anonymous gives the same object
// over zero-filled memory instead of a file (a model built in memory, random_model.h).
#pragma once
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace tgv {

class MappedFile {
 public:
  MappedFile() = default;
  explicit MappedFile(const std::string& path);  // throws tgv::Error("cannot open ...")
  ~MappedFile();
  MappedFile(MappedFile&& o) noexcept;
  MappedFile& operator=(MappedFile&& o) noexcept;
  MappedFile(const MappedFile&) = delete;
  MappedFile& operator=(const MappedFile&) = delete;

  // `size` bytes of zero-filled, writable memory (an anonymous mapping, page-aligned,
  // paged in on first touch), named `name` in messages. Throws "out of memory" if the
  // system refuses. Fill it through writable() before handing it to a reader.
  static MappedFile anonymous(size_t size, const std::string& name);
  uint8_t* writable();  // anonymous mappings only (a tgv::Error otherwise)
  // The same object over bytes already in memory (kept, not mapped), named `name`:
  // e.g. a fuzz input, whose exact size AddressSanitizer then checks.
  static MappedFile from_bytes(std::vector<uint8_t> bytes, const std::string& name);

  const uint8_t* data() const { return data_; }
  size_t size() const { return size_; }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
  const uint8_t* data_ = nullptr;
  size_t size_ = 0;
  bool mapped_ = false;
  bool writable_ = false;
  std::vector<uint8_t> fallback_;
};

std::vector<uint8_t> read_file_bytes(const std::string& path);  // throws on failure

}  // namespace tgv
