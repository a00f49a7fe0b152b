// MappedFile when the file changes under it (include/tinygptv/mapped_file.h):
// check_unchanged() sees a truncation or a rewrite through the open descriptor, and
// the SIGBUS handler turns a read past a truncated end into one line naming the file
// and exit status 1 (run in a child process, which it ends).
#include <doctest/doctest.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

#include "tinygptv/error.h"
#include "tinygptv/mapped_file.h"

using namespace tgv;
namespace fs = std::filesystem;

namespace {

fs::path temp_path(const std::string& tag) {
  static int n = 0;
  return fs::temp_directory_path() / ("tgv_test_mapped_" + std::to_string(::getpid()) + "_" + std::to_string(n++) + "_" + tag);
}

void write_file(const fs::path& path, size_t size) {
  std::ofstream f(path, std::ios::binary);
  const std::vector<char> bytes(size, 'x');
  f.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
  REQUIRE(f.good());
}

std::string read_text(const fs::path& path) {
  std::ifstream f(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(f), {});
}

// Whether this platform maps files (WebAssembly reads them into memory instead).
bool files_are_mapped() {
  const fs::path path = temp_path("probe.bin");
  write_file(path, 4096);
  const bool mapped = MappedFile(path.string()).mapped_from_file();
  fs::remove(path);
  return mapped;
}

}  // namespace

TEST_CASE("check_unchanged: a truncated or rewritten file is an error naming it") {
  const fs::path path = temp_path("a.bin");
  write_file(path, 3 * 4096);
  {
    const MappedFile m(path.string());
    if (!m.mapped_from_file()) {
      MESSAGE("files are read, not mapped, on this platform; skipped");
      fs::remove(path);
      return;
    }
    m.check_unchanged();  // as loaded
    fs::resize_file(path, 4096);
    CHECK_THROWS_WITH_AS(m.check_unchanged(),
                         (path.string() + " changed on disk after it was loaded (it was 12288 bytes, now 4096); load it again").c_str(), Error);
  }
  {
    write_file(path, 4096);
    const MappedFile m(path.string());
    m.check_unchanged();
    fs::last_write_time(path, fs::last_write_time(path) - std::chrono::seconds(3));  // same size, another time
    CHECK_THROWS_WITH_AS(m.check_unchanged(),
                         (path.string() + " changed on disk after it was loaded (it was rewritten: another modification time); load it again").c_str(),
                         Error);
  }
  // Memory that is not a mapped file has nothing to check.
  MappedFile::anonymous(4096, "in memory").check_unchanged();
  MappedFile().check_unchanged();
  fs::remove(path);
}

TEST_CASE("SIGBUS in a mapped file truncated while in use: one line naming the file, exit status 1") {
  const fs::path path = temp_path("b.bin"), err = temp_path("stderr.txt");
  if (!files_are_mapped()) {
    MESSAGE("files are read, not mapped, on this platform; skipped");
    return;
  }
  write_file(path, 4 * 4096);
  std::fflush(nullptr);
  const pid_t pid = ::fork();
  REQUIRE(pid >= 0);
  if (pid == 0) {  // the child: map, truncate under the mapping, read past the new end
    const int fd = ::open(err.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
    ::dup2(fd, 2);
    install_mapped_file_fault_handler();
    const MappedFile m(path.string());
    if (::truncate(path.c_str(), 4096) != 0) ::_exit(3);
    volatile uint8_t sink = m.data()[2 * 4096 + 5];  // SIGBUS here
    (void)sink;
    ::_exit(2);  // no fault: the check fails below
  }
  int status = 0;
  REQUIRE(::waitpid(pid, &status, 0) == pid);
  const std::string message = read_text(err);
  CAPTURE(message);
  CAPTURE(status);
  REQUIRE(WIFEXITED(status));
  CHECK(WEXITSTATUS(status) == 1);
  CHECK(message == "tinygptv: error: " + path.string() +
                       " could not be read any more (SIGBUS: it was truncated on disk after it was loaded, or the disk failed); load it again\n");
  fs::remove(path);
  fs::remove(err);
}

TEST_CASE("SIGBUS outside any mapped file keeps its default action") {
  if (!files_are_mapped()) {
    MESSAGE("files are read, not mapped, on this platform (no SIGBUS, no handler); skipped");
    return;
  }
  std::fflush(nullptr);
  const pid_t pid = ::fork();
  REQUIRE(pid >= 0);
  if (pid == 0) {
    const int fd = ::open("/dev/null", O_WRONLY);
    ::dup2(fd, 2);
    install_mapped_file_fault_handler();
    ::raise(SIGBUS);  // not a fault in a mapping: the handler puts the default back and the signal ends the process
    ::_exit(2);
  }
  int status = 0;
  REQUIRE(::waitpid(pid, &status, 0) == pid);
  CAPTURE(status);
  CHECK(WIFSIGNALED(status));
  if (WIFSIGNALED(status)) CHECK(WTERMSIG(status) == SIGBUS);
}
