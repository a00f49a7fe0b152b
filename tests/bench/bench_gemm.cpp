// Speed of tgv::matmul for many input rows (the packed GEMM, gemm_avx2.cpp) on every
// matrix shape of TinyGPT-V, side by side with OpenBLAS's sgemm in the same run when
// CMake found OpenBLAS (it is linked into this benchmark only, never into tinygptv).
// Figures are printed, never asserted.
//
//   cmake --build B --target bench_gemm && B/bench_gemm [--threads N] [--quick | --reps R] [--cpu-time] [--filter TEXT]
//   B/bench_gemm --threads 2 --decode      T = 1 against the measured read bandwidth
//   B/bench_gemm --rows 8 --filter phi2    every shape with T = 8 instead (small-T crossover)
//
// On a busy machine, `--threads 1 --cpu-time` times the thread's own CPU time (both
// libraries then run on the calling thread), which other processes disturb far less
// than the wall clock: the way to compare kernels while others use the cores.
//
// GFLOP/s counts 2*T*N*K per product; each figure is the fastest of a few calls (the
// least disturbed by other processes). "ratio" is ours / OpenBLAS on the same shape
// and thread count: our weights in F32, F16 and BF16, OpenBLAS's in F32 (the same
// values; it has no half-precision product). OpenBLAS computes y = x @ W^T with
// cblas_sgemm(RowMajor, NoTrans, Trans), exactly our layout.
#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <random>
#include <string>
#include <vector>

#include <unistd.h>

#include "tinygptv/kernels.h"
#include "tinygptv/tensor.h"
#include "tinygptv/thread_pool.h"

#ifdef TGV_BENCH_OPENBLAS
#include <cblas.h>
#endif

