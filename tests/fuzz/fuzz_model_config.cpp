// Fuzz target: a model file's config (interface.md) as the loader reads it. The input
// is the text of __metadata__["config"]; it is put into an in-memory model file that
// holds the tensors of a micro model (every dimension 1..24, zero weights), and then
//   ModelFile     Json::parse + ModelConfig::from_json (every key, range, divisibility)
//   Model         ImageEncoder + Phi-2 loaders: every tensor shape the config implies,
//                 checked against the file (a different config fails on a shape)
//   to_json       the config written back must read back as the same config
//   sizes         model_tensors + safetensors_layout for the config (the arithmetic
//                 `convert`, `quantize` and `bench --random` do), and the FLOP counts
// Any input must load or throw tgv::Error; never crash, overflow or over-allocate.
//   libFuzzer (clang, -DTGV_FUZZ=ON): ./fuzz_model_config -dict=tests/fuzz/model_config.dict tests/fuzz/corpus/model_config
//   any compiler: the replay driver, sh tests/fuzz/run-fuzzers.sh BUILD SECONDS
#include <cstddef>
#include <algorithm>
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "tinygptv/error.h"
#include "tinygptv/json.h"
#include "tinygptv/mapped_file.h"
#include "tinygptv/model_cost.h"
#include "tinygptv/model_file.h"
#include "tinygptv/random_model.h"
#include "tinygptv/safetensors.h"
#include "tinygptv/session.h"

namespace {

void check(bool ok) {
  if (!ok) __builtin_trap();
}

// The micro model of tests/fuzz/corpus/model_config/micro.json.
tgv::ModelConfig micro_config() {
  tgv::ModelConfig c;
  c.vision = {14, 14, 8, 1, 1, 8, 1e-6f, 1e-5f};
  c.qformer = {8, 1, 1, 8, 2, 1, 1e-12f};
  c.projector = {8};
  c.llm = {5, 8, 1, 2, 8, 2, 10000.0f, 1e-5f, 1e-6f, 16};
  return c;
}

// The model file's bytes with `config` as its __metadata__["config"]: the micro
// model's header (made once by safetensors_layout) with the config spliced in front
// of its tensors, then the zero data.
std::vector<uint8_t> model_file_bytes(const std::string& config) {
  static const tgv::SafetensorsLayout layout = tgv::safetensors_layout(tgv::model_tensors(micro_config()), {});
  const std::string header = "{\"__metadata__\":{\"config\":" + tgv::json_quote(config) + "}," + layout.header.substr(1);
  std::vector<uint8_t> bytes(8 + header.size() + layout.data_bytes, 0);
  for (int i = 0; i < 8; i++) bytes[i] = static_cast<uint8_t>(static_cast<uint64_t>(header.size()) >> (8 * i));
  std::copy(header.begin(), header.end(), bytes.begin() + 8);
  return bytes;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string text(reinterpret_cast<const char*>(data), size);
  tgv::ModelConfig c;
  try {
    tgv::ModelFile file(std::make_unique<tgv::SafetensorsFile>(
        tgv::MappedFile::from_bytes(model_file_bytes(text), "fuzz.safetensors")));
    c = file.config();
    try {
      const tgv::Model model(std::move(file));
    } catch (const tgv::Error&) {
    }
  } catch (const tgv::Error&) {
    return 0;
  }
  const std::string written = c.to_json().dump();
  tgv::ModelConfig again;
  try {
    again = tgv::ModelConfig::from_json(tgv::Json::parse(written));
  } catch (const tgv::Error&) {
    check(false);  // a config that loaded must be written so that it loads again
  }
  check(again.to_json().dump() == written);

  tgv::encode_flops(c);
  tgv::llm_forward_flops(c.llm, c.llm.max_positions - 1, 1);
  tgv::kv_cache_bytes(c.llm, c.llm.max_positions);
  // Every tensor's byte size for this config: only when the tensor list is short (its
  // length grows with the layer counts, not with the file).
  if (int64_t{c.vision.layers} + c.qformer.layers + c.llm.layers <= 64) {
    try {
      tgv::safetensors_layout(tgv::model_tensors(c), {{"config", written}});
    } catch (const tgv::Error&) {  // a size that does not fit in size_t
    }
  }
  return 0;
}
