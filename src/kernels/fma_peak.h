// Internal: the FMA-peak loops of each instruction set (machine_limits.cpp picks the
// one of the active kernel set). fma_loop_X(iterations, sink) runs `iterations` rounds
// of independent multiply-adds held in registers and returns the FLOPs it did; the
// final values are stored to *sink so the compiler cannot drop the loop.
#pragma once
#include <cstdint>

namespace tgv {

#ifdef TGV_HAVE_AVX2
uint64_t fma_loop_avx2(uint64_t iterations, float* sink);  // fma_peak_avx2.cpp: needs AVX2 + FMA
#endif
#ifdef TGV_HAVE_AVX512
uint64_t fma_loop_avx512(uint64_t iterations, float* sink);  // fma_peak_avx512.cpp: needs AVX-512 F
#endif
#ifdef TGV_HAVE_NEON
uint64_t fma_loop_neon(uint64_t iterations, float* sink);  // fma_peak_neon.cpp
#endif

}  // namespace tgv
