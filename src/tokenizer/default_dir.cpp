// default_tokenizer_dir (include/tinygptv/tokenizer.h): where the shipped GPT-2
// vocabulary is found when --tokenizer is not given. The repository keeps it in
// weights/tokenizer/ and builds the executable to build/tinygptv, so running from
// the repository root or calling build/tinygptv from anywhere both work.
#include <filesystem>
#include <system_error>

#include "tinygptv/error.h"
#include "tinygptv/tokenizer.h"

namespace tgv {

std::string default_tokenizer_dir() {
  namespace fs = std::filesystem;
  std::vector<fs::path> tried = {fs::path("weights") / "tokenizer"};
  std::error_code ec;
  const fs::path exe = fs::read_symlink("/proc/self/exe", ec);  // Linux; elsewhere only the cwd
  if (!ec) {
    tried.push_back(exe.parent_path().parent_path() / "weights" / "tokenizer");
    tried.push_back(exe.parent_path() / "weights" / "tokenizer");
  }
  std::string list;
  for (const fs::path& p : tried) {
    if (fs::exists(p / "vocab.json", ec)) return p.lexically_normal().string();
    list += (list.empty() ? "" : ", ") + p.string();
  }
  fail("no tokenizer found (looked for vocab.json in " + list + "); pass --tokenizer DIR");
}

}  // namespace tgv
