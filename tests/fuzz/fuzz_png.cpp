// Fuzz target: PNG decoding (and a small resize of whatever decodes).
// Any input must decode or throw tgv::Error; never crash, hang or over-read.
//   libFuzzer (clang, -DTGV_FUZZ=ON): ./fuzz_png tests/fuzz/corpus/png
//   any compiler: the replay driver, sh tests/fuzz/run-fuzzers.sh BUILD SECONDS
#include <cstddef>
#include <cstdint>

#include "tinygptv/error.h"
#include "tinygptv/image.h"
#include "tinygptv/preprocess.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  try {
    tgv::ImageRGB8 img = tgv::decode_png(data, size);
    if (size_t(img.width) * img.height <= 1 << 16) tgv::resize_bicubic(img, 7, 5);
  } catch (const tgv::Error&) {
  }
  return 0;
}
