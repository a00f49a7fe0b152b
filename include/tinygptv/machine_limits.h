// The machine's two limits, measured in the same run as what they bound (bench):
//
//   read bandwidth  bytes/s summing a large buffer (>= 1 GiB, far past every cache) with
//                   all threads of the pool: what a memory-bound step (decode, which
//                   reads every weight once per token) can reach at best;
//   FMA peak        floating-point operations/s of a register-blocked loop of
//                   independent fused multiply-adds on all threads, in the active kernel
//                   set's instructions (AVX2 ymm FMA, NEON vfmaq, or scalar multiply-add):
//                   what a compute-bound step (a matrix product with many rows) can reach.
//
// A roofline is then time >= bytes / bandwidth and time >= FLOPs / peak. Both figures
// are the best of a few passes (the machine's capability, as STREAM reports it).
// Implementation: src/kernels/machine_limits.cpp (+ fma_peak_avx2.cpp / fma_peak_neon.cpp).
#pragma once
#include <cstddef>

namespace tgv {

// Best of `passes` sums of a `bytes`-long buffer (filled first, so its pages are resident).
double measure_read_bandwidth(size_t bytes = size_t{1} << 30, int passes = 3);

// Best of `passes` runs of about `seconds` each; counts a fused multiply-add as 2 FLOPs.
double measure_fma_peak(double seconds = 0.25, int passes = 3);

}  // namespace tgv
