// default_tokenizer_dir (include/tinygptv/tokenizer.h): where the shipped GPT-2
// vocabulary is found when --tokenizer is not given. The repository keeps it in
// weights/tokenizer/ and builds the executable to build/tinygptv, so running from
// the repository root or calling build/tinygptv from anywhere both work.
#include <algorithm>
#include <filesystem>
#include <system_error>

#include "tinygptv/error.h"
#include "tinygptv/tokenizer.h"

namespace tgv {

namespace {
std::string program_path;  // argv[0], set once by the CLI before any command runs
}

void set_program_path(const char* argv0) { program_path = argv0 ? argv0 : ""; }

std::string default_tokenizer_dir() {
  namespace fs = std::filesystem;
  std::vector<fs::path> tried = {fs::path("weights") / "tokenizer"};
  std::error_code ec;
  std::vector<fs::path> exes;
  const fs::path exe = fs::read_symlink("/proc/self/exe", ec);  // Linux
  if (!ec) exes.push_back(exe);
  if (program_path.find('/') != std::string::npos) exes.push_back(fs::absolute(program_path, ec));  // not a PATH search
  for (const fs::path& e : exes) {
    if (e.empty()) continue;
    const fs::path dir = e.lexically_normal().parent_path();
    for (const fs::path& p : {dir.parent_path() / "weights" / "tokenizer", dir / "weights" / "tokenizer"})
      if (std::find(tried.begin(), tried.end(), p) == tried.end()) tried.push_back(p);
  }
  std::string list;
  for (const fs::path& p : tried) {
    if (fs::exists(p / "vocab.json", ec)) return p.lexically_normal().string();
    list += (list.empty() ? "" : ", ") + p.string();
  }
  fail("no tokenizer found (looked for vocab.json in " + list + "); pass --tokenizer DIR");
}

}  // namespace tgv
