// Internal: the exact GELU of the SIMD kernel sets, GELU(v) = 0.5 v erfc(-v / sqrt 2),
// in double precision and rounded once to float, like the scalar set's libm loop, but
// without a libm call per value (that call was most of the ViT's non-GEMM time).
//
// With a = |v| / sqrt 2 (a double), E = erfc(-v / sqrt 2) is:
//   a <= 1:    E = 1 + sign(v) erf(a),     erf(a) = a * sum_n kErfTaylor[n] a^(2n)
//   a >  1:    q = erfc(a) = exp(-a^2) erfcx(a),   E = q (v < 0) or 2 - q (v > 0)
//              erfcx (= exp(x^2) erfc(x), smooth and slowly decreasing) a polynomial in
//              t = (a - 4) / (a + 4), fitted on [1, 10.7] by tools/fit/erfc_fit.py
//   a > 10.7:  q = 0 (below that the float result of v < 0 is already -0)
// exp in double: a^2 = n ln2 + r, |r| <= ln2 / 2, exp(-r) by its Taylor polynomial to
// r^12, times 2^n through the exponent bits.
// The relative error of E is about 1e-14, so the float result is the correctly rounded
// one except when the exact value lies within 1e-14 of a rounding boundary: a few values
// in 10^7 then differ from the scalar set's by one ulp (tests/kernels/test_kernels.cpp).
#pragma once

namespace tgv::gelu {

constexpr double kInvSqrt2 = 0.70710678118654752440;
constexpr double kSplit = 1.0;   // Taylor series below, erfcx above
constexpr double kZero = 10.7;   // erfc(a) = 0 above
constexpr double kCenter = 4.0;  // t = (a - kCenter) / (a + kCenter)

// erfcx(a) ~ sum_i kErfcx[i] t^(16-i) on [1, 10.7]: max relative error 5.8e-15
constexpr double kErfcx[17] = {-3.380427728088493e-07, -3.6626082802894744e-07, 2.9890668254162995e-06,
                               -1.9043871092343677e-06, -2.2567801945492352e-05, 7.898077581406576e-05,
                               -2.1760547190238773e-05, -0.0007991262949402782, 0.004060263634391222,
                               -0.012843946074577547, 0.03129905650860395, -0.06310781563824389,
                               0.10896317739951021, -0.16425781669732656, 0.2187196789182557,
                               -0.25906804876017175, 0.13699945762506127};

// erf(a) = a * sum_n kErfTaylor[n] a^(2n), kErfTaylor[n] = 2/sqrt(pi) (-1)^n / (n! (2n+1));
// the first omitted term is < 1e-16 at a = 1.
constexpr double kErfTaylor[18] = {1.1283791670955126, -0.37612638903183754, 0.11283791670955126,
                                   -0.026866170645131252, 0.005223977625442188, -0.0008548327023450853,
                                   0.00012055332981789664, -1.492565035840625e-05, 1.6462114365889248e-06,
                                   -1.6365844691234924e-07, 1.4807192815879218e-08, -1.2290555301717928e-09,
                                   9.422759064650411e-11, -6.7113668551641105e-12, 4.4632242632864775e-13,
                                   -2.7835162072109215e-14, 1.6342614095367152e-15, -9.063970842808673e-17};

// ln 2 in two parts (the first with trailing zero bits, so n * kLn2Hi is exact for |n| < 2^11)
constexpr double kLn2Hi = 0.6931471803691238;
constexpr double kLn2Lo = 1.9082149292705877e-10;
constexpr double kLog2e = 1.4426950408889634;

}  // namespace tgv::gelu
