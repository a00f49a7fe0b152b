// See include/tinygptv/mapped_file.h.
#include "tinygptv/mapped_file.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <new>
#include <utility>

#include "tinygptv/error.h"

namespace tgv {

namespace {

// The mapped files, for the SIGBUS handler: a fixed table the handler can read without
// allocating or locking (async-signal-safe). Writers (mapping, unmapping) take a mutex;
// `begin` is published last, so a reader that sees it also sees the size and path.
// A process maps a handful of files; past kSlots a mapping is simply not named.
struct MappingSlot {
  std::atomic<const uint8_t*> begin{nullptr};
  size_t size = 0;
  char path[1024] = {};
};
constexpr int kSlots = 64;
MappingSlot g_mappings[kSlots];
std::mutex g_mappings_mutex;

void register_mapping(const uint8_t* begin, size_t size, const std::string& path) {
  std::lock_guard<std::mutex> lock(g_mappings_mutex);
  for (MappingSlot& s : g_mappings) {
    if (s.begin.load(std::memory_order_relaxed) != nullptr) continue;
    s.size = size;
    const size_t n = std::min(path.size(), sizeof s.path - 1);
    std::memcpy(s.path, path.data(), n);
    s.path[n] = '\0';
    s.begin.store(begin, std::memory_order_release);
    return;
  }
}

void unregister_mapping(const uint8_t* begin) {
  std::lock_guard<std::mutex> lock(g_mappings_mutex);
  for (MappingSlot& s : g_mappings)
    if (s.begin.load(std::memory_order_relaxed) == begin) s.begin.store(nullptr, std::memory_order_release);
}

void write_stderr(const char* s) {
  size_t n = std::strlen(s);
  while (n > 0) {
    const ssize_t w = ::write(2, s, n);
    if (w <= 0) return;
    s += w;
    n -= static_cast<size_t>(w);
  }
}

[[noreturn]] void report_and_exit(const MappingSlot& s) {
  write_stderr("tinygptv: error: ");
  write_stderr(s.path);
  write_stderr(" could not be read any more (SIGBUS: it was truncated on disk after it was loaded, or the disk failed); load it again\n");
  ::_exit(1);
}

void on_sigbus(int sig, siginfo_t* info, void*) {
  // si_addr is the faulting address only for a fault (si_code > 0), not for kill/raise.
  const bool fault = info && info->si_code > 0;
  const uint8_t* at = fault ? static_cast<const uint8_t*>(info->si_addr) : nullptr;
  for (const MappingSlot& s : g_mappings) {
    const uint8_t* begin = s.begin.load(std::memory_order_acquire);
    if (begin && at >= begin && at < begin + s.size) report_and_exit(s);
  }
  // Not every platform reports the address (qemu-user 7.2 for s390x passes a garbled
  // si_addr): then a mapped file now shorter than its mapping is the one that faulted.
  // stat() is async-signal-safe.
  for (const MappingSlot& s : g_mappings) {
    struct stat st {};
    if (fault && s.begin.load(std::memory_order_acquire) && ::stat(s.path, &st) == 0 &&
        static_cast<uint64_t>(st.st_size) < s.size)
      report_and_exit(s);
  }
  // Not a mapped file: the default action (the signal ends the process) once this returns.
  ::signal(sig, SIG_DFL);
  ::raise(sig);
}

}  // namespace

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
    if (p == MAP_FAILED) {
      ::close(fd);
      // e.g. 3 GB on a 32-bit machine: no room in the address space, nor would a copy fit
      fail("cannot map " + path + " (" + std::to_string(file_size) + " bytes): " + std::strerror(map_errno));
    }
    data_ = static_cast<const uint8_t*>(p);
    mapped_ = true;
    fd_ = fd;  // kept for check_unchanged()
    mtime_ = static_cast<int64_t>(st.st_mtime);
    register_mapping(data_, size_, path_);
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

void MappedFile::check_unchanged() const {
  if (fd_ < 0) return;
  struct stat st {};
  if (::fstat(fd_, &st) != 0) fail(path_ + ": cannot check the file any more: " + std::strerror(errno));
  const uint64_t now = static_cast<uint64_t>(st.st_size);
  if (now < size_)
    fail(path_ + " changed on disk after it was loaded (it was " + std::to_string(size_) + " bytes, now " + std::to_string(now) +
         "); load it again");
  if (static_cast<int64_t>(st.st_mtime) != mtime_)
    fail(path_ + " changed on disk after it was loaded (it was rewritten: another modification time); load it again");
}

void MappedFile::release() {
  if (fd_ >= 0) {
    unregister_mapping(data_);
    ::close(fd_);
  }
  if (mapped_) ::munmap(const_cast<uint8_t*>(data_), size_);
}

MappedFile::~MappedFile() { release(); }

MappedFile::MappedFile(MappedFile&& o) noexcept { *this = std::move(o); }

MappedFile& MappedFile::operator=(MappedFile&& o) noexcept {
  if (this != &o) {
    release();
    path_ = std::move(o.path_);
    mapped_ = o.mapped_;
    writable_ = o.writable_;
    fd_ = o.fd_;
    mtime_ = o.mtime_;
    size_ = o.size_;
    fallback_ = std::move(o.fallback_);
    data_ = mapped_ ? o.data_ : fallback_.data();
    o.data_ = nullptr;
    o.size_ = 0;
    o.mapped_ = false;
    o.writable_ = false;
    o.fd_ = -1;
  }
  return *this;
}

void install_mapped_file_fault_handler() {
  static std::once_flag once;
  std::call_once(once, [] {
    struct sigaction sa {};
    sa.sa_sigaction = on_sigbus;
    sa.sa_flags = SA_SIGINFO;
    sigemptyset(&sa.sa_mask);
    ::sigaction(SIGBUS, &sa, nullptr);
  });
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
