// KernelSet::gelu_erf with AVX2 + FMA: the exact GELU in double precision, four values
// per register, no libm call; the same arithmetic as gelu_avx512.cpp (method and error:
// gelu_erf.h). Compiled with the AVX2 flags (kernels_avx2.cpp); the helpers stay in the
// anonymous namespace.
#include <immintrin.h>

#include <cstddef>

#include "kernels/gelu_erf.h"
#include "kernels/kernel_sets.h"

namespace tgv {

namespace {

inline __m256d set1(double v) { return _mm256_set1_pd(v); }

// exp(-y) for 0 <= y <= kZero^2: y = n ln2 + r, exp(-y) = 2^-n exp(-r), |r| <= ln2 / 2.
inline __m256d exp_neg(__m256d y) {
  const __m256d n = _mm256_round_pd(_mm256_mul_pd(y, set1(gelu::kLog2e)), _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
  __m256d r = _mm256_fnmadd_pd(n, set1(gelu::kLn2Hi), y);
  r = _mm256_fnmadd_pd(n, set1(gelu::kLn2Lo), r);
  const __m256d m = _mm256_sub_pd(_mm256_setzero_pd(), r);  // exp(m), m = -r
  double f = 1;                                              // 1 / 12!, then up to 1 / 0!
  for (int k = 2; k <= 12; k++) f /= k;
  __m256d p = set1(f);
  for (int k = 12; k >= 1; k--) {
    f *= k;  // 1 / (k-1)!
    p = _mm256_fmadd_pd(p, m, set1(f));
  }
  // n (a whole number, 0 <= n < 2^31) as an int64: adding 1.5 * 2^52 puts it in the low
  // mantissa bits; subtracting the constant's own bits leaves it.
  const __m256d magic = set1(6755399441055744.0);
  const __m256i ni = _mm256_sub_epi64(_mm256_castpd_si256(_mm256_add_pd(n, magic)), _mm256_castpd_si256(magic));
  const __m256i e = _mm256_slli_epi64(_mm256_sub_epi64(_mm256_set1_epi64x(1023), ni), 52);  // 2^-n
  return _mm256_mul_pd(p, _mm256_castsi256_pd(e));
}

inline __m256d gelu4(__m256d v) {
  const __m256d zero = _mm256_setzero_pd(), one = set1(1.0);
  const __m256d a = _mm256_mul_pd(_mm256_andnot_pd(set1(-0.0), v), set1(gelu::kInvSqrt2));
  // a <= 1: erf(a) by its Taylor series in a^2
  const __m256d a2 = _mm256_mul_pd(a, a);
  __m256d s = set1(gelu::kErfTaylor[17]);
  for (int n = 16; n >= 0; n--) s = _mm256_fmadd_pd(s, a2, set1(gelu::kErfTaylor[n]));
  const __m256d erf_a = _mm256_mul_pd(s, a);
  // a > 1: erfc(a) = exp(-a^2) erfcx(a), a kept inside the fitted [1, kZero]
  const __m256d x = _mm256_min_pd(_mm256_max_pd(a, one), set1(gelu::kZero));
  const __m256d t = _mm256_div_pd(_mm256_sub_pd(x, set1(gelu::kCenter)), _mm256_add_pd(x, set1(gelu::kCenter)));
  __m256d c = set1(gelu::kErfcx[0]);
  for (int i = 1; i < 17; i++) c = _mm256_fmadd_pd(c, t, set1(gelu::kErfcx[i]));
  const __m256d beyond = _mm256_cmp_pd(a, set1(gelu::kZero), _CMP_GT_OQ);
  const __m256d q = _mm256_andnot_pd(beyond, _mm256_mul_pd(c, exp_neg(_mm256_mul_pd(x, x))));

  const __m256d neg = _mm256_cmp_pd(v, zero, _CMP_LT_OQ);
  const __m256d small = _mm256_cmp_pd(a, set1(gelu::kSplit), _CMP_LE_OQ);
  const __m256d e_small = _mm256_blendv_pd(_mm256_add_pd(one, erf_a), _mm256_sub_pd(one, erf_a), neg);  // 1 +- erf(a)
  const __m256d e_large = _mm256_blendv_pd(_mm256_sub_pd(set1(2.0), q), q, neg);                       // 2 - q or q
  const __m256d e = _mm256_blendv_pd(e_large, e_small, small);
  return _mm256_mul_pd(_mm256_mul_pd(set1(0.5), v), e);
}

}  // namespace

void gelu_erf_avx2(float* x, size_t n) {
  size_t i = 0;
  for (; i + 4 <= n; i += 4) _mm_storeu_ps(x + i, _mm256_cvtpd_ps(gelu4(_mm256_cvtps_pd(_mm_loadu_ps(x + i)))));
  if (i < n) {  // the last n % 4 values through a small buffer
    float buf[4] = {0, 0, 0, 0};
    for (size_t j = i; j < n; j++) buf[j - i] = x[j];
    _mm_storeu_ps(buf, _mm256_cvtpd_ps(gelu4(_mm256_cvtps_pd(_mm_loadu_ps(buf)))));
    for (size_t j = i; j < n; j++) x[j] = buf[j - i];
  }
}

}  // namespace tgv
