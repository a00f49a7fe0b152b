// Read bandwidth and FMA peak: see include/tinygptv/machine_limits.h.
//
// The bandwidth sum is portable C++: eight independent 64-bit integer accumulators
// per chunk are far more adds per second than memory can feed, so the loop waits on
// memory only (the compiler vectorises it); it prefetches ahead as the decode loops do.
// The FMA loop is per instruction set (fma_peak_avx2.cpp, fma_peak_avx512.cpp,
// fma_peak_neon.cpp; the scalar one is below), chosen to match the active kernel set,
// so `--reference` measures the scalar peak.
#include "tinygptv/machine_limits.h"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <cstring>
#include <vector>

#include "kernels/fma_peak.h"
#include "kernels/kernel_sets.h"
#include "tinygptv/kernels.h"
#include "tinygptv/thread_pool.h"

namespace tgv {

namespace {

double now() { return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count(); }

// The scalar set's loop: 8 independent chains of a = a * m + c (a multiply and an add,
// 2 FLOPs, as the scalar kernels do them).
uint64_t fma_loop_scalar(uint64_t iterations, float* sink) {
  const float m = 0.999999f, c = 1e-3f;
  float a0 = 0, a1 = 0.1f, a2 = 0.2f, a3 = 0.3f, a4 = 0.4f, a5 = 0.5f, a6 = 0.6f, a7 = 0.7f;
  for (uint64_t i = 0; i < iterations; i++) {
    a0 = a0 * m + c, a1 = a1 * m + c, a2 = a2 * m + c, a3 = a3 * m + c;
    a4 = a4 * m + c, a5 = a5 * m + c, a6 = a6 * m + c, a7 = a7 * m + c;
  }
  *sink = a0 + a1 + a2 + a3 + a4 + a5 + a6 + a7;
  return iterations * 8 * 2;
}

using FmaLoop = uint64_t (*)(uint64_t, float*);

FmaLoop active_fma_loop() {
#ifdef TGV_HAVE_AVX2
  if (&kernels() == avx2_kernels()) return fma_loop_avx2;
#endif
#ifdef TGV_HAVE_AVX512
  if (&kernels() == avx512_kernels()) return fma_loop_avx512;
#endif
#ifdef TGV_HAVE_NEON
  if (&kernels() == neon_kernels()) return fma_loop_neon;
#endif
  return fma_loop_scalar;
}

// The decode kernels prefetch each line kPrefetchBytes ahead and read faster than a plain
// sum does; so the sum does the same, one line per step of 8 words, or its "bound" would
// be one the kernels beat.
constexpr size_t kPrefetchWords = kPrefetchBytes / sizeof(uint64_t);
inline void prefetch(const void* p) {
#if defined(__GNUC__) || defined(__clang__)
  __builtin_prefetch(p);
#else
  (void)p;
#endif
}

}  // namespace

double measure_read_bandwidth(size_t bytes, int passes) {
  const size_t n = std::max<size_t>(bytes / sizeof(uint64_t) / 8 * 8, 8);  // whole groups of 8 words
  std::vector<uint64_t> buf(n);
  parallel_for(n, [&](size_t a, size_t b) {  // touch every page with the threads that will read it
    for (size_t i = a; i < b; i++) buf[i] = i;
  }, size_t{1} << 16);
  std::atomic<uint64_t> total{0};
  double best = 0;
  for (int p = 0; p < passes; p++) {
    const double t0 = now();
    parallel_for(n / 8, [&](size_t a, size_t b) {
      uint64_t s[8] = {};
      for (size_t i = 8 * a; i < 8 * b; i += 8) {
        if (i + kPrefetchWords < n) prefetch(&buf[i + kPrefetchWords]);
        for (int j = 0; j < 8; j++) s[j] += buf[i + j];
      }
      total += s[0] + s[1] + s[2] + s[3] + s[4] + s[5] + s[6] + s[7];
    }, size_t{1} << 15);  // chunks of >= 2 MiB
    best = std::max(best, static_cast<double>(n * sizeof(uint64_t)) / (now() - t0));
  }
  return best;
}

double measure_fma_peak(double seconds, int passes) {
  const FmaLoop loop = active_fma_loop();
  float sink = 0;
  // Calibrate: rounds per second on one thread, then chunks of ~seconds / 8 per thread.
  uint64_t rounds = 1 << 16;
  double t0 = now();
  loop(rounds, &sink);
  while (now() - t0 < 0.02) {
    rounds *= 2;
    t0 = now();
    loop(rounds, &sink);
  }
  const double per_second = static_cast<double>(rounds) / (now() - t0);
  const size_t chunks = 8 * static_cast<size_t>(num_threads());
  const uint64_t per_chunk = std::max<uint64_t>(1, static_cast<uint64_t>(per_second * seconds * num_threads() / chunks));
  double best = 0;
  std::vector<float> sinks(chunks);
  for (int p = 0; p < passes; p++) {
    std::atomic<uint64_t> flops{0};
    t0 = now();
    parallel_for(chunks, [&](size_t a, size_t b) {
      for (size_t i = a; i < b; i++) flops += loop(per_chunk, &sinks[i]);
    });
    best = std::max(best, static_cast<double>(flops.load()) / (now() - t0));
  }
  return best;
}

}  // namespace tgv
