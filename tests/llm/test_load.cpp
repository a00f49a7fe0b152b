// load_phi2 on model files with a tensor missing or of the wrong shape: a one-line
// tgv::Error naming the tensor (and both shapes), made from copies of the tiny fixture.
#include <doctest/doctest.h>

#include <unistd.h>

#include <algorithm>
#include <cstring>
#include <filesystem>
#include <string>
#include <vector>

#include "fixture.h"
#include "tinygptv/error.h"
#include "tinygptv/phi2.h"
#include "tinygptv/safetensors.h"

using namespace tgv;
using namespace tgv::test;
namespace fs = std::filesystem;

namespace {

// Copies the tiny fixture to `path`, dropping tensor `drop` and giving `reshape` the shape `shape`.
void write_variant(const std::string& path, const std::string& drop, const std::string& reshape, std::vector<int64_t> shape) {
  const SafetensorsFile src(llm_dir("tiny") + "/model.safetensors");
  std::vector<TensorEntry> entries;
  std::vector<const Tensor*> from;
  for (const Tensor& t : src.tensors()) {
    if (t.name == drop) continue;
    entries.push_back({t.name, t.dtype, t.name == reshape ? shape : t.shape});
    from.push_back(&t);
  }
  std::vector<std::pair<std::string, std::string>> meta(src.metadata().begin(), src.metadata().end());
  write_safetensors(path, entries, meta, [&](size_t i, std::vector<uint8_t>& bytes) {
    size_t n = dtype_size(entries[i].dtype);
    for (int64_t d : entries[i].shape) n *= static_cast<size_t>(d);
    bytes.assign(n, 0);
    std::memcpy(bytes.data(), from[i]->data, std::min(n, from[i]->nbytes()));
  });
}

}  // namespace

TEST_CASE("load_phi2 names a missing tensor and a wrong shape") {
  const std::string path = (fs::temp_directory_path() / ("tgv_test_load_" + std::to_string(::getpid()) + ".safetensors")).string();
  write_variant(path, "llama_model.model.layers.1.self_attn.k_layernorm.bias", "", {});
  CHECK_THROWS_WITH_AS(load_phi2(ModelFile(path)),
                       (path + ": missing tensor 'llama_model.model.layers.1.self_attn.k_layernorm.bias'").c_str(), Error);
  write_variant(path, "", "llama_model.model.layers.0.self_attn.query_key_value.weight", {32, 96});
  CHECK_THROWS_WITH_AS(load_phi2(ModelFile(path)),
                       (path + ": tensor 'llama_model.model.layers.0.self_attn.query_key_value.weight' has wrong shape; "
                               "expected [96, 32], got [32, 96]").c_str(),
                       Error);
  write_variant(path, "", "llama_model.lm_head.bias", {96});
  CHECK_THROWS_WITH_AS(load_phi2(ModelFile(path)),
                       (path + ": tensor 'llama_model.lm_head.bias' has wrong shape; expected [97], got [96]").c_str(), Error);
  fs::remove(path);
}
