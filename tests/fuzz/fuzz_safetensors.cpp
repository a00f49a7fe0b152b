// Fuzz target: model files (safetensors header, config, Phi-2 weight shapes) and, when
// a mutated file still loads, a two-token forward pass of the language model.
// Any input must load or throw tgv::Error; never crash, hang or over-read.
//   libFuzzer (clang, -DTGV_FUZZ=ON): ./fuzz_safetensors tests/fuzz/corpus/safetensors
//   any compiler: the replay driver, sh tests/fuzz/run-fuzzers.sh BUILD SECONDS
// The reader takes a path (it mmaps), so each input is written to a temporary file.
#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <string>
#include <vector>

#include "tinygptv/error.h"
#include "tinygptv/model_file.h"
#include "tinygptv/phi2.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static const std::string path =
      (std::filesystem::temp_directory_path() / ("tgv_fuzz_safetensors_" + std::to_string(::getpid()) + ".safetensors")).string();
  FILE* f = std::fopen(path.c_str(), "wb");
  if (!f) return 0;
  const bool ok = size == 0 || std::fwrite(data, 1, size, f) == size;
  std::fclose(f);
  if (!ok) return 0;
  try {
    const tgv::ModelFile model(path);
    const tgv::Phi2Weights w = tgv::load_phi2(model);
    const tgv::LlmConfig& c = model.config().llm;
    if (static_cast<int64_t>(c.hidden) * c.intermediate * c.layers > (1 << 20) || c.max_positions < 2) return 0;
    const int ids[2] = {0, c.vocab_size - 1};
    std::vector<float> x(2 * static_cast<size_t>(c.hidden)), logits(static_cast<size_t>(c.vocab_size));
    tgv::phi2_embed_tokens(x.data(), w, ids, 2);
    tgv::Phi2State state(c);
    tgv::phi2_forward(logits.data(), state, w, c, x.data(), 2, tgv::Phi2Logits::Last, {});
  } catch (const tgv::Error&) {
  }
  std::remove(path.c_str());
  return 0;
}
