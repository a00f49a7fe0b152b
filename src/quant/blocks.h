// Helpers shared by the format files of src/quant/ (private to this area).
//
// src/quant/ is the leaf "number formats" area: it links nothing, so it cannot use
// tgv::fail / TGV_ASSERT (src/core/, which itself calls into this area). The one
// precondition of every row function -- n is a whole number of blocks -- is a
// programmer error once sizes have passed dtype_bytes (the check for untrusted
// sizes), so it gets the same treatment as TGV_ASSERT: always on, file:line, abort.
// The caller's file:line come from __builtin_FILE/__builtin_LINE (GCC, Clang, MSVC)
// rather than std::source_location, which emscripten's libc++ 14 does not have.
#pragma once
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>

namespace tgv::quant {

// The caller's file:line come from __builtin_FILE / __builtin_LINE (GCC and clang),
// which is what std::source_location::current() is built on; clang before 15 has no
// std::source_location with libstdc++, and the libFuzzer build uses Debian 12's clang 14.
inline void require_whole_blocks(size_t n, size_t block, const char* format, const char* file = __builtin_FILE(),
                                 int line = __builtin_LINE()) {
  if (n % block == 0) return;
  std::fprintf(stderr, "tinygptv: internal error at %s:%d: %s rows are whole blocks of %zu weights, got n = %zu\n",
               file, line, format, block, n);
  std::abort();
}

// ggml's nearest_int: round to nearest, ties to even (the 1.5 * 2^23 trick), valid
// for |f| <= 2^22 -- every quantizer's argument is bounded far below that.
inline int nearest_int(float f) {
  const float magic = 12582912.0f;  // 1.5 * 2^23: adding it leaves round(f) in the low mantissa bits
  float v = f + magic;
  unsigned bits;
  std::memcpy(&bits, &v, 4);
  return static_cast<int>(bits & 0x007fffff) - 0x00400000;
}

// The qh field of a Q5_0 / Q5_1 block: a little-endian uint32 on every host (the block
// is bytes in a file; byte_order.cpp swaps only its half-float fields).
inline uint32_t load_qh(const uint8_t* p) {
  return uint32_t{p[0]} | (uint32_t{p[1]} << 8) | (uint32_t{p[2]} << 16) | (uint32_t{p[3]} << 24);
}
inline void store_qh(uint8_t* p, uint32_t v) {
  for (int i = 0; i < 4; i++) p[i] = static_cast<uint8_t>(v >> (8 * i));
}

// Code j (0..31) of a Q5_0 / Q5_1 block: its low nibble from qs (weights 0..15 in the
// low nibbles, 16..31 in the high ones), its fifth bit from bit j of qh.
inline int code5(const uint8_t* qs, uint32_t qh, int j) {
  const int low = j < 16 ? qs[j] & 0x0f : qs[j - 16] >> 4;
  return low | static_cast<int>((qh >> j) & 1) << 4;
}

}  // namespace tgv::quant
