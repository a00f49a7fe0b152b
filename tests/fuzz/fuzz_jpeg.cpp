// Fuzz target: JPEG decoding. Any input must decode or throw tgv::Error; never crash,
// hang or over-read. The pixel limit is lowered to 2^20 so a forged header cannot make
// one run allocate (and decode) hundreds of megabytes; everything else is the real path.
//   libFuzzer (clang, -DTGV_FUZZ=ON): ./fuzz_jpeg tests/fuzz/corpus/jpeg
//   any compiler: the replay driver, sh tests/fuzz/run-fuzzers.sh BUILD SECONDS
#include <cstddef>
#include <cstdint>

#include "jpeg/jpeg_internal.h"
#include "tinygptv/error.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  try {
    tgv::jpeg::decode(data, size, uint64_t{1} << 20);
  } catch (const tgv::Error&) {
  }
  return 0;
}
