// Reading the language-model fixtures written by tests/reference/make_llm.py:
// tests/data/llm/<name>/{model.safetensors, prompt_ids.json, decode.json, *.npy}.
#pragma once
#include <cstdio>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "tinygptv/json.h"
#include "tinygptv/npy.h"

namespace tgv::test {

inline const char* const kLlmFixtures[] = {"tiny", "head80"};

inline std::string llm_dir(const std::string& name) { return std::string(TGV_TEST_DATA) + "/llm/" + name; }

inline std::string read_text(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  std::stringstream ss;
  ss << f.rdbuf();
  return ss.str();
}

inline std::vector<int> json_ids(const Json& j) {
  std::vector<int> ids;
  for (const Json& v : j.as_array()) ids.push_back(static_cast<int>(v.as_int()));
  return ids;
}

inline std::vector<int> prompt_ids(const std::string& name) {
  return json_ids(Json::parse(read_text(llm_dir(name) + "/prompt_ids.json")));
}

}  // namespace tgv::test
