// Fuzz target: the allow-listed pickle machine (src/checkpoint/pickle.cpp) and what
// reads its result. The input is taken as data.pkl inside a torch.save-style zip
// with one 64-float storage "0", so tensors a mutated pickle builds can be loaded.
// Any input must give values or throw tgv::Error; never run code, crash or recurse
// without bound.
//   libFuzzer (clang, -DTGV_FUZZ=ON): ./fuzz_pickle tests/fuzz/corpus/pickle
//   any compiler: the replay driver, sh tests/fuzz/run-fuzzers.sh BUILD SECONDS
#include <cstddef>
#include <cstdint>
#include <string>

#include "../checkpoint/zip_writer.h"
#include "checkpoint/pickle.h"
#include "tinygptv/checkpoint.h"
#include "tinygptv/error.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  try {
    tgv::unpickle(data, size);
  } catch (const tgv::Error&) {
  }
  try {
    const std::string pickle(reinterpret_cast<const char*>(data), size);
    tgv::TorchFile f(tgv::test::torch_zip(pickle, {std::string(64 * 4, '\x01')}), "fuzz.pth");
    f.value_json({});
    for (const auto& t : f.state_dict())
      if (t.is_float()) t.load();
  } catch (const tgv::Error&) {
  }
  return 0;
}
