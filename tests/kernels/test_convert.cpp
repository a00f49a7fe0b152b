// float16 / bfloat16 <-> float32 (src/quant/half.cpp), the conversions every kernel
// relies on. Expected values: exact math (ldexp) for half -> float over all 65536
// patterns, and NumPy / PyTorch rounding for float -> half / bfloat16
// (tests/reference/make_kernels.py -> tests/data/kernels/convert.npy); Q8_0 blocks
// against values worked out by hand.
#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <random>
#include <vector>
#include <cstring>
#include <ios>
#include <string>

#include "tinygptv/byte_order.h"
#include "tinygptv/error.h"
#include "tinygptv/kernels.h"
#include "tinygptv/npy.h"
#include "tinygptv/tensor.h"

namespace {

float from_bits(uint32_t u) { float f; std::memcpy(&f, &u, 4); return f; }

// IEEE binary16 by definition: (-1)^s * 2^(e-15) * (1 + m/1024), subnormals m * 2^-24.
double half_value(uint16_t h) {
  const int s = h >> 15, e = (h >> 10) & 0x1f, m = h & 0x3ff;
  double v = e == 0 ? std::ldexp(m, -24) : std::ldexp(1024 + m, e - 25);
  return s ? -v : v;
}

}  // namespace

TEST_CASE("f16_to_f32 is exact for every finite half, inf and nan") {
  for (uint32_t h = 0; h < 65536; h++) {
    const float f = tgv::f16_to_f32(static_cast<uint16_t>(h));
    const int e = (h >> 10) & 0x1f, m = h & 0x3ff;
    if (e == 31 && m == 0) {
      REQUIRE(std::isinf(f));
      REQUIRE(std::signbit(f) == ((h >> 15) != 0));
    } else if (e == 31) {
      REQUIRE(std::isnan(f));
    } else {
      REQUIRE(static_cast<double>(f) == half_value(static_cast<uint16_t>(h)));
      REQUIRE(std::signbit(f) == ((h >> 15) != 0));  // -0 stays -0
    }
  }
}

TEST_CASE("bf16_to_f32 is the top half of a float") {
  CHECK(tgv::bf16_to_f32(0x3f80) == 1.0f);
  CHECK(tgv::bf16_to_f32(0xc000) == -2.0f);
  CHECK(tgv::bf16_to_f32(0x0001) == std::ldexp(1.0f, -133));  // smallest subnormal bf16
  CHECK(std::isinf(tgv::bf16_to_f32(0x7f80)));
  CHECK(std::isnan(tgv::bf16_to_f32(0x7fc0)));
}

TEST_CASE("f32_to_f16 / f32_to_bf16 round to nearest even (hand-checked cases)") {
  using tgv::f32_to_f16;
  CHECK(f32_to_f16(1.0f) == 0x3c00);
  CHECK(f32_to_f16(-2.0f) == 0xc000);
  CHECK(f32_to_f16(65504.0f) == 0x7bff);                     // max half
  CHECK(f32_to_f16(65519.0f) == 0x7bff);                     // below the 65520 tie
  CHECK(f32_to_f16(65520.0f) == 0x7c00);                     // tie to even -> inf
  CHECK(f32_to_f16(std::ldexp(1.0f, -24)) == 0x0001);        // smallest subnormal
  CHECK(f32_to_f16(std::ldexp(1.0f, -25)) == 0x0000);        // tie between 0 and 1 ulp -> 0 (even)
  CHECK(f32_to_f16(std::ldexp(3.0f, -25)) == 0x0002);        // 1.5 ulp -> 2 (even)
  CHECK(f32_to_f16(std::ldexp(1.0f, -14)) == 0x0400);        // smallest normal
  CHECK(f32_to_f16(1.0f + std::ldexp(1.0f, -11)) == 0x3c00);  // 1 + half ulp -> 1 (even)
  CHECK(f32_to_f16(1.0f + std::ldexp(3.0f, -11)) == 0x3c02);  // 1 + 1.5 ulp -> 1 + 2 ulp (even)
  CHECK(f32_to_f16(-0.0f) == 0x8000);
  CHECK(f32_to_f16(INFINITY) == 0x7c00);
  CHECK(f32_to_f16(-INFINITY) == 0xfc00);
  CHECK(std::isnan(tgv::f16_to_f32(f32_to_f16(NAN))));
  using tgv::f32_to_bf16;
  CHECK(f32_to_bf16(1.0f) == 0x3f80);
  CHECK(f32_to_bf16(from_bits(0x3f808000)) == 0x3f80);  // tie, even stays
  CHECK(f32_to_bf16(from_bits(0x3f818000)) == 0x3f82);  // tie, odd rounds up
  CHECK(f32_to_bf16(from_bits(0x7f7fffff)) == 0x7f80);  // max float rounds to inf
  CHECK(std::isnan(tgv::bf16_to_f32(f32_to_bf16(NAN))));
  CHECK(std::isnan(tgv::bf16_to_f32(f32_to_bf16(from_bits(0x7f800001)))));  // a nan whose top half looks like inf
}

