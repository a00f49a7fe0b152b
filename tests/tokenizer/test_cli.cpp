// `tinygptv tokenize` / `detokenize` as interface.md fixes them: ids space-separated
// on one line; the text exactly, no newline added; one-line errors and a non-zero
// exit for bad input. Runs the built executable (TGV_BINARY), each argument quoted
// for the shell, so any text can be passed.
#include <doctest/doctest.h>

#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <filesystem>

#include "tokenizer_fixture.h"

namespace {

struct Run {
  int status = -1;
  std::string out, err;
};

// Each argument single-quoted for /bin/sh ('\'' for a quote), so any text reaches
// the program byte for byte. std::system rather than posix_spawn: it is the one way
// to start a process that every target has (emscripten's node runtime included).
std::string quoted(const std::string& a) {
  std::string q = "'";
  for (char c : a) q += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return q + "'";
}

Run run(const std::vector<std::string>& args) {
  namespace fs = std::filesystem;
  const std::string base = (fs::temp_directory_path() / ("tgv_cli_" + std::to_string(getpid()))).string();
  std::string cmd = quoted(TGV_BINARY);
  for (const auto& a : args) cmd += " " + quoted(a);
  cmd += " >" + quoted(base + ".out") + " 2>" + quoted(base + ".err");
  Run r;
  const int st = std::system(cmd.c_str());
  r.status = st != -1 && WIFEXITED(st) ? WEXITSTATUS(st) : 128;
  r.out = tgv_test::read_file(base + ".out");
  r.err = tgv_test::read_file(base + ".err");
  fs::remove(base + ".out");
  fs::remove(base + ".err");
  return r;
}

std::string joined(const std::vector<int>& ids) {
  std::string s;
  for (size_t i = 0; i < ids.size(); i++) {
    if (i) s += ' ';
    s += std::to_string(ids[i]);
  }
  return s;
}

// Under node (the wasm32 build, docs/porting.md) a program's arguments pass through
// JavaScript strings: an invalid UTF-8 byte is U+FFFD before tinygptv sees it. This
// test runs under the same runtime as the binary, so its own executable tells.
bool arguments_are_javascript_strings() {
  std::error_code ec;
  return std::filesystem::read_symlink("/proc/self/exe", ec).filename().string().starts_with("node");
}

// The test targets depend on the tinygptv target (CMakeLists.txt), so a missing
// executable is a failure, not a skip.
bool have_binary() {
  const bool built = std::filesystem::exists(TGV_BINARY);
  CHECK_MESSAGE(built, TGV_BINARY " is not built (build the tinygptv target)");
  return built;
}

}  // namespace

TEST_CASE("tokenize prints the fixture's ids on one line; detokenize gives the text back exactly") {
  if (!have_binary()) return;
  const std::string dir = tgv_test::gpt2_dir();
  const tgv::Json doc = tgv::Json::parse(tgv_test::read_file(tgv_test::data_path("cases.json")));
  int n = 0;
  for (const auto& c : doc.at("cases").as_array()) {
    const std::string& text = c.at("text").as_string();
    if (text.find('\0') != std::string::npos || n++ % 40 != 0) continue;  // 1 in 40: each run loads the vocabulary
    CAPTURE(text.substr(0, 80));
    const std::string ids = joined(tgv_test::int_list(c.at("ids")));
    Run t = run({"tokenize", "--tokenizer", dir, text});
    CHECK(t.status == 0);
    CHECK(t.out == ids + "\n");
    std::vector<std::string> args = {"detokenize", "--tokenizer", dir};
    for (int id : tgv_test::int_list(c.at("ids"))) args.push_back(std::to_string(id));
    Run d = run(args);
    CHECK(d.status == 0);
    CHECK(d.out == text);
  }
}

TEST_CASE("tokenize/detokenize edge cases and errors") {
  if (!have_binary()) return;
  const std::string dir = tgv_test::gpt2_dir();
  CHECK(run({"tokenize", "--tokenizer", dir, ""}).out == "\n");  // empty text: an empty line
  CHECK(run({"tokenize", "--tokenizer", dir, "-x"}).out == "12 87\n");  // text that starts with '-'
  CHECK(run({"tokenize", "--tokenizer", dir, "--x"}).out == "438 87\n");
  CHECK(run({"tokenize", "--tokenizer", dir, "--", "--tokenizer"}).out == "438 30001 7509\n");
  CHECK(run({"tokenize", "Hello", "--tokenizer", dir}).out == "15496\n");  // options anywhere
  CHECK(run({"detokenize", "--tokenizer", dir, "15496 995"}).out == "Hello world");      // ids in one argument
  CHECK(run({"detokenize", "--tokenizer", dir, "15496,", "995"}).out == "Hello world");  // commas too
  CHECK(run({"detokenize", "--tokenizer", dir}).out.empty());
  CHECK(run({"tokenize", "Hello"}).out == "15496\n");  // default: weights/tokenizer beside build/
  const char* bad_ids[] = {"50295", "-1", "abc", "12x", "99999999999999999999", "1.5"};
  for (const char* b : bad_ids) {
    CAPTURE(b);
    Run r = run({"detokenize", "--tokenizer", dir, "15496", b});
    CHECK(r.status != 0);
    CHECK(r.out.empty());
    CHECK(std::count(r.err.begin(), r.err.end(), '\n') == 1);
  }
  Run r = run({"tokenize", "--tokenizer", dir, "bad \xff utf-8"});
  if (arguments_are_javascript_strings()) {  // tinygptv got "bad \xEF\xBF\xBD utf-8": valid, so tokenized
    MESSAGE("node replaced the invalid byte of the argument with U+FFFD (the encoder's own check: test_encode.cpp)");
    CHECK(r.status == 0);
    CHECK(r.out == run({"tokenize", "--tokenizer", dir, "bad \xEF\xBF\xBD utf-8"}).out);
  } else {
    CHECK(r.status != 0);
    CHECK(r.err.find("not valid UTF-8") != std::string::npos);
  }
  r = run({"tokenize", "--tokenizer", dir + "/missing", "x"});
  CHECK(r.status != 0);
  CHECK(std::count(r.err.begin(), r.err.end(), '\n') == 1);
  CHECK(run({"tokenize", "--tokenizer", dir}).status != 0);          // no TEXT
  CHECK(run({"tokenize", "--tokenizer", dir, "a", "b"}).status != 0);  // two TEXTs
  CHECK(run({"tokenize", "x", "--tokenizer"}).status != 0);          // option without value
}
