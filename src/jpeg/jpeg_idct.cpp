// libjpeg's accurate integer inverse DCT ("islow", jidctint.c, the default that PIL
// uses): 8x8 dequantized coefficients -> 8x8 samples, bit-exact with libjpeg-turbo.
//
// A scaled Loeffler-Ligtenberg-Moschytz IDCT in 32-bit fixed point:
//   constants FIX(x) = round(x * 2^13)            (CONST_BITS = 13)
//   dequantize: in = coef * quant (natural order)
//   pass 1 (columns) keeps PASS1_BITS = 2 extra fraction bits:
//       out = (t + 2^10) >> 11                    (DESCALE by CONST_BITS - PASS1_BITS)
//   pass 2 (rows) removes them and the 8x scale of the transform:
//       out = (t + 2^17) >> 18                    (DESCALE by CONST_BITS + PASS1_BITS + 3)
//   sample = clamp(out + 128, 0, 255)
// libjpeg's C code skips the work for columns/rows whose AC terms are zero; those
// shortcuts give exactly the same numbers, so here every column and row takes the same
// path (which lets the compiler vectorize across the 8 of them).
//
// Out-of-range data (only corrupt files get there). PIL on x86 runs libjpeg-turbo's
// SSE2/AVX2 kernel, not jidctint.c, and the two part where the kernel uses 16-bit lanes;
// we follow the kernel (checked against PIL on damaged files):
//   - dequantization keeps the low 16 bits of coef * quant (pmullw);
//   - in0+in4, in0-in4, in3+in7 and in1+in5 wrap at 16 bits (paddw);
//   - when every coefficient outside row 0 is zero, pass 1 is the shortcut
//     (16-bit) dequantized << PASS1_BITS for each column;
//   - each pass saturates its outputs to 16 bits (packssdw), the last to a signed
//     byte before +128 (packsswb), instead of libjpeg's wrapping range-limit table.
// Everything else is exact 32-bit two's-complement arithmetic (uint32_t here, so that
// overflow is defined); for valid data none of the above ever triggers and the
// result is jidctint.c's.
#include "jpeg/jpeg_internal.h"

