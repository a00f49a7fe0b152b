// A whole file, read-only, memory-mapped (POSIX mmap) so that model weights are
// paged in on demand and shared between processes. Falls back to reading the file
// into memory where mmap is unavailable. MappedFile::anonymous gives the same object
// over zero-filled memory instead of a file (a model built in memory, random_model.h).
//
// A mapped file that another process truncates while it is mapped (a copy being
// rewritten in place, a full disk) no longer has the pages past its new end: reading
// one raises SIGBUS instead of returning bytes. Two defences (docs/limits.md):
//  - check_unchanged() compares the open file with what was mapped (size and
//    modification time, through the same open descriptor) and throws a one-line
//    error if it shrank or was rewritten; the session calls it before every turn;
//  - install_mapped_file_fault_handler() (the CLI calls it once) turns a SIGBUS
//    inside a mapped file, i.e. a truncation in the middle of a turn, into a one-line
//    error naming the file and exit status 1, instead of a crash.
// Neither can make a file rewritten in place give the old bytes: MAP_PRIVATE shows
// another writer's changes to pages this process has not copied (all of them here).
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
  bool mapped_from_file() const { return fd_ >= 0; }  // false: read into memory, anonymous or empty

  // Throws "PATH changed on disk after it was loaded (...)" when the mapped file is now
  // shorter than when it was mapped, or has another modification time (whole seconds).
  // Nothing to check for memory that is not a mapped file.
  void check_unchanged() const;

 private:
  void release();
  std::string path_;
  const uint8_t* data_ = nullptr;
  size_t size_ = 0;
  bool mapped_ = false;
  bool writable_ = false;
  int fd_ = -1;             // kept open while mapped: check_unchanged() looks at this very file
  int64_t mtime_ = 0;       // seconds, when mapped
  std::vector<uint8_t> fallback_;
};

std::vector<uint8_t> read_file_bytes(const std::string& path);  // throws on failure

// Installs a SIGBUS handler (once; later calls do nothing): a fault at an address
// inside a MappedFile of a file prints
//   tinygptv: error: PATH could not be read any more (SIGBUS: it was truncated on disk after it was loaded, or the disk failed); load it again
// on stderr and exits with status 1. A SIGBUS anywhere else is left to the default
// action (the program stops with the signal, as it would without the handler).
void install_mapped_file_fault_handler();

}  // namespace tgv
