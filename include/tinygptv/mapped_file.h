// A whole file, read-only, memory-mapped (POSIX mmap) so that model weights are
// paged in on demand and shared between processes. Falls back to reading the file
// into memory where mmap is unavailable.
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

  const uint8_t* data() const { return data_; }
  size_t size() const { return size_; }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
  const uint8_t* data_ = nullptr;
  size_t size_ = 0;
  bool mapped_ = false;
  std::vector<uint8_t> fallback_;
};

std::vector<uint8_t> read_file_bytes(const std::string& path);  // throws on failure

}  // namespace tgv
