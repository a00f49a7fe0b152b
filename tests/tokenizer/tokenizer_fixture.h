// Shared by the tokenizer tests: the shipped GPT-2 tokenizer (weights/tokenizer/,
// loaded once), the committed fixtures (tests/data/tokenizer/) and small helpers.
#pragma once
#include <fstream>
#include <iterator>
#include <map>
#include <string>
#include <vector>

#include "tinygptv/json.h"
#include "tinygptv/tokenizer.h"

namespace tgv_test {

inline std::string read_file(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  if (!f) throw std::runtime_error("cannot open " + path);
  return std::string((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
}

inline std::string repo_path(const std::string& rel) { return std::string(TGV_TEST_DATA) + "/../../" + rel; }
inline std::string gpt2_dir() { return repo_path("weights/tokenizer"); }
inline std::string data_path(const std::string& name) { return std::string(TGV_TEST_DATA) + "/tokenizer/" + name; }

inline const tgv::Tokenizer& gpt2() {
  static const tgv::Tokenizer tok = tgv::Tokenizer::load(gpt2_dir());
  return tok;
}

// The id of the token whose bytes are `bytes`, found through token_bytes() (the
// vocabulary file), never through encode(). -1 if there is none.
inline int id_of(const std::string& bytes) {
  static const std::map<std::string, int> ids = [] {
    std::map<std::string, int> m;
    for (int i = 0; i < gpt2().size(); i++) m.emplace(gpt2().token_bytes(i), i);
    return m;
  }();
  auto it = ids.find(bytes);
  return it == ids.end() ? -1 : it->second;
}

inline std::vector<int> ids_of(const std::vector<std::string>& tokens) {
  std::vector<int> out;
  for (const auto& t : tokens) out.push_back(id_of(t));
  return out;
}

inline std::vector<int> int_list(const tgv::Json& arr) {
  std::vector<int> out;
  for (const auto& v : arr.as_array()) out.push_back(static_cast<int>(v.as_int()));
  return out;
}

}  // namespace tgv_test
