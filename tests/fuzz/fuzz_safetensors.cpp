// Fuzz target: model files (safetensors header, config, Phi-2 weight shapes) and, when
// a mutated file still loads, a two-token forward pass of the language model.
// Any input must load or throw tgv::Error; never crash, hang or over-read.
//   libFuzzer (clang, -DTGV_FUZZ=ON): ./fuzz_safetensors -dict=tests/fuzz/safetensors.dict tests/fuzz/corpus/safetensors
//   any compiler: the replay driver, sh tests/fuzz/run-fuzzers.sh BUILD SECONDS
// The input is read from memory (MappedFile::from_bytes), so AddressSanitizer sees its
// exact end; a file on disk goes through the same SafetensorsFile code after mmap.
#include <cstddef>
#include <cstdint>
#include <memory>
#include <vector>

#include "tinygptv/error.h"
#include "tinygptv/mapped_file.h"
#include "tinygptv/model_file.h"
#include "tinygptv/phi2.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  try {
    const tgv::ModelFile model(std::make_unique<tgv::SafetensorsFile>(
        tgv::MappedFile::from_bytes(std::vector<uint8_t>(data, data + size), "fuzz.safetensors")));
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
  return 0;
}
