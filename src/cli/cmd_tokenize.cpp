// `tinygptv tokenize [--tokenizer DIR] TEXT`   -> the ids, space-separated, one line
// `tinygptv tokenize [--tokenizer DIR] --file F` -> the same for the bytes of file F
//                                                   ("-": standard input; for long text)
// `tinygptv detokenize [--tokenizer DIR] ID...` -> the text exactly, no newline added
// (interface.md). DIR defaults to default_tokenizer_dir(): ./weights/tokenizer, then
// weights/tokenizer next to the build directory of the executable. TEXT that starts
// with '-' or "--" is still text (put `--` before a TEXT that is "--tokenizer").
// An ID argument may hold several ids separated by spaces or commas, so the output
// of `tokenize` can be passed back as one argument.
#include <charconv>
#include <cstdint>
#include <cstdio>
#include <string>
#include <vector>

#include "cli/commands.h"
#include "tinygptv/error.h"
#include "tinygptv/tokenizer.h"

namespace tgv::cli {

namespace {

// Only `--tokenizer DIR`, `--file F` and `--` are options here: every other argument,
// even one that starts with "--", is text (or an id), so any text can be tokenized.
struct TokenizeArgs {
  std::string dir;   // empty: default_tokenizer_dir()
  std::string file;  // tokenize: read the text from this file ("-" = stdin)
  std::vector<std::string> positional;
};

TokenizeArgs parse_args(int argc, char** argv) {
  TokenizeArgs a;
  bool only_positional = false;
  for (int i = 0; i < argc; i++) {
    const std::string s = argv[i];
    if (!only_positional && s == "--") {
      only_positional = true;
    } else if (!only_positional && s == "--tokenizer") {
      if (i + 1 >= argc) fail("option --tokenizer needs a value");
      a.dir = argv[++i];
    } else if (!only_positional && s == "--file") {
      if (i + 1 >= argc) fail("option --file needs a value");
      a.file = argv[++i];
    } else {
      a.positional.push_back(s);
    }
  }
  return a;
}

Tokenizer open_tokenizer(const TokenizeArgs& args) {
  return Tokenizer::load(args.dir.empty() ? default_tokenizer_dir() : args.dir);
}

std::string read_all(const std::string& path) {
  FILE* f = path == "-" ? stdin : std::fopen(path.c_str(), "rb");
  if (!f) fail("cannot open " + path);
  std::string s;
  char buf[1 << 16];
  size_t n;
  while ((n = std::fread(buf, 1, sizeof buf, f)) > 0) s.append(buf, n);
  const bool bad = std::ferror(f);
  if (f != stdin) std::fclose(f);
  if (bad) fail("error reading " + path);
  return s;
}

void write_all(const std::string& s) {
  if (!s.empty() && std::fwrite(s.data(), 1, s.size(), stdout) != s.size()) fail("cannot write to standard output");
  if (std::fflush(stdout) != 0) fail("cannot write to standard output");
}

// "15496 995" or "15496,995" -> {15496, 995}; anything but decimal integers is an error.
void parse_ids(std::vector<int>& ids, const std::string& arg) {
  size_t i = 0;
  while (i < arg.size()) {
    if (arg[i] == ' ' || arg[i] == ',' || arg[i] == '\t' || arg[i] == '\n' || arg[i] == '\r') { i++; continue; }
    size_t end = arg.find_first_of(" ,\t\n\r", i);
    if (end == std::string::npos) end = arg.size();
    const std::string word = arg.substr(i, end - i);
    long long v = 0;
    auto r = std::from_chars(word.data(), word.data() + word.size(), v);
    if (r.ec == std::errc::result_out_of_range) fail("token id " + word + " is out of range");
    if (r.ec != std::errc() || r.ptr != word.data() + word.size()) fail("'" + word + "' is not a token id (want a decimal integer)");
    if (v < INT32_MIN || v > INT32_MAX) fail("token id " + word + " is out of range");
    ids.push_back(static_cast<int>(v));
    i = end;
  }
}

}  // namespace

int cmd_tokenize(int argc, char** argv) {
  const TokenizeArgs args = parse_args(argc, argv);
  const auto& pos = args.positional;
  if (pos.size() != (args.file.empty() ? 1u : 0u))
    fail("usage: tinygptv tokenize [--tokenizer DIR] TEXT | --file F   (one TEXT argument; quote it)");
  const std::string text = args.file.empty() ? pos[0] : read_all(args.file);
  const Tokenizer tok = open_tokenizer(args);
  const std::vector<int> ids = tok.encode(text);
  std::string line;
  for (size_t i = 0; i < ids.size(); i++) {
    if (i) line += ' ';
    line += std::to_string(ids[i]);
  }
  write_all(line + "\n");
  return 0;
}

int cmd_detokenize(int argc, char** argv) {
  const TokenizeArgs args = parse_args(argc, argv);
  std::vector<int> ids;
  for (const std::string& a : args.positional) parse_ids(ids, a);
  const Tokenizer tok = open_tokenizer(args);
  write_all(tok.decode(ids));
  return 0;
}

}  // namespace tgv::cli
