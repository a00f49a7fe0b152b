// Loading vocab.json / merges.txt / added_tokens.json: both spellings of vocab.json,
// the #version line, added_tokens.json when present, and every kind of bad file
// refused with a one-line tgv::Error (never a crash).
#include <doctest/doctest.h>

#include <filesystem>
#include <fstream>

#include "tinygptv/error.h"
#include "tokenizer/byte_unicode.h"
#include "tokenizer_fixture.h"

using tgv::Tokenizer;
using tgv_test::gpt2;

namespace {

const std::string& vocab_text() {
  static const std::string s = tgv_test::read_file(tgv_test::gpt2_dir() + "/vocab.json");
  return s;
}
const std::string& merges_text() {
  static const std::string s = tgv_test::read_file(tgv_test::gpt2_dir() + "/merges.txt");
  return s;
}

// The key of byte b in vocab.json (GPT-2's byte alphabet, raw UTF-8).
std::string key(uint8_t b) {
  std::string s;
  tgv::utf8_append(s, tgv::byte_to_unicode(b));
  return s;
}

// A tiny valid vocabulary: the 256 bytes (id = byte value), then "ab" (256) and "abc" (257).
std::string tiny_vocab(const std::string& extra = "") {
  std::string v = "{";
  for (int b = 0; b < 256; b++) v += tgv::json_quote(key(static_cast<uint8_t>(b))) + ": " + std::to_string(b) + ", ";
  return v + "\"ab\": 256, \"abc\": 257" + extra + "}";
}
const char* kTinyMerges = "#version: 0.2\na b\nab c\n";

std::string replace_once(std::string s, const std::string& from, const std::string& to) {
  const size_t at = s.find(from);
  REQUIRE(at != std::string::npos);
  return s.replace(at, from.size(), to);
}

// Expects a tgv::Error whose one-line message contains `part`.
void check_refused(std::string_view vocab, std::string_view merges, std::optional<std::string_view> added, const std::string& part) {
  CAPTURE(part);
  try {
    (void)Tokenizer::from_files(vocab, merges, added);
    FAIL("accepted a bad tokenizer file");
  } catch (const tgv::Error& e) {
    const std::string msg = e.what();
    CAPTURE(msg);
    CHECK(msg.find(part) != std::string::npos);
    CHECK(msg.find('\n') == std::string::npos);
  }
}

}  // namespace

TEST_CASE("a tiny vocabulary: merges by rank, 38 added tokens after it") {
  const Tokenizer t = Tokenizer::from_files(tiny_vocab(), kTinyMerges);
  CHECK(t.size() == 258 + 38);
  CHECK(t.merge_count() == 2);
  CHECK(t.eos_id() == -1);
  CHECK(t.encode("abc") == std::vector<int>{257});
  CHECK(t.encode("abd") == std::vector<int>{256, 'd'});
  CHECK(t.encode("  ") == std::vector<int>{258 + 29});  // 2 spaces: the 30th added token
  CHECK(t.token_bytes(258) == std::string(31, ' '));
  // CRLF line ends, blank lines and no #version line are all fine.
  CHECK(Tokenizer::from_files(tiny_vocab(), "a b\r\n\r\nab c\r\n").encode("abc") == std::vector<int>{257});
  // No merges at all: every byte is its own token.
  CHECK(Tokenizer::from_files(tiny_vocab(), "").encode("abc").size() == 3);
}

TEST_CASE("vocab.json parses both as GPT-2 writes it (\\u-escaped) and as Phi-2 does (raw UTF-8)") {
  CHECK(vocab_text().find("\\u0120") != std::string::npos);  // the shipped file is escaped
  const std::string raw = tgv::Json::parse(vocab_text()).dump();
  CHECK(raw.find("\\u0120") == std::string::npos);
  CHECK(raw.find("\xc4\xa0the") != std::string::npos);       // "Ġthe" as raw UTF-8
  const Tokenizer t = Tokenizer::from_files(raw, merges_text());
  const std::string s = "Raw UTF-8 vocab: the same ids, café 中文 \xf0\x9f\x98\x80";
  CHECK(t.encode(s) == gpt2().encode(s));
  CHECK(t.size() == gpt2().size());
}

TEST_CASE("added_tokens.json: read when present, the same ids as the built-in 38") {
  // Phi-2's file: {"<31 spaces>": 50257, ..., "\t\t": 50294}, here written in reverse order.
  std::string added = "{";
  for (int id = 50294; id >= 50257; id--) {
    added += tgv::json_quote(gpt2().token_bytes(id)) + ": " + std::to_string(id);
    added += id > 50257 ? ", " : "}";
  }
  const Tokenizer t = Tokenizer::from_files(vocab_text(), merges_text(), added);
  const std::string s = "def f():\n" + std::string(40, ' ') + "return 1\t\t\t<|endoftext|>";
  CHECK(t.encode(s) == gpt2().encode(s));
  CHECK(t.size() == 50295);
  // Only some tokens: ids continue the vocabulary.
  const Tokenizer t2 = Tokenizer::from_files(tiny_vocab(), kTinyMerges, R"({"<img>": 258, "  ": 259})");
  CHECK(t2.size() == 260);
  CHECK(t2.encode("x<img>  ab") == std::vector<int>{'x', 258, 259, 256});
  CHECK(t2.encode("   ") == std::vector<int>{259, ' '});  // leftmost-longest, then one space
  // An existing token may be listed with its own id (it becomes unsplittable).
  CHECK(Tokenizer::from_files(tiny_vocab(), kTinyMerges, R"({"abc": 257})").encode("xabcx") ==
        std::vector<int>{'x', 257, 'x'});
  // An empty object: no added tokens at all.
  CHECK(Tokenizer::from_files(tiny_vocab(), kTinyMerges, "{}").size() == 258);
}

