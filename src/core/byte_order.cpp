// See include/tinygptv/byte_order.h. The per-dtype table of multi-byte fields, and
// the one swap that turns little-endian file bytes into host order on a big-endian
// machine (and back).
#include "tinygptv/byte_order.h"

#include <algorithm>
#include <cstddef>

#include "tinygptv/error.h"
#include "tinygptv/quant.h"

namespace tgv {

namespace {

constexpr ByteOrderField kWord32[] = {{0, 4}};
constexpr ByteOrderField kWord16[] = {{0, 2}};
// Quantized blocks (include/tinygptv/quant.h): their uint16 half scales, Q8_K's float d
// and int16 bsums. The int8/uint8 quants and packed bit fields are bytes already
// (Q5's qh is a byte array read as little-endian by the kernels).
constexpr ByteOrderField kQ8_0[] = {{offsetof(BlockQ8_0, d), 2}};
constexpr ByteOrderField kQ4_0[] = {{offsetof(BlockQ4_0, d), 2}};
constexpr ByteOrderField kQ4_1[] = {{offsetof(BlockQ4_1, d), 2}, {offsetof(BlockQ4_1, m), 2}};
constexpr ByteOrderField kQ5_0[] = {{offsetof(BlockQ5_0, d), 2}};
constexpr ByteOrderField kQ5_1[] = {{offsetof(BlockQ5_1, d), 2}, {offsetof(BlockQ5_1, m), 2}};
constexpr ByteOrderField kQ8_1[] = {{offsetof(BlockQ8_1, d), 2}, {offsetof(BlockQ8_1, s), 2}};
constexpr ByteOrderField kQ4_K[] = {{offsetof(BlockQ4_K, d), 2}, {offsetof(BlockQ4_K, dmin), 2}};
constexpr ByteOrderField kQ6_K[] = {{offsetof(BlockQ6_K, d), 2}};
// Q8_K: d, then the 16 bsums.
struct Q8KFields {
  ByteOrderField f[1 + kQK_K / 16];
  constexpr Q8KFields() : f{} {
    f[0] = {offsetof(BlockQ8_K, d), 4};
    for (int i = 0; i < kQK_K / 16; i++) f[1 + i] = {static_cast<uint16_t>(offsetof(BlockQ8_K, bsums) + 2 * i), 2};
  }
};
constexpr Q8KFields kQ8_K;

template <size_t N>
constexpr ByteOrderLayout layout(size_t unit_bytes, size_t unit_elements, const ByteOrderField (&f)[N]) {
  return {unit_bytes, unit_elements, f, N};
}

void swap_field(uint8_t* p, int width) { std::reverse(p, p + width); }

}  // namespace

ByteOrderLayout byte_order_layout(DType t) {
  switch (t) {
    case DType::F32: return layout(4, 1, kWord32);
    case DType::F16: return layout(2, 1, kWord16);
    case DType::BF16: return layout(2, 1, kWord16);
    case DType::Q8_0: return layout(sizeof(BlockQ8_0), kQ8Block, kQ8_0);
    case DType::Q4_0: return layout(sizeof(BlockQ4_0), kQK, kQ4_0);
    case DType::Q4_1: return layout(sizeof(BlockQ4_1), kQK, kQ4_1);
    case DType::Q5_0: return layout(sizeof(BlockQ5_0), kQK, kQ5_0);
    case DType::Q5_1: return layout(sizeof(BlockQ5_1), kQK, kQ5_1);
    case DType::Q8_1: return layout(sizeof(BlockQ8_1), kQK, kQ8_1);
    case DType::Q4_K: return layout(sizeof(BlockQ4_K), kQK_K, kQ4_K);
    case DType::Q6_K: return layout(sizeof(BlockQ6_K), kQK_K, kQ6_K);
    case DType::Q8_K: return {sizeof(BlockQ8_K), kQK_K, kQ8_K.f, 1 + kQK_K / 16};
  }
  fail(std::string("no byte-order layout for dtype ") + dtype_name(t));
}

void dtype_swap_bytes(DType t, void* data, size_t count) {
  const ByteOrderLayout l = byte_order_layout(t);
  TGV_ASSERT(count % l.unit_elements == 0, std::string("whole blocks of ") + dtype_name(t));
  auto* p = static_cast<uint8_t*>(data);
  const size_t units = count / l.unit_elements;
  for (size_t u = 0; u < units; u++, p += l.unit_bytes)
    for (size_t f = 0; f < l.field_count; f++) swap_field(p + l.fields[f].offset, l.fields[f].width);
}

void dtype_swap_le_host(DType t, void* data, size_t count) {
  if (!kLittleEndianHost) dtype_swap_bytes(t, data, count);
}

}  // namespace tgv
