// Fuzz target: raw DEFLATE, zlib and the PNG-style prefix reader on arbitrary bytes.
// Any input must decompress or throw tgv::Error; output is capped at 1 MiB.
#include <cstddef>
#include <cstdint>

#include "tinygptv/error.h"
#include "tinygptv/inflate.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const size_t cap = size_t{1} << 20;
  try {
    tgv::zlib_decompress(data, size, cap);
  } catch (const tgv::Error&) {
  }
  try {
    size_t used = 0;
    tgv::inflate_raw(data, size, cap, &used);
  } catch (const tgv::Error&) {
  }
  try {
    tgv::zlib_decompress_prefix(data, size, 1000);
  } catch (const tgv::Error&) {
  }
  return 0;
}
