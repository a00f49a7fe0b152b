// The FMA peak loop for AVX-512 (fma_peak.h): 12 independent accumulators of 16
// floats, one vfmadd231ps zmm each per round. 12 chains cover the FMA latency (4
// cycles) times the two FMA ports of current x86 cores, as in fma_peak_avx2.cpp, at
// twice the width: 384 FLOPs per round. On a CPU that splits 512-bit operations into
// two 256-bit halves this measures the same peak as the AVX2 loop; a lower clock under
// AVX-512 is included, as the kernels pay it too.
// Called only after dispatch has checked the CPU (kernels() is the avx512 set).
#include <immintrin.h>

#include "kernels/fma_peak.h"

namespace tgv {

uint64_t fma_loop_avx512(uint64_t iterations, float* sink) {
  // a = a * m + c with m just below 1: the values converge and stay finite forever.
  const __m512 m = _mm512_set1_ps(0.999999f), c = _mm512_set1_ps(1e-3f);
  __m512 a0 = _mm512_set1_ps(0.0f), a1 = _mm512_set1_ps(0.1f), a2 = _mm512_set1_ps(0.2f), a3 = _mm512_set1_ps(0.3f);
  __m512 a4 = _mm512_set1_ps(0.4f), a5 = _mm512_set1_ps(0.5f), a6 = _mm512_set1_ps(0.6f), a7 = _mm512_set1_ps(0.7f);
  __m512 a8 = _mm512_set1_ps(0.8f), a9 = _mm512_set1_ps(0.9f), a10 = _mm512_set1_ps(1.0f), a11 = _mm512_set1_ps(1.1f);
  for (uint64_t i = 0; i < iterations; i++) {
    a0 = _mm512_fmadd_ps(a0, m, c), a1 = _mm512_fmadd_ps(a1, m, c), a2 = _mm512_fmadd_ps(a2, m, c);
    a3 = _mm512_fmadd_ps(a3, m, c), a4 = _mm512_fmadd_ps(a4, m, c), a5 = _mm512_fmadd_ps(a5, m, c);
    a6 = _mm512_fmadd_ps(a6, m, c), a7 = _mm512_fmadd_ps(a7, m, c), a8 = _mm512_fmadd_ps(a8, m, c);
    a9 = _mm512_fmadd_ps(a9, m, c), a10 = _mm512_fmadd_ps(a10, m, c), a11 = _mm512_fmadd_ps(a11, m, c);
  }
  const __m512 s = _mm512_add_ps(_mm512_add_ps(_mm512_add_ps(a0, a1), _mm512_add_ps(a2, a3)),
                                 _mm512_add_ps(_mm512_add_ps(_mm512_add_ps(a4, a5), _mm512_add_ps(a6, a7)),
                                               _mm512_add_ps(_mm512_add_ps(a8, a9), _mm512_add_ps(a10, a11))));
  alignas(64) float out[16];
  _mm512_store_ps(out, s);
  *sink = out[0] + out[15];
  return iterations * 12 * 16 * 2;
}

}  // namespace tgv