namespace tgv::jpeg {

namespace {

using u32 = uint32_t;  // 32-bit two's-complement arithmetic without overflow UB

constexpr int kConstBits = 13;
constexpr int kPass1Bits = 2;

constexpr u32 FIX_0_298631336 = 2446;
constexpr u32 FIX_0_390180644 = 3196;
constexpr u32 FIX_0_541196100 = 4433;
constexpr u32 FIX_0_765366865 = 6270;
constexpr u32 FIX_0_899976223 = 7373;
constexpr u32 FIX_1_175875602 = 9633;
constexpr u32 FIX_1_501321110 = 12299;
constexpr u32 FIX_1_847759065 = 15137;
constexpr u32 FIX_1_961570560 = 16069;
constexpr u32 FIX_2_053119869 = 16819;
constexpr u32 FIX_2_562915447 = 20995;
constexpr u32 FIX_3_072711026 = 25172;

inline int32_t descale(u32 x, int n) {
  return static_cast<int32_t>(x + (u32{1} << (n - 1))) >> n;  // arithmetic shift (C++20)
}

inline u32 wrap16(u32 x) { return static_cast<u32>(static_cast<int32_t>(static_cast<int16_t>(x))); }

inline int32_t saturate16(int32_t x) { return x < -32768 ? -32768 : (x > 32767 ? 32767 : x); }

// The 1-D butterfly on 8 independent lanes (8 columns in pass 1, 8 rows in pass 2):
// in[k][lane] is input k (frequency) of that lane, out[k][lane] output k (position),
// not yet descaled.
void idct_1d_x8(u32 out[8][8], const u32 in[8][8]) {
  for (int l = 0; l < 8; l++) {
    // Even part: rotation by sqrt(2)*c(-6).
    u32 z2 = in[2][l], z3 = in[6][l];
    u32 z1 = (z2 + z3) * FIX_0_541196100;
    u32 tmp2 = z1 - z3 * FIX_1_847759065;
    u32 tmp3 = z1 + z2 * FIX_0_765366865;
    u32 tmp0 = wrap16(in[0][l] + in[4][l]) << kConstBits;
    u32 tmp1 = wrap16(in[0][l] - in[4][l]) << kConstBits;
    u32 tmp10 = tmp0 + tmp3, tmp13 = tmp0 - tmp3;
    u32 tmp11 = tmp1 + tmp2, tmp12 = tmp1 - tmp2;

    // Odd part (Figure 8 of the LL&M paper; inputs 7, 5, 3, 1).
    tmp0 = in[7][l];
    tmp1 = in[5][l];
    tmp2 = in[3][l];
    tmp3 = in[1][l];
    z1 = tmp0 + tmp3;
    z2 = tmp1 + tmp2;
    z3 = wrap16(tmp0 + tmp2);
    u32 z4 = wrap16(tmp1 + tmp3);
    u32 z5 = (z3 + z4) * FIX_1_175875602;  // sqrt(2) * c3
    tmp0 *= FIX_0_298631336;   // sqrt(2) * (-c1+c3+c5-c7)
    tmp1 *= FIX_2_053119869;   // sqrt(2) * ( c1+c3-c5+c7)
    tmp2 *= FIX_3_072711026;   // sqrt(2) * ( c1+c3+c5-c7)
    tmp3 *= FIX_1_501321110;   // sqrt(2) * ( c1+c3-c5-c7)
    z1 = 0 - z1 * FIX_0_899976223;  // sqrt(2) * ( c7-c3)
    z2 = 0 - z2 * FIX_2_562915447;  // sqrt(2) * (-c1-c3)
    z3 = 0 - z3 * FIX_1_961570560;  // sqrt(2) * (-c3-c5)
    z4 = 0 - z4 * FIX_0_390180644;  // sqrt(2) * ( c5-c3)
    z3 += z5;
    z4 += z5;
    tmp0 += z1 + z3;
    tmp1 += z2 + z4;
    tmp2 += z2 + z3;
    tmp3 += z1 + z4;

    out[0][l] = tmp10 + tmp3;
    out[7][l] = tmp10 - tmp3;
    out[1][l] = tmp11 + tmp2;
    out[6][l] = tmp11 - tmp2;
    out[2][l] = tmp12 + tmp1;
    out[5][l] = tmp12 - tmp1;
    out[3][l] = tmp13 + tmp0;
    out[4][l] = tmp13 - tmp0;
  }
}

inline uint8_t clamp_sample(int32_t x) {  // x is centred on 0
  x += 128;
  return static_cast<uint8_t>(x < 0 ? 0 : (x > 255 ? 255 : x));
}

}  // namespace

void idct_islow(uint8_t* out, size_t stride, const int16_t* coef, const uint16_t* quant) {
  alignas(32) u32 a[8][8], b[8][8];
  int16_t dq[64];  // dequantized, low 16 bits
  for (int k = 0; k < 64; k++) dq[k] = static_cast<int16_t>(coef[k] * static_cast<int32_t>(quant[k]));
  int16_t any = 0;  // non-zero iff some coefficient outside row 0 is
  for (int k = 8; k < 64; k++) any |= coef[k];
  if (any == 0) {
    // Pass 1 shortcut: each column is flat, (dq << PASS1_BITS) in 16 bits.
    for (int u = 0; u < 8; u++) {
      const u32 w = static_cast<u32>(static_cast<int16_t>(static_cast<uint16_t>(dq[u]) << kPass1Bits));
      for (int y = 0; y < 8; y++) a[u][y] = w;
    }
  } else {
    // Pass 1: lanes are columns. a[v][x] = dequantized coefficient (row v, column x).
    for (int v = 0; v < 8; v++)
      for (int x = 0; x < 8; x++) a[v][x] = static_cast<u32>(static_cast<int32_t>(dq[v * 8 + x]));
    idct_1d_x8(b, a);  // b[y][x]: row y of the column transforms
    // Pass 2 lanes are rows, so transpose: a[u][y] = b[y][u], descaled to 16 bits.
    for (int y = 0; y < 8; y++)
      for (int u = 0; u < 8; u++)
        a[u][y] = static_cast<u32>(saturate16(descale(b[y][u], kConstBits - kPass1Bits)));
  }
  idct_1d_x8(b, a);  // b[x][y]: sample (y, x) before the final descale
  for (int y = 0; y < 8; y++)
    for (int x = 0; x < 8; x++) out[y * stride + x] = clamp_sample(descale(b[x][y], kConstBits + kPass1Bits + 3));
}

void idct_dc_only(uint8_t* out, size_t stride, int16_t dc, uint16_t quant) {
  // Pass 1 shortcut for column 0 (the others are zero), then pass 2 on rows whose only
  // input is w: (w << 13 + 2^17) >> 18, +128, clamped.
  const int16_t dq = static_cast<int16_t>(dc * static_cast<int32_t>(quant));
  const int16_t w = static_cast<int16_t>(static_cast<uint16_t>(dq) << kPass1Bits);
  const uint8_t v = clamp_sample(descale(static_cast<u32>(static_cast<int32_t>(w)) << kConstBits,
                                         kConstBits + kPass1Bits + 3));
  for (int y = 0; y < 8; y++)
    for (int x = 0; x < 8; x++) out[y * stride + x] = v;
}

}  // namespace tgv::jpeg