TEST_CASE("bad vocab.json files are refused with a clear error") {
  const std::string m = kTinyMerges;
  check_refused("{\"a\": 0", m, {}, "vocab.json: json:");
  check_refused("[1, 2]", m, {}, "expected an object");
  check_refused("{}", m, {}, "no tokens");
  check_refused(tiny_vocab(", \"x\": 1.5"), m, {}, "not an integer");
  check_refused(tiny_vocab(", \"x\": \"258\""), m, {}, "not an integer");
  check_refused(tiny_vocab(", \"x\": 5"), m, {}, "used twice");            // duplicate id
  check_refused(tiny_vocab(", \"x\": -1"), m, {}, "outside");
  check_refused(tiny_vocab(", \"x\": 999"), m, {}, "outside");             // a gap: ids must be 0..N-1
  check_refused(tiny_vocab(", \"ab\": 258"), m, {}, "appears twice");      // duplicate key
  check_refused(tiny_vocab(", \"a b\": 258"), m, {}, "outside GPT-2's byte alphabet");  // raw space
  check_refused(tiny_vocab(", \"\": 258"), m, {}, "empty token");
  check_refused(replace_once(tiny_vocab(), tgv::json_quote(key('z')) + ": ", "\"zz\": "), "", {}, "no token for the single byte 122");
}

TEST_CASE("bad merges.txt files are refused with a clear error") {
  const std::string v = tiny_vocab();
  check_refused(v, "a b\nb a\n", {}, "line 2: the merged token 'ba' is not in vocab.json");
  check_refused(v, "a q9\n", {}, "'q9' is not in vocab.json");
  check_refused(v, "a b c\n", {}, "line 1: expected two tokens");
  check_refused(v, "ab\n", {}, "expected two tokens");
  check_refused(v, " a b\n", {}, "expected two tokens");
  check_refused(v, "a  b\n", {}, "expected two tokens");
  check_refused(v, "a b\na b\n", {}, "appears twice");
  check_refused(v, "#version: 0.2\n#version: 0.2\n", {}, "line 2");  // only the first line may be #version
}

TEST_CASE("bad added_tokens.json files are refused with a clear error") {
  const std::string v = tiny_vocab(), m = kTinyMerges;
  check_refused(v, m, std::string_view("{\"x\": "), "added_tokens.json: json:");
  check_refused(v, m, std::string_view("[]"), "expected an object");
  check_refused(v, m, std::string_view(R"({"<a>": 259})"), "expected 258, got 259");   // a gap
  check_refused(v, m, std::string_view(R"({"<a>": 258, "<b>": 258})"), "expected 259, got 258");
  check_refused(v, m, std::string_view(R"({"<a>": 258, "<a>": 259})"), "appears twice");
  check_refused(v, m, std::string_view(R"({"<a>": "258"})"), "not an integer");
  check_refused(v, m, std::string_view(R"({"<a>": -3})"), "out of range");
  check_refused(v, m, std::string_view(R"({"<a>": 99999999999})"), "out of range");
  check_refused(v, m, std::string_view(R"({"": 258})"), "empty token");
  check_refused(v, m, std::string_view(R"({"xyz": 256})"), "is 'ab' in vocab.json");
}

TEST_CASE("Tokenizer::load names the directory and the missing file") {
  namespace fs = std::filesystem;
  const fs::path dir = fs::temp_directory_path() / "tgv_test_tokenizer_load";
  fs::remove_all(dir);
  fs::create_directories(dir);
  CHECK_THROWS_WITH_AS(Tokenizer::load((dir / "nope").string()), doctest::Contains("not a directory"), tgv::Error);
  CHECK_THROWS_WITH_AS(Tokenizer::load(dir.string()), doctest::Contains("vocab.json"), tgv::Error);
  std::ofstream(dir / "vocab.json") << tiny_vocab();
  CHECK_THROWS_WITH_AS(Tokenizer::load(dir.string()), doctest::Contains("merges.txt"), tgv::Error);
  std::ofstream(dir / "merges.txt") << kTinyMerges;
  CHECK(Tokenizer::load(dir.string()).size() == 258 + 38);
  std::ofstream(dir / "added_tokens.json") << R"({"<x>": 260})";
  CHECK_THROWS_WITH_AS(Tokenizer::load(dir.string()), doctest::Contains(dir.string().c_str()), tgv::Error);
  fs::remove_all(dir);
}