TEST_CASE("f32_to_f16 / f32_to_bf16 match numpy / torch on ties, subnormals, overflow and random values") {
  const tgv::NpyArray a = tgv::read_npy(std::string(TGV_TEST_DATA) + "/kernels/convert.npy");
  REQUIRE(a.dtype == "<u4");
  REQUIRE(a.shape.size() == 2);
  REQUIRE(a.shape[1] == 3);
  const size_t n = static_cast<size_t>(a.shape[0]);
  int bad16 = 0, badbf = 0;
  for (size_t i = 0; i < n; i++) {
    uint32_t row[3];  // '<u4': little-endian, whatever the host
    for (int j = 0; j < 3; j++) row[j] = tgv::load_le32(a.bytes.data() + i * 12 + 4 * j);
    const float x = from_bits(row[0]);
    if (tgv::f32_to_f16(x) != row[1] && bad16++ < 5)
      FAIL_CHECK("f16 of " << x << " (0x" << std::hex << row[0] << "): got 0x" << tgv::f32_to_f16(x) << ", numpy 0x" << row[1]);
    if (tgv::f32_to_bf16(x) != row[2] && badbf++ < 5)
      FAIL_CHECK("bf16 of " << x << " (0x" << std::hex << row[0] << "): got 0x" << tgv::f32_to_bf16(x) << ", torch 0x" << row[2]);
  }
  CHECK(bad16 == 0);
  CHECK(badbf == 0);
  MESSAGE(n << " values checked");
}

TEST_CASE("Q8_0: block layout, hand-checked quantization, round-trip bound, byte counts") {
  CHECK(sizeof(tgv::BlockQ8_0) == 34);
  CHECK(tgv::dtype_bytes(tgv::DType::Q8_0, 64) == 68);
  CHECK(tgv::dtype_bytes(tgv::DType::F16, 3) == 6);
  CHECK_THROWS_AS(tgv::dtype_bytes(tgv::DType::Q8_0, 33), tgv::Error);
  CHECK_THROWS_AS(tgv::dtype_bytes(tgv::DType::F32, SIZE_MAX / 2), tgv::Error);
  tgv::DType dt;
  REQUIRE(tgv::dtype_from_name("Q8_0", &dt));
  CHECK(dt == tgv::DType::Q8_0);
  CHECK(std::string(tgv::dtype_name(dt)) == "Q8_0");

  // x[i] = i - 16 for i < 32 plus x[5] = 127/4 (the max): d = 0.25 exactly (a half),
  // q[i] = round(4 (i - 16)), q[5] = 127.  A second block of zeros: d = 0, q = 0.
  float x[64] = {};
  for (int i = 0; i < 32; i++) x[i] = static_cast<float>(i - 16) * 0.5f;  // -8 .. 7.5
  x[5] = 31.75f;
  tgv::BlockQ8_0 b[2];
  tgv::quantize_row_q8_0(b, x, 64);
  CHECK(b[0].d == tgv::f32_to_f16(0.25f));
  for (int i = 0; i < 32; i++) CHECK(b[0].qs[i] == (i == 5 ? 127 : 2 * (i - 16)));
  CHECK(b[1].d == 0);
  for (int i = 0; i < 32; i++) CHECK(b[1].qs[i] == 0);
  float back[64];
  tgv::dequantize_row_q8_0(back, b, 64);
  for (int i = 0; i < 64; i++) CHECK(back[i] == x[i]);  // every value was on the grid

  // Ties round away from zero: amax 127 -> d = 1; 2.5 -> 3, -2.5 -> -3, 0.5 -> 1.
  float t[32] = {127.0f, 2.5f, -2.5f, 0.5f, -0.5f, 1.49f};
  tgv::quantize_row_q8_0(b, t, 32);
  CHECK(b[0].qs[1] == 3);
  CHECK(b[0].qs[2] == -3);
  CHECK(b[0].qs[3] == 1);
  CHECK(b[0].qs[4] == -1);
  CHECK(b[0].qs[5] == 1);

  // Random rows: |x - dequant(x)| <= d/2 (rounding) + 127 |d - half(d)| (the stored
  // scale's rounding, <= 2^-11 d) <= 0.5625 d, with d = max|x| / 127 per block.
  std::mt19937 rng(7);
  std::normal_distribution<float> nd(0.0f, 2.0f);
  std::vector<float> v(32 * 50), r(v.size());
  for (auto& e : v) e = nd(rng);
  std::vector<tgv::BlockQ8_0> q(50);
  tgv::quantize_row_q8_0(q.data(), v.data(), v.size());
  tgv::dequantize_row_q8_0(r.data(), q.data(), r.size());
  int bad = 0;
  for (size_t blk = 0; blk < 50; blk++) {
    float amax = 0;
    for (int i = 0; i < 32; i++) amax = std::max(amax, std::fabs(v[blk * 32 + i]));
    const float d = amax / 127.0f;
    for (int i = 0; i < 32; i++) bad += !(std::fabs(v[blk * 32 + i] - r[blk * 32 + i]) <= 0.5625f * d);
  }
  CHECK(bad == 0);
}
