// The FMA peak loop for AArch64 NEON (fma_peak.h): 12 independent accumulators of 4
// floats, one vfmaq_f32 each per round (4-cycle latency x 2-4 FMA pipes; 12 of the 32
// vector registers). 96 FLOPs per round.
#include <arm_neon.h>

#include "kernels/fma_peak.h"

namespace tgv {

uint64_t fma_loop_neon(uint64_t iterations, float* sink) {
  const float32x4_t m = vdupq_n_f32(0.999999f), c = vdupq_n_f32(1e-3f);  // a = c + a * m: converges, stays finite
  float32x4_t a[12];
  for (int j = 0; j < 12; j++) a[j] = vdupq_n_f32(0.1f * static_cast<float>(j));
  for (uint64_t i = 0; i < iterations; i++) {
    a[0] = vfmaq_f32(c, a[0], m), a[1] = vfmaq_f32(c, a[1], m), a[2] = vfmaq_f32(c, a[2], m);
    a[3] = vfmaq_f32(c, a[3], m), a[4] = vfmaq_f32(c, a[4], m), a[5] = vfmaq_f32(c, a[5], m);
    a[6] = vfmaq_f32(c, a[6], m), a[7] = vfmaq_f32(c, a[7], m), a[8] = vfmaq_f32(c, a[8], m);
    a[9] = vfmaq_f32(c, a[9], m), a[10] = vfmaq_f32(c, a[10], m), a[11] = vfmaq_f32(c, a[11], m);
  }
  float32x4_t s = a[0];
  for (int j = 1; j < 12; j++) s = vaddq_f32(s, a[j]);
  *sink = vaddvq_f32(s);
  return iterations * 12 * 4 * 2;
}

}  // namespace tgv
