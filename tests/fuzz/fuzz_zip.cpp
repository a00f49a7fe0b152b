// Fuzz target: PyTorch checkpoints as whole files - the zip container (stored,
// deflated, zip64; src/checkpoint/zip.cpp), data.pkl and every tensor in it.
// Any input must load or throw tgv::Error; never crash or over-read.
//   libFuzzer (clang, -DTGV_FUZZ=ON): ./fuzz_zip tests/fuzz/corpus/zip
//   any compiler: the replay driver, sh tests/fuzz/run-fuzzers.sh BUILD SECONDS
#include <cstddef>
#include <cstdint>
#include <vector>

#include "checkpoint/zip.h"
#include "tinygptv/checkpoint.h"
#include "tinygptv/error.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  try {
    tgv::ZipArchive zip(data, size, "fuzz.zip");
    for (const tgv::ZipEntry& e : zip.entries()) {
      try {
        zip.read(e);
      } catch (const tgv::Error&) {
      }
    }
  } catch (const tgv::Error&) {
  }
  try {
    tgv::TorchFile f(std::vector<uint8_t>(data, data + size), "fuzz.pth");
    f.value_json({});
    for (const auto& t : f.state_dict())
      if (t.is_float()) t.load();
  } catch (const tgv::Error&) {
  }
  return 0;
}