namespace {

struct Shape { int T, N, K; const char* what; };
const Shape kShapes[] = {
    {257, 4224, 1408, "vit224 qkv"},   {257, 1408, 1408, "vit224 proj"},  {257, 6144, 1408, "vit224 fc1"},
    {257, 1408, 6144, "vit224 fc2"},   {1025, 4224, 1408, "vit448 qkv"},  {1025, 1408, 1408, "vit448 proj"},
    {1025, 6144, 1408, "vit448 fc1"},  {1025, 1408, 6144, "vit448 fc2"},  {32, 768, 768, "qformer attn"},
    {257, 768, 1408, "qformer kv224"}, {1025, 768, 1408, "qformer kv448"}, {32, 3072, 768, "qformer fc1"},
    {32, 768, 3072, "qformer fc2"},    {32, 4096, 768, "projector fc1"}, {32, 2560, 4096, "projector fc2"},
    {64, 7680, 2560, "phi2 p64 qkv"},  {64, 2560, 2560, "phi2 p64 dense"}, {64, 10240, 2560, "phi2 p64 fc1"},
    {64, 2560, 10240, "phi2 p64 fc2"}, {64, 51200, 2560, "phi2 p64 lm_head"}, {256, 7680, 2560, "phi2 p256 qkv"},
    {256, 2560, 2560, "phi2 p256 dense"}, {256, 10240, 2560, "phi2 p256 fc1"}, {256, 2560, 10240, "phi2 p256 fc2"},
};

bool g_cpu_time = false;  // --cpu-time: time the calling thread's CPU time, not the wall clock

double now() {
  if (g_cpu_time) {
    timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return static_cast<double>(ts.tv_sec) + 1e-9 * static_cast<double>(ts.tv_nsec);
  }
  return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

// Fastest of `reps` calls (after one warm-up), in seconds.
template <class F>
double best_time(F&& f, int reps) {
  f();
  double best = 1e30;
  for (int r = 0; r < reps; r++) {
    const double t0 = now();
    f();
    best = std::min(best, now() - t0);
  }
  return best;
}

// --decode: T = 1 (memory bound) against the read bandwidth, both with the pool's threads.
// Bandwidth: the sum of a 1 GiB buffer (as 64-bit integers, so the compiler may use any
// vector width) split over the threads. Decode: one Phi-2 layer's four matrices
// (qkv, dense, fc1, fc2: 157 MB in F16, far more than the caches) one after the other,
// as a token does; the figure is weight bytes read per second and its share of the bandwidth.
void decode_roofline(int threads) {
  const size_t words = (size_t{1} << 30) / sizeof(uint64_t);
  std::vector<uint64_t> buf(words);
  for (size_t i = 0; i < words; i++) buf[i] = i;
  std::vector<uint64_t> part(64);
  auto sum_all = [&] {
    tgv::parallel_for(64, [&](size_t b, size_t e) {
      for (size_t p = b; p < e; p++) {
        uint64_t s = 0;
        for (size_t i = words * p / 64; i < words * (p + 1) / 64; i++) s += buf[i];
        part[p] = s;
      }
    });
  };
  const double bw = static_cast<double>(words * sizeof(uint64_t)) / best_time(sum_all, 5) / 1e9;
  uint64_t check = 0;
  for (uint64_t v : part) check += v;
  std::printf("read bandwidth (sum of 1 GiB, %d thread(s)): %.1f GB/s (checksum %llu)\n", threads, bw,
              static_cast<unsigned long long>(check % 1000));
  buf = {};

  const int K = 2560;
  const int Ns[] = {7680, 2560, 10240};  // qkv, dense, fc1 (all K = 2560); fc2 is [2560, 10240]
  for (tgv::DType dt : {tgv::DType::F16, tgv::DType::BF16, tgv::DType::F32}) {
    std::vector<std::vector<uint16_t>> half;
    std::vector<std::vector<float>> full;
    std::vector<tgv::Tensor> Ws;
    size_t bytes = 0;
    auto add = [&](int N, int KK) {
      tgv::Tensor W;
      W.name = "w";
      W.dtype = dt;
      W.shape = {N, KK};
      const size_t n = static_cast<size_t>(N) * KK;
      if (dt == tgv::DType::F32) {
        full.emplace_back(n, 0.01f);
        W.data = full.back().data();
      } else {
        half.emplace_back(n, uint16_t{0x2000});
        W.data = half.back().data();
      }
      bytes += n * tgv::dtype_size(dt);
      Ws.push_back(W);
    };
    half.reserve(4);
    full.reserve(4);
    for (int N : Ns) add(N, K);
    add(2560, 10240);
    std::vector<float> x(10240, 0.5f), y(10240);
    const double t = best_time([&] {
      for (const tgv::Tensor& W : Ws) tgv::matmul(y.data(), x.data(), W, nullptr, 1);
    }, 5);
    std::printf("decode T = 1, %-4s one Phi-2 layer (%.0f MB): %.2f ms, %.1f GB/s = %.0f %% of the read bandwidth\n",
                tgv::dtype_name(dt), bytes / 1e6, t * 1e3, bytes / t / 1e9, 100.0 * bytes / t / 1e9 / bw);
  }
}

}  // namespace

int main(int argc, char** argv) {
  int threads = 1, reps = 5;
  bool decode = false;
  int rows = 0;  // --rows T: this T for every shape
  std::string filter;
  for (int i = 1; i < argc; i++) {
    if (!std::strcmp(argv[i], "--threads") && i + 1 < argc) threads = std::atoi(argv[++i]);
    else if (!std::strcmp(argv[i], "--quick")) reps = 2;
    else if (!std::strcmp(argv[i], "--reps") && i + 1 < argc) reps = std::atoi(argv[++i]);
    else if (!std::strcmp(argv[i], "--cpu-time")) g_cpu_time = true;
    else if (!std::strcmp(argv[i], "--decode")) decode = true;
    else if (!std::strcmp(argv[i], "--filter") && i + 1 < argc) filter = argv[++i];
    else if (!std::strcmp(argv[i], "--rows") && i + 1 < argc) rows = std::atoi(argv[++i]);
    else {
      std::fprintf(stderr, "usage: bench_gemm [--threads N] [--quick | --reps R] [--cpu-time] [--filter TEXT] [--rows T] [--decode]\n");
      return 2;
    }
  }
  if (g_cpu_time && threads != 1) {
    std::fprintf(stderr, "bench_gemm: --cpu-time measures one thread; use it with --threads 1\n");
    return 2;
  }
  tgv::set_num_threads(threads);
#ifdef TGV_BENCH_OPENBLAS
  // OpenBLAS picks its kernels from the CPU model when it loads. A model it does not
  // know (Debian's 0.3.21 on a Xeon VM that names itself "Intel(R) Xeon(R) Processor")
  // gets the SSE3 "Prescott" kernels, 4-6x slower than its AVX-512 ones: an anchor that
  // flatters us. Then run again with the core type named (read only at load time).
  if (!std::strcmp(openblas_get_corename(), "Prescott") && !std::getenv("OPENBLAS_CORETYPE")) {
    const char* core = __builtin_cpu_supports("avx512f") ? "SkylakeX" : __builtin_cpu_supports("avx2") ? "Haswell" : nullptr;
    if (core) {
      std::fprintf(stderr, "bench_gemm: OpenBLAS took this CPU for Prescott; running again with OPENBLAS_CORETYPE=%s\n", core);
      setenv("OPENBLAS_CORETYPE", core, 1);
      execv("/proc/self/exe", argv);
    }
  }
  openblas_set_num_threads(threads);
  const bool blas = true;
#else
  const bool blas = false;
#endif
  if (decode) {
    decode_roofline(threads);
    return 0;
  }
  std::printf("kernels %s, %d thread(s), best of %d calls (%s); GFLOP/s (ratio to OpenBLAS sgemm%s%s)%s\n",
              tgv::kernels().name, threads, reps, g_cpu_time ? "thread CPU time" : "wall clock",
#ifdef TGV_BENCH_OPENBLAS
              ", its kernels: ", openblas_get_corename(),
#else
              "", "",
#endif
              blas ? "" : " -- OpenBLAS not found by CMake, no ratios");
  std::printf("%-18s %5s %6s %6s | %8s | %16s %16s %16s\n", "shape", "T", "N", "K", "openblas", "ours f32", "ours f16", "ours bf16");

  std::mt19937 rng(7);
  std::normal_distribution<float> nd(0.0f, 1.0f);
  for (Shape s : kShapes) {
    if (!filter.empty() && std::string(s.what).find(filter) == std::string::npos) continue;
    if (rows > 0) s.T = rows;
    const size_t nw = static_cast<size_t>(s.N) * s.K;
    std::vector<float> x(static_cast<size_t>(s.T) * s.K), w(nw), y(static_cast<size_t>(s.T) * s.N);
    for (auto& v : x) v = nd(rng);
    for (auto& v : w) v = nd(rng) * 0.05f;
    std::vector<uint16_t> h(nw), b(nw);
    for (size_t i = 0; i < nw; i++) {
      h[i] = tgv::f32_to_f16(w[i]);
      b[i] = tgv::f32_to_bf16(w[i]);
    }
    const double flops = 2.0 * s.T * s.N * static_cast<double>(s.K);

    double blas_gf = 0;
#ifdef TGV_BENCH_OPENBLAS
    blas_gf = flops / 1e9 / best_time([&] {
      cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, s.T, s.N, s.K, 1.0f, x.data(), s.K, w.data(), s.K, 0.0f, y.data(), s.N);
    }, reps);
#endif
    auto ours = [&](tgv::DType dt, void* data) {
      tgv::Tensor W;
      W.name = "w";
      W.dtype = dt;
      W.shape = {s.N, s.K};
      W.data = data;
      return flops / 1e9 / best_time([&] { tgv::matmul(y.data(), x.data(), W, nullptr, s.T); }, reps);
    };
    const double f32 = ours(tgv::DType::F32, w.data()), f16 = ours(tgv::DType::F16, h.data()),
                 bf16 = ours(tgv::DType::BF16, b.data());
    auto cell = [&](double gf) {
      static char buf[4][32];
      static int i = 0;
      char* c = buf[i++ % 4];
      if (blas_gf > 0) std::snprintf(c, 32, "%7.1f (%5.2fx)", gf, gf / blas_gf);
      else std::snprintf(c, 32, "%7.1f", gf);
      return c;
    };
    std::printf("%-18s %5d %6d %6d | %8.1f | %16s %16s %16s\n", s.what, s.T, s.N, s.K, blas_gf, cell(f32), cell(f16), cell(bf16));
    std::fflush(stdout);
  }
  return 0;
}
