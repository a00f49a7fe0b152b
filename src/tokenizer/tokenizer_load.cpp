// Tokenizer::load / from_files: vocab.json, merges.txt and added_tokens.json into
// the tables of tokenizer_data.h, refusing any file that does not describe a
// consistent byte-level BPE with a clear one-line tgv::Error.
//
//   vocab.json         {"token": id, ...}; tokens are written in GPT-2's byte alphabet
//                      (byte_unicode.h), either \u-escaped (GPT-2) or as raw UTF-8
//                      (Phi-2); the ids must be exactly 0..N-1
//   merges.txt         "left right" per line in rank order; an optional "#version"
//                      first line and blank lines are skipped; both halves and their
//                      concatenation must be tokens of vocab.json
//   added_tokens.json  {"content": id, ...} (raw text, not the byte alphabet); new ids
//                      must continue the vocabulary without gaps. Absent: the 38
//                      whitespace runs of model.md section 6 are added at N, N+1, ...
#include <algorithm>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <unordered_map>

#include "tinygptv/error.h"
#include "tinygptv/json.h"
#include "tinygptv/tokenizer.h"
#include "tokenizer/byte_unicode.h"
#include "tokenizer/tokenizer_data.h"

namespace tgv {

namespace {

constexpr int64_t kMaxTokens = 1 << 22;          // far above any BPE vocabulary
constexpr uintmax_t kMaxFileBytes = 256u << 20;  // vocab.json of a 4M-token vocabulary fits

std::string read_text_file(const std::filesystem::path& path) {
  std::error_code ec;
  const uintmax_t size = std::filesystem::file_size(path, ec);
  if (ec) fail("tokenizer: cannot read " + path.string() + ": " + ec.message());
  if (size > kMaxFileBytes) fail("tokenizer: " + path.string() + " is too large (" + std::to_string(size) + " bytes)");
  std::ifstream f(path, std::ios::binary);
  if (!f) fail("tokenizer: cannot open " + path.string());
  std::string s((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
  if (f.bad()) fail("tokenizer: error reading " + path.string());
  return s;
}

Json parse_json(const char* file, std::string_view text) {
  try {
    return Json::parse(text);
  } catch (const Error& e) {
    fail(std::string(file) + ": " + e.what());
  }
}

// A short, printable, one-line form of a token for error messages: '...' with
// bytes outside printable ASCII written as \xNN.
std::string shown(std::string_view s) {
  static const char hex[] = "0123456789abcdef";
  std::string out = "'";
  for (size_t i = 0; i < s.size() && i < 40; i++) {
    const uint8_t b = static_cast<uint8_t>(s[i]);
    if (b >= 0x20 && b < 0x7f && b != '\\') {
      out += static_cast<char>(b);
    } else {
      out += "\\x";
      out += hex[b >> 4];
      out += hex[b & 15];
    }
  }
  return out + (s.size() > 40 ? "...'" : "'");
}

// A vocab.json key (text in the byte alphabet) -> the token's raw bytes.
std::string alphabet_to_bytes(const std::string& key, int64_t id) {
  std::string out;
  uint32_t cp = 0;
  for (size_t i = 0; i < key.size();) {
    int n = utf8_decode(key, i, &cp);  // the JSON reader already checked the UTF-8
    int b = n > 0 ? unicode_to_byte(cp) : -1;
    if (b < 0) fail("vocab.json: token " + shown(key) + " (id " + std::to_string(id) + ") has a character outside GPT-2's byte alphabet");
    out += static_cast<char>(b);
    i += static_cast<size_t>(n);
  }
  return out;
}

// Token text (in the byte alphabet) -> id; the keys point into the parsed vocab.json.
using VocabIndex = std::unordered_map<std::string_view, int>;

// vocab.json (parsed) -> d.bytes, d.vocab_size, d.byte_id; returns the index for merges.txt.
VocabIndex read_vocab(TokenizerData& d, const Json& j) {
  if (!j.is_object()) fail("vocab.json: expected an object {\"token\": id, ...}");
  const auto& members = j.as_object();
  if (members.empty()) fail("vocab.json: no tokens");
  if (static_cast<int64_t>(members.size()) > kMaxTokens) fail("vocab.json: too many tokens");
  const int n = static_cast<int>(members.size());
  VocabIndex ids;
  ids.reserve(members.size());
  d.bytes.assign(n, std::string());
  std::vector<bool> seen(n, false);
  for (const auto& [key, value] : members) {
    if (!value.is_integer()) fail("vocab.json: the id of " + shown(key) + " is not an integer");
    const int64_t id = value.as_int();
    if (id < 0 || id >= n) fail("vocab.json: id " + std::to_string(id) + " of " + shown(key) + " is outside 0.." + std::to_string(n - 1) + " (ids must be 0..N-1)");
    if (seen[id]) fail("vocab.json: id " + std::to_string(id) + " is used twice");
    if (key.empty()) fail("vocab.json: empty token (id " + std::to_string(id) + ")");
    if (!ids.emplace(key, static_cast<int>(id)).second) fail("vocab.json: token " + shown(key) + " appears twice");
    seen[id] = true;
    d.bytes[id] = alphabet_to_bytes(key, id);
  }
  d.vocab_size = n;
  for (int b = 0; b < 256; b++) {
    std::string key;
    utf8_append(key, byte_to_unicode(static_cast<uint8_t>(b)));
    auto it = ids.find(key);
    if (it == ids.end()) fail("vocab.json: no token for the single byte " + std::to_string(b) + " (" + shown(key) + ")");
    d.byte_id[b] = it->second;
  }
  return ids;
}

void read_merges(TokenizerData& d, std::string_view merges_txt, const VocabIndex& ids) {
  int rank = 0;
  std::string joined;
  d.merges.reserve(static_cast<size_t>(std::count(merges_txt.begin(), merges_txt.end(), '\n')) + 1);
  size_t line_no = 0;
  for (size_t pos = 0; pos < merges_txt.size();) {
    size_t eol = merges_txt.find('\n', pos);
    if (eol == std::string_view::npos) eol = merges_txt.size();
    std::string_view line = merges_txt.substr(pos, eol - pos);
    pos = eol + 1;
    line_no++;
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    if (line.empty()) continue;
    if (line_no == 1 && line.substr(0, 8) == "#version") continue;
    const auto where = [&] { return "merges.txt line " + std::to_string(line_no) + ": "; };
    const size_t sp = line.find(' ');
    if (sp == std::string_view::npos || sp == 0 || sp + 1 == line.size() || line.find(' ', sp + 1) != std::string_view::npos)
      fail(where() + "expected two tokens separated by one space, got " + shown(line));
    const std::string_view left = line.substr(0, sp), right = line.substr(sp + 1);
    joined.assign(left);
    joined += right;
    auto l = ids.find(left), r = ids.find(right), m = ids.find(joined);
    if (l == ids.end()) fail(where() + shown(left) + " is not in vocab.json");
    if (r == ids.end()) fail(where() + shown(right) + " is not in vocab.json");
    if (m == ids.end()) fail(where() + "the merged token " + shown(joined) + " is not in vocab.json");
    if (!d.merges.add(l->second, r->second, Merge{rank, m->second})) fail(where() + "the merge " + shown(line) + " appears twice");
    rank++;
  }
}

// The 38 whitespace tokens of Phi-2 (model.md section 6), in id order.
std::vector<std::string> default_added_tokens() {
  std::vector<std::string> t;
  for (int k = 31; k >= 2; k--) t.push_back(std::string(k, ' '));
  for (int k = 9; k >= 2; k--) t.push_back(std::string(k, '\t'));
  return t;
}

void read_added_tokens(TokenizerData& d, std::optional<std::string_view> added_json) {
  std::vector<std::pair<int64_t, std::string>> fresh;  // (id, content) beyond the vocabulary
  if (!added_json) {
    for (const auto& s : default_added_tokens()) fresh.push_back({d.vocab_size + static_cast<int64_t>(fresh.size()), s});
  } else {
    const Json j = parse_json("added_tokens.json", *added_json);
    if (!j.is_object()) fail("added_tokens.json: expected an object {\"content\": id, ...}");
    if (static_cast<int64_t>(j.size()) > kMaxTokens) fail("added_tokens.json: too many tokens");
    std::unordered_map<std::string, int64_t> contents;
    for (const auto& [content, value] : j.as_object()) {
      if (!value.is_integer()) fail("added_tokens.json: the id of " + shown(content) + " is not an integer");
      const int64_t id = value.as_int();
      if (content.empty()) fail("added_tokens.json: empty token (id " + std::to_string(id) + ")");
      if (!contents.emplace(content, id).second) fail("added_tokens.json: token " + shown(content) + " appears twice");
      if (id < 0 || id >= d.vocab_size + kMaxTokens) fail("added_tokens.json: id " + std::to_string(id) + " of " + shown(content) + " is out of range");
      if (id < d.vocab_size) {  // an existing token made unsplittable: must be the same text
        if (d.bytes[id] != content) fail("added_tokens.json: id " + std::to_string(id) + " is " + shown(d.bytes[id]) + " in vocab.json, not " + shown(content));
        d.added.add(content, static_cast<int>(id));
      } else {
        fresh.push_back({id, content});
      }
    }
    std::sort(fresh.begin(), fresh.end());
  }
  for (size_t k = 0; k < fresh.size(); k++) {
    const int64_t expect = d.vocab_size + static_cast<int64_t>(k);
    if (fresh[k].first != expect)
      fail("added_tokens.json: ids must continue the vocabulary without gaps or repeats: expected " + std::to_string(expect) + ", got " + std::to_string(fresh[k].first) + " for " + shown(fresh[k].second));
    d.bytes.push_back(fresh[k].second);
    d.added.add(fresh[k].second, static_cast<int>(expect));
  }
}

}  // namespace

Tokenizer Tokenizer::from_files(std::string_view vocab_json, std::string_view merges_txt, std::optional<std::string_view> added_tokens_json) {
  auto d = std::make_shared<TokenizerData>();
  const Json vocab = parse_json("vocab.json", vocab_json);
  const VocabIndex ids = read_vocab(*d, vocab);
  read_merges(*d, merges_txt, ids);
  read_added_tokens(*d, added_tokens_json);
  if (auto it = ids.find("<|endoftext|>"); it != ids.end()) {  // a special token: never split
    d->eos = it->second;
    d->added.add("<|endoftext|>", it->second);
  }
  Tokenizer t;
  t.d_ = std::move(d);
  return t;
}

Tokenizer Tokenizer::load(const std::string& dir) {
  namespace fs = std::filesystem;
  const fs::path p(dir);
  if (!fs::is_directory(p)) fail("tokenizer: " + dir + " is not a directory (it should hold vocab.json and merges.txt)");
  const std::string vocab = read_text_file(p / "vocab.json");
  const std::string merges = read_text_file(p / "merges.txt");
  std::optional<std::string> added;
  if (fs::exists(p / "added_tokens.json")) added = read_text_file(p / "added_tokens.json");
  try {
    return from_files(vocab, merges, added ? std::optional<std::string_view>(*added) : std::nullopt);
  } catch (const Error& e) {
    fail(std::string(e.what()) + " (in " + dir + ")");
  }
}

}  // namespace tgv
