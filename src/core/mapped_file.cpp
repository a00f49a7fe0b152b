// See include/tinygptv/mapped_file.h.
#include "tinygptv/mapped_file.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <iterator>

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
  size_ = static_cast<size_t>(st.st_size);
  if (size_ > 0) {
    void* p = ::mmap(nullptr, size_, PROT_READ, MAP_PRIVATE, fd, 0);
    if (p != MAP_FAILED) {
      data_ = static_cast<const uint8_t*>(p);
      mapped_ = true;
    }
  }
  ::close(fd);
  if (!mapped_ && size_ > 0) {
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
  std::ifstream f(path, std::ios::binary);
  if (!f) fail("cannot open " + path);
  std::vector<uint8_t> bytes((std::istreambuf_iterator<char>(f)), {});
  if (f.bad()) fail("cannot read " + path);
  return bytes;
}

}  // namespace tgv
