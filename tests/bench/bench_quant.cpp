// Speed of tgv::matmul with block-quantized weights on one Phi-2 layer's four matrices
// (qkv 7680 x 2560, dense 2560 x 2560, fc1 10240 x 2560, fc2 2560 x 10240), every fast
// kernel set side by side in one run: the integer-dot kernels of quant_avx2.cpp,
// quant_avx512.cpp, quant_neon.cpp. Figures are printed, never asserted.
//
//   cmake --build B --target bench_quant
//   B/bench_quant [--dtype q4_0] [--threads N] [--reps R] [--cpu-time] [--rows 1,64,256] [--shape NxK]
//
// For each number of input rows T: the time of the four products (matmul() as the model
// calls it, the activation quantization included), the weight bytes read per second and
// the multiply-adds per second, and each set's speed relative to the first. On a busy
// machine `--threads 1 --cpu-time` (the calling thread's CPU time) compares kernels far
// more steadily than the wall clock; each figure is the fastest of R calls.
#include <algorithm>
#include <cctype>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <random>
#include <string>
#include <vector>

#include "tinygptv/kernels.h"
#include "tinygptv/quant.h"
#include "tinygptv/tensor.h"
#include "tinygptv/thread_pool.h"

namespace {

bool g_cpu_time = false;

double now() {
  if (g_cpu_time) {
    timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return static_cast<double>(ts.tv_sec) + 1e-9 * static_cast<double>(ts.tv_nsec);
  }
  return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

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

// N x K weights of format dt: 64 rows of random normal values quantized, repeated.
std::vector<unsigned char> make_weights(tgv::DType dt, int N, int K, std::mt19937& rng) {
  const tgv::QuantFormat& f = *tgv::quant_format(dt);
  const size_t row = static_cast<size_t>(K / f.block_size) * f.block_bytes;
  const int distinct = std::min(N, 64);
  std::normal_distribution<float> nd(0.0f, 0.05f);
  std::vector<float> x(static_cast<size_t>(K));
  std::vector<unsigned char> w(row * static_cast<size_t>(N));
  for (int r = 0; r < distinct; r++) {
    for (float& v : x) v = nd(rng);
    f.quantize_row(w.data() + r * row, x.data(), static_cast<size_t>(K));
  }
  for (int r = distinct; r < N; r++) std::memcpy(w.data() + r * row, w.data() + (r % distinct) * row, row);
  return w;
}

}  // namespace

int main(int argc, char** argv) {
  int threads = 1, reps = 3;
  std::string dtype = "q4_0", rows = "1,64,256", shape;
  for (int i = 1; i < argc; i++) {
    const std::string a = argv[i];
    if (a == "--threads" && i + 1 < argc) threads = std::atoi(argv[++i]);
    else if (a == "--reps" && i + 1 < argc) reps = std::atoi(argv[++i]);
    else if (a == "--dtype" && i + 1 < argc) dtype = argv[++i];
    else if (a == "--rows" && i + 1 < argc) rows = argv[++i];
    else if (a == "--cpu-time") g_cpu_time = true;
    else if (a == "--shape" && i + 1 < argc) shape = argv[++i];
    else {
      std::fprintf(stderr, "usage: bench_quant [--dtype q4_0] [--threads N] [--reps R] [--cpu-time] [--rows 1,64,256] [--shape NxK]\n");
      return 2;
    }
  }
  for (char& c : dtype) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));  // dtype names are "Q4_0"
  tgv::DType dt;
  if (!tgv::dtype_from_name(dtype, &dt) || !tgv::quant_format(dt) || !tgv::quant_format(dt)->vec_dot) {
    std::fprintf(stderr, "bench_quant: --dtype %s is not a quantized weight format\n", dtype.c_str());
    return 2;
  }
  tgv::set_num_threads(threads);
  std::vector<const tgv::KernelSet*> sets;
  for (const tgv::KernelSet* k : {tgv::avx2_kernels(), tgv::avx512_kernels(), tgv::neon_kernels()})
    if (k) sets.push_back(k);
  if (sets.empty()) {
    std::printf("no fast kernel set on this machine/build\n");
    return 0;
  }

  struct Matrix { int N, K; std::vector<unsigned char> w; };
  std::mt19937 rng(1);
  std::vector<Matrix> ms;
  std::vector<std::pair<int, int>> shapes = {{7680, 2560}, {2560, 2560}, {10240, 2560}, {2560, 10240}};
  if (!shape.empty()) {  // one N x K matrix instead (e.g. 256x2560: one that stays in the caches)
    const size_t x = shape.find('x');
    shapes = {{std::atoi(shape.substr(0, x).c_str()), x == std::string::npos ? 0 : std::atoi(shape.substr(x + 1).c_str())}};
    if (shapes[0].first <= 0 || shapes[0].second <= 0 || shapes[0].second > 10240 ||
        shapes[0].second % tgv::quant_format(dt)->block_size) {
      std::fprintf(stderr, "bench_quant: --shape NxK wants K <= 10240, whole blocks\n");
      return 2;
    }
  }
  for (auto [N, K] : shapes) ms.push_back({N, K, make_weights(dt, N, K, rng)});
  double bytes = 0, macs_per_row = 0;
  for (const Matrix& m : ms) {
    bytes += static_cast<double>(m.w.size());
    macs_per_row += static_cast<double>(m.N) * m.K;
  }
  std::printf("%s, %s (%.1f MB of weights), %d thread(s), %s, best of %d\n", tgv::dtype_name(dt), shape.empty() ? "one Phi-2 layer" : shape.c_str(), bytes / 1e6,
              threads, g_cpu_time ? "thread CPU time" : "wall clock", reps);

  size_t pos = 0;
  while (pos < rows.size()) {
    const size_t comma = rows.find(',', pos);
    const int T = std::atoi(rows.substr(pos, comma - pos).c_str());
    pos = comma == std::string::npos ? rows.size() : comma + 1;
    if (T <= 0) continue;
    std::normal_distribution<float> nd(0.0f, 1.0f);
    int max_n = 0;
    for (const Matrix& m : ms) max_n = std::max(max_n, m.N);
    std::vector<float> x(static_cast<size_t>(T) * 10240), y(static_cast<size_t>(T) * static_cast<size_t>(max_n));
    for (float& v : x) v = nd(rng);
    double first = 0;
    for (const tgv::KernelSet* k : sets) {
      tgv::set_kernels(*k);
      const double t = best_time([&] {
        for (const Matrix& m : ms) {
          const tgv::Tensor W{"w", dt, {m.N, m.K}, m.w.data()};
          tgv::matmul(y.data(), x.data(), W, nullptr, T);
        }
      }, reps);
      if (first == 0) first = t;
      std::printf("T = %4d  %-7s %9.3f ms  %6.1f GB/s of weights  %7.1f G multiply-adds/s  %.2fx\n", T, k->name, t * 1e3,
                  bytes / t / 1e9, macs_per_row * T / t / 1e9, first / t);
    }
  }
  tgv::use_reference_kernels(false);
  return 0;
}
