#!/usr/bin/env python3
"""Fits the polynomial of the vectorised exact GELU (src/kernels/gelu_erf.h).

GELU(v) = 0.5 v erfc(-v / sqrt 2). The SIMD kernels compute erfc in double precision:
  |z| <= 1:  erf(z) by its Taylor series (coefficients below, exact formula);
  |z| >  1:  erfc(|z|) = exp(-z^2) * erfcx(|z|), erfcx a polynomial in t = (x - 4) / (x + 4)
             fitted here (least squares on Chebyshev nodes of [1, 10.7]) against mpmath
             at 40 digits. Beyond 10.7 the float GELU is 0 (or v itself for v > 0).
Run with Debian's python (numpy, mpmath):  /usr/bin/python3 tools/fit/erfc_fit.py
It prints the C++ arrays and the largest relative error of the fit on 3001 points
(about 6e-15: far below the float32 ulp, 6e-8, that the result is rounded to).
"""
import math

import mpmath as mp
import numpy as np

mp.mp.dps = 40
A, B, C, DEG = 1.0, 10.7, 4.0, 16


def erfcx(x):
    return float(mp.erfc(mp.mpf(x)) * mp.exp(mp.mpf(x) ** 2))


def main():
    xs = np.array([(A + B) / 2 + (B - A) / 2 * math.cos(math.pi * (k + 0.5) / 600) for k in range(600)])
    ys = np.array([erfcx(x) for x in xs])
    coef = np.polyfit((xs - C) / (xs + C), ys, DEG)  # highest power first
    xt = np.linspace(A, B, 3001)
    yt = np.array([erfcx(x) for x in xt])
    err = np.max(np.abs(np.polyval(coef, (xt - C) / (xt + C)) / yt - 1))
    # erf(z) = 2/sqrt(pi) * sum_n (-1)^n z^(2n+1) / (n! (2n+1)); the term n = 17 is < 1e-16 at |z| = 1
    taylor = [float(mp.mpf(2) / mp.sqrt(mp.pi) * (-1) ** n / (mp.factorial(n) * (2 * n + 1))) for n in range(18)]
    print(f"// erfcx(x) ~ sum_i kErfcx[i] t^(16-i), t = (x - 4) / (x + 4), x in [1, 10.7]: max rel error {err:.1e}")
    print("constexpr double kErfcx[17] = {" + ", ".join(repr(float(c)) for c in coef) + "};")
    print("// erf(z) = z * sum_n kErfTaylor[n] z^(2n), |z| <= 1")
    print("constexpr double kErfTaylor[18] = {" + ", ".join(repr(c) for c in taylor) + "};")


if __name__ == "__main__":
    main()
