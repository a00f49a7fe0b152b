// The tolerances of tests/quant (in the style of tests/tolerances.h: each row says what
// was measured and how). Everything else in tests/quant is exact (bytes, bits) or a
// bound derived from the format (the format files' comments).
#pragma once
#include "tinygptv/tensor.h"

namespace tgv::test {

// (d) |vec_dot - float64 dot of the dequantized rows| <= kDotRel * sum_i |w_i x_i|
// (+ for Q4_1 / Q5_1 the Q8_1 s-rounding term, a property of the format, see the test).
// The integer part of every dot is exact; the rest is float32 rounding of one product
// and one sum per block. Measured with build/test_quant -s, n = 32 .. 20480: worst
// 1.4e-7 (Q5_1), 1.3e-7 (Q4_K), 9e-8 (Q4_1), <= 7e-8 for the others.
inline constexpr double kDotRel = 1e-6;

// Relative RMS error ||x - w|| / ||x|| of quantize -> dequantize on 16384 N(0, 1) values
// (std::mt19937 seed 7), the quality of each format; about 10% above what was measured
// (build/test_quant -s), as std::normal_distribution differs between standard libraries.
struct QuantRms {
  DType type;
  double rel;  // allowed
  double measured;
};
inline constexpr QuantRms kQuantRms[] = {
    {DType::Q8_0, 0.0059, 0.00533}, {DType::Q4_0, 0.094, 0.0856}, {DType::Q4_1, 0.086, 0.0780},
    {DType::Q5_0, 0.047, 0.0423},   {DType::Q5_1, 0.042, 0.0377}, {DType::Q4_K, 0.079, 0.0711},
    {DType::Q6_K, 0.020, 0.0177},   {DType::Q8_1, 0.0059, 0.00533}, {DType::Q8_K, 0.0076, 0.00689},
};

}  // namespace tgv::test
