// KernelSet::gelu_erf with AVX-512: the exact GELU in double precision, eight values per
// register, no libm call (the method and its error: gelu_erf.h). Compiled with the
// AVX-512 flags (kernels_avx512.cpp); the helpers stay in the anonymous namespace.

#include "kernels/immintrin_avx512.h"  // <immintrin.h> without GCC 12's false warnings

#include <cstddef>

#include "kernels/gelu_erf.h"
#include "kernels/kernel_sets.h"

namespace tgv {

namespace {

inline __m512d set1(double v) { return _mm512_set1_pd(v); }

// exp(-y) for 0 <= y <= kZero^2: y = n ln2 + r, exp(-y) = 2^-n exp(-r), |r| <= ln2 / 2.
inline __m512d exp_neg(__m512d y) {
  const __m512d n = _mm512_roundscale_pd(_mm512_mul_pd(y, set1(gelu::kLog2e)), _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
  __m512d r = _mm512_fnmadd_pd(n, set1(gelu::kLn2Hi), y);
  r = _mm512_fnmadd_pd(n, set1(gelu::kLn2Lo), r);
  const __m512d m = _mm512_sub_pd(_mm512_setzero_pd(), r);  // exp(m), m = -r
  double f = 1;                                              // 1 / 12!, then up to 1 / 0!
  for (int k = 2; k <= 12; k++) f /= k;
  __m512d p = set1(f);
  for (int k = 12; k >= 1; k--) {
    f *= k;  // 1 / (k-1)!
    p = _mm512_fmadd_pd(p, m, set1(f));
  }
  const __m512i e = _mm512_slli_epi64(_mm512_sub_epi64(_mm512_set1_epi64(1023), _mm512_cvtpd_epi64(n)), 52);  // 2^-n
  return _mm512_mul_pd(p, _mm512_castsi512_pd(e));
}

inline __m512d gelu8(__m512d v) {
  const __m512d zero = _mm512_setzero_pd(), one = set1(1.0);
  const __m512d a = _mm512_mul_pd(_mm512_abs_pd(v), set1(gelu::kInvSqrt2));
  // a <= 1: erf(a) by its Taylor series in a^2
  const __m512d a2 = _mm512_mul_pd(a, a);
  __m512d s = set1(gelu::kErfTaylor[17]);
  for (int n = 16; n >= 0; n--) s = _mm512_fmadd_pd(s, a2, set1(gelu::kErfTaylor[n]));
  const __m512d erf_a = _mm512_mul_pd(s, a);
  // a > 1: erfc(a) = exp(-a^2) erfcx(a), a kept inside the fitted [1, kZero]
  const __m512d x = _mm512_min_pd(_mm512_max_pd(a, one), set1(gelu::kZero));
  const __m512d t = _mm512_div_pd(_mm512_sub_pd(x, set1(gelu::kCenter)), _mm512_add_pd(x, set1(gelu::kCenter)));
  __m512d c = set1(gelu::kErfcx[0]);
  for (int i = 1; i < 17; i++) c = _mm512_fmadd_pd(c, t, set1(gelu::kErfcx[i]));
  const __mmask8 beyond = _mm512_cmp_pd_mask(a, set1(gelu::kZero), _CMP_GT_OQ);
  const __m512d q = _mm512_maskz_mul_pd(static_cast<__mmask8>(~beyond), c, exp_neg(_mm512_mul_pd(x, x)));

  const __mmask8 neg = _mm512_cmp_pd_mask(v, zero, _CMP_LT_OQ);
  const __mmask8 small = _mm512_cmp_pd_mask(a, set1(gelu::kSplit), _CMP_LE_OQ);
  const __m512d e_small = _mm512_mask_sub_pd(_mm512_add_pd(one, erf_a), neg, one, erf_a);  // 1 +- erf(a)
  const __m512d e_large = _mm512_mask_mov_pd(_mm512_sub_pd(set1(2.0), q), neg, q);         // 2 - q or q
  const __m512d e = _mm512_mask_mov_pd(e_large, small, e_small);
  return _mm512_mul_pd(_mm512_mul_pd(set1(0.5), v), e);
}

}  // namespace

void gelu_erf_avx512(float* x, size_t n) {
  size_t i = 0;
  for (; i + 8 <= n; i += 8) _mm256_storeu_ps(x + i, _mm512_cvtpd_ps(gelu8(_mm512_cvtps_pd(_mm256_loadu_ps(x + i)))));
  if (i < n) {
    const __mmask8 m = static_cast<__mmask8>((1u << (n - i)) - 1);
    _mm256_mask_storeu_ps(x + i, m, _mm512_cvtpd_ps(gelu8(_mm512_cvtps_pd(_mm256_maskz_loadu_ps(m, x + i)))));
  }
}

}  // namespace tgv
