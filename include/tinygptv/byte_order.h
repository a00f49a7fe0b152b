// Byte order. Every file format tinygptv reads or writes fixes its own byte order
// (safetensors, .npy '<f4', zip, pickle and PyTorch storages: little-endian; PNG and
// JPEG fields: big-endian), whatever the machine's. So multi-byte values in file
// bytes are read and written only through these helpers, never by memcpy into a
// uint32_t/float (docs/porting.md, "Endianness").
//
// Tensor data in memory is in the host's order. On a little-endian host the bytes of
// a mapped model file are used in place; on a big-endian one each tensor is copied
// once at load and its multi-byte fields swapped (dtype_swap_le_host), and swapped
// back when written.
#pragma once
#include <bit>
#include <cstddef>
#include <cstdint>
#include <cstring>

#include "tinygptv/tensor.h"

namespace tgv {

constexpr bool kLittleEndianHost = std::endian::native == std::endian::little;

inline uint16_t load_le16(const uint8_t* p) { return static_cast<uint16_t>(p[0] | (p[1] << 8)); }
inline uint32_t load_le32(const uint8_t* p) {
  return uint32_t{p[0]} | (uint32_t{p[1]} << 8) | (uint32_t{p[2]} << 16) | (uint32_t{p[3]} << 24);
}
inline uint64_t load_le64(const uint8_t* p) { return load_le32(p) | (uint64_t{load_le32(p + 4)} << 32); }
// Bits <-> floating point (std::bit_cast, which emscripten's libc++ 14 lacks).
inline float float_from_bits(uint32_t u) { float f; std::memcpy(&f, &u, 4); return f; }
inline double double_from_bits(uint64_t u) { double d; std::memcpy(&d, &u, 8); return d; }
inline uint32_t bits_from_float(float f) { uint32_t u; std::memcpy(&u, &f, 4); return u; }
inline float load_le_f32(const uint8_t* p) { return float_from_bits(load_le32(p)); }
inline double load_le_f64(const uint8_t* p) { return double_from_bits(load_le64(p)); }
inline uint16_t load_be16(const uint8_t* p) { return static_cast<uint16_t>((p[0] << 8) | p[1]); }
inline uint32_t load_be32(const uint8_t* p) {
  return (uint32_t{p[0]} << 24) | (uint32_t{p[1]} << 16) | (uint32_t{p[2]} << 8) | uint32_t{p[3]};
}

inline void store_le16(uint8_t* p, uint16_t v) { p[0] = static_cast<uint8_t>(v); p[1] = static_cast<uint8_t>(v >> 8); }
inline void store_le32(uint8_t* p, uint32_t v) {
  for (int i = 0; i < 4; i++) p[i] = static_cast<uint8_t>(v >> (8 * i));
}
inline void store_le64(uint8_t* p, uint64_t v) {
  for (int i = 0; i < 8; i++) p[i] = static_cast<uint8_t>(v >> (8 * i));
}
inline void store_le_f32(uint8_t* p, float f) { store_le32(p, bits_from_float(f)); }
inline void store_be32(uint8_t* p, uint32_t v) {
  for (int i = 0; i < 4; i++) p[i] = static_cast<uint8_t>(v >> (24 - 8 * i));
}

// The multi-byte fields of one stored unit of a dtype: an element (F32, F16, BF16)
// or a quantized block. Each field is `width` bytes at `offset`; everything else in
// the unit is single bytes and never swapped.
struct ByteOrderField {
  uint16_t offset, width;
};
struct ByteOrderLayout {
  size_t unit_bytes;       // bytes per element or per block
  size_t unit_elements;    // elements per unit (1, or the block size)
  const ByteOrderField* fields;
  size_t field_count;
};
ByteOrderLayout byte_order_layout(DType t);

// `count` elements of dtype t at `data`, between little-endian (files) and host order,
// in place. A no-op on little-endian hosts; swapping is its own inverse, so the same
// call converts both ways. count is a whole number of units (dtype_bytes checked it).
void dtype_swap_le_host(DType t, void* data, size_t count);
void dtype_swap_bytes(DType t, void* data, size_t count);  // the swap itself, on any host

}  // namespace tgv
