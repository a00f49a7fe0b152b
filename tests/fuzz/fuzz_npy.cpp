// Fuzz target: .npy files (src/core/npy.cpp) as `dump --image x.npy` and `compare`
// read them: the header parse, the data size against the shape, to_f32.
// Any input must parse or throw tgv::Error; what parses must be consistent: the data
// is exactly prod(shape) elements, and to_f32 gives one float per element.
//   libFuzzer (clang, -DTGV_FUZZ=ON): ./fuzz_npy -dict=tests/fuzz/npy.dict tests/fuzz/corpus/npy
//   any compiler: the replay driver, sh tests/fuzz/run-fuzzers.sh BUILD SECONDS
#include <cstddef>
#include <cstdint>
#include <vector>

#include "tinygptv/error.h"
#include "tinygptv/npy.h"

namespace {

void check(bool ok) {
  if (!ok) __builtin_trap();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  tgv::NpyArray a;
  try {
    a = tgv::parse_npy(data, size);
  } catch (const tgv::Error&) {
    return 0;
  }
  size_t count = 1;
  for (int64_t d : a.shape) {
    check(d >= 0);
    count *= static_cast<size_t>(d);  // parse_npy checked this product
  }
  check(a.bytes.size() <= size);
  try {
    const std::vector<float> f = a.to_f32();
    check(f.size() == count);
  } catch (const tgv::Error&) {
    check(a.dtype != "<f4" && a.dtype != "<f8" && a.dtype != "|u1");
  }
  return 0;
}
