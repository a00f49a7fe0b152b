// See include/tinygptv/mapped_file.h.
#include "tinygptv/mapped_file.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <new>
#include <utility>

#include "tinygptv/error.h"

namespace tgv {

MappedFile::MappedFile(const std::string& path) : path_(path) {
  int fd = ::open(path.c_str(), O_RDONLY);
  if (fd < 0) fail("cannot open " + path + ": " + std::strerror(errno));
  struct stat st {};
  if (::fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
    ::close(fd);
    fail("cannot open " + path + ": not a regular file");
  }
  // st_size is 64-bit everywhere (_FILE_OFFSET_BITS=64 on 32-bit targets); size_t may not be.
  const uint64_t file_size = static_cast<uint64_t>(st.st_size);
  if (file_size > SIZE_MAX) {
    ::close(fd);
    checked_size(file_size, ("cannot map " + path).c_str());
  }
  size_ = static_cast<size_t>(file_size);
  if (TGV_HAVE_MMAP && size_ > 0) {  // without mmap (WebAssembly) the file is read instead
    void* p = ::mmap(nullptr, size_, PROT_READ, MAP_PRIVATE, fd, 0);
    const int map_errno = errno;
    ::close(fd);
    // e.g. 3 GB on a 32-bit machine: no room in the address space, nor would a copy fit
    if (p == MAP_FAILED) fail("cannot map " + path + " (" + std::to_string(file_size) + " bytes): " + std::strerror(map_errno));
    data_ = static_cast<const uint8_t*>(p);
    mapped_ = true;
    return;
  }
  ::close(fd);
  if (size_ > 0) {
    fallback_ = read_file_bytes(path);
    data_ = fallback_.data();
    size_ = fallback_.size();
  }
}

MappedFile MappedFile::anonymous(size_t size, const std::string& name) {
  MappedFile m;
  m.path_ = name;
  if (size == 0) return m;
  void* p = ::mmap(nullptr, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (p == MAP_FAILED) fail(name + ": out of memory (" + std::to_string(size) + " bytes)");
  m.data_ = static_cast<const uint8_t*>(p);
  m.size_ = size;
  m.mapped_ = true;
  m.writable_ = true;
  return m;
}

MappedFile MappedFile::from_bytes(std::vector<uint8_t> bytes, const std::string& name) {
  MappedFile m;
  m.path_ = name;
  m.fallback_ = std::move(bytes);
  m.data_ = m.fallback_.data();
  m.size_ = m.fallback_.size();
  return m;
}

uint8_t* MappedFile::writable() {
  if (!writable_) fail(path_ + ": a mapped file is read-only");
  return const_cast<uint8_t*>(data_);
}

MappedFile::~MappedFile() {
  if (mapped_) ::munmap(const_cast<uint8_t*>(data_), size_);
}

MappedFile::MappedFile(MappedFile&& o) noexcept { *this = std::move(o); }

MappedFile& MappedFile::operator=(MappedFile&& o) noexcept {
  if (this != &o) {
    if (mapped_) ::munmap(const_cast<uint8_t*>(data_), size_);
    path_ = std::move(o.path_);
    mapped_ = o.mapped_;
    writable_ = o.writable_;
    size_ = o.size_;
    fallback_ = std::move(o.fallback_);
    data_ = mapped_ ? o.data_ : fallback_.data();
    o.data_ = nullptr;
    o.size_ = 0;
    o.mapped_ = false;
    o.writable_ = false;
  }
  return *this;
}

std::vector<uint8_t> read_file_bytes(const std::string& path) {
  std::error_code ec;
  if (std::filesystem::is_directory(path, ec)) fail("cannot read " + path + ": is a directory");
  std::ifstream f(path, std::ios::binary | std::ios::ate);
  if (!f) fail("cannot open " + path);
  const std::streamoff end = f.tellg();
  if (end < 0) fail("cannot read " + path);
  std::vector<uint8_t> bytes;
  try {
    bytes.resize(checked_size(static_cast<uint64_t>(end), ("cannot read " + path).c_str()));
  } catch (const std::bad_alloc&) {
    fail("cannot read " + path + " (" + std::to_string(end) + " bytes): out of memory");
  }
  f.seekg(0);
  if (!f.read(reinterpret_cast<char*>(bytes.data()), static_cast<std::streamsize>(bytes.size())))
    fail("cannot read " + path);
  return bytes;
}

}  // namespace tgv
