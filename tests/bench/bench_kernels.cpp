// Speed of tgv::matmul (kernels.h) at Phi-2's sizes, for every kernel set this machine
// has, every weight dtype (F32, F16, BF16 and the block formats Q8_0, Q4_0, Q4_1, Q5_0,
// Q5_1, Q4_K, Q6_K), decode (T = 1) and prefill (T = 64), 1 and 2 threads.
// Figures are printed, never asserted.
//   cmake --build B --target bench_kernels
//   B/bench_kernels [--quick] [--dtype D]... [--threads N] [--T N] [scalar|avx2|neon]
// e.g. `bench_kernels --dtype Q4_0 --dtype Q8_0 --threads 1 avx2`. The quantized dtypes
// time the whole product as the model runs it: quantizing the activations included.
// GFLOP/s counts 2*T*N*K per product; GB/s is weight bytes read per second (what
// bounds decode: each weight is used once per token). Both from wall-clock time;
// "cpu ms" is the CPU time of all threads per call (well below ms/call * threads
// means the threads were waiting for a core: the machine was busy).
#include <chrono>
#include <ctime>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "tinygptv/kernels.h"
#include "tinygptv/quant.h"
#include "tinygptv/tensor.h"
#include "tinygptv/thread_pool.h"

namespace {

struct Shape { int N, K; const char* what; };
const Shape kShapes[] = {{2560, 2560, "attn dense  2560x2560"},
                         {10240, 2560, "mlp fc1    10240x2560"},
                         {2560, 10240, "mlp fc2    2560x10240"}};

struct Timing { double wall, cpu; };  // seconds per call: elapsed, and CPU time of all threads

Timing time_per_call(const tgv::Tensor& W, const std::vector<float>& x, std::vector<float>& y, int T, double budget) {
  using clock = std::chrono::steady_clock;
  tgv::matmul(y.data(), x.data(), W, nullptr, T);  // warm-up (pages, caches, pool threads)
  int reps = 0;
  const auto start = clock::now();
  const std::clock_t cpu0 = std::clock();
  double elapsed = 0;
  do {
    tgv::matmul(y.data(), x.data(), W, nullptr, T);
    reps++;
    elapsed = std::chrono::duration<double>(clock::now() - start).count();
  } while (elapsed < budget);
  return {elapsed / reps, static_cast<double>(std::clock() - cpu0) / CLOCKS_PER_SEC / reps};
}

// The machine's load, printed with the figures: on a shared machine the wall-clock
// numbers are only meaningful next to it.
std::string load_average() {
  std::FILE* f = std::fopen("/proc/loadavg", "r");
  if (!f) return "unknown";
  char buf[64] = {0};
  const bool ok = std::fgets(buf, sizeof buf, f) != nullptr;
  std::fclose(f);
  std::string s = ok ? buf : "unknown";
  return s.substr(0, s.find(' '));
}

}  // namespace

int main(int argc, char** argv) {
  bool quick = false;
  const char* only = nullptr;  // one kernel set by name, or all
  std::vector<tgv::DType> dtypes;
  std::vector<int> thread_counts = {1, 2}, Ts = {1, 64};
  for (int i = 1; i < argc; i++) {
    const bool has_value = i + 1 < argc;
    if (!std::strcmp(argv[i], "--quick")) {
      quick = true;
    } else if (!std::strcmp(argv[i], "--dtype") && has_value) {
      tgv::DType dt;
      if (!tgv::dtype_from_name(argv[++i], &dt)) {
        std::fprintf(stderr, "bench_kernels: unknown dtype '%s'\n", argv[i]);
        return 1;
      }
      dtypes.push_back(dt);
    } else if (!std::strcmp(argv[i], "--threads") && has_value) {
      thread_counts = {std::atoi(argv[++i])};
    } else if (!std::strcmp(argv[i], "--T") && has_value) {
      Ts = {std::atoi(argv[++i])};
    } else {
      only = argv[i];
    }
  }
  if (dtypes.empty())
    dtypes = {tgv::DType::F32,  tgv::DType::F16,  tgv::DType::BF16, tgv::DType::Q8_0, tgv::DType::Q4_0,
              tgv::DType::Q4_1, tgv::DType::Q5_0, tgv::DType::Q5_1, tgv::DType::Q4_K, tgv::DType::Q6_K};
  const double budget = quick ? 0.05 : 0.3;  // seconds of timed calls per figure (at least one call)

  std::vector<const tgv::KernelSet*> sets = {&tgv::scalar_kernels()};
  if (auto* k = tgv::avx2_kernels()) sets.push_back(k);
  if (auto* k = tgv::avx512_kernels()) sets.push_back(k);
  if (auto* k = tgv::neon_kernels()) sets.push_back(k);
  if (only) {
    std::vector<const tgv::KernelSet*> kept;
    for (auto* k : sets)
      if (!std::strcmp(k->name, only)) kept.push_back(k);
    if (kept.empty()) {
      std::fprintf(stderr, "bench_kernels: no kernel set '%s' here\n", only);
      return 1;
    }
    sets = kept;
  }

  std::mt19937 rng(1);
  std::normal_distribution<float> nd(0.0f, 1.0f);
  std::printf("load average (1 min) at start: %s; %u hardware threads\n", load_average().c_str(), std::thread::hardware_concurrency());
  std::printf("%-8s %-6s %-22s %4s %3s %10s %10s %10s %10s\n", "kernels", "dtype", "matrix [N, K]", "T", "thr", "ms/call", "cpu ms", "GFLOP/s", "GB/s");
  for (const Shape& s : kShapes) {
    const size_t nw = static_cast<size_t>(s.N) * s.K;
    std::vector<float> w32(nw);
    for (auto& v : w32) v = nd(rng) * 0.02f;
    std::vector<uint16_t> w16(nw), wbf(nw);
    for (size_t i = 0; i < nw; i++) {
      w16[i] = tgv::f32_to_f16(w32[i]);
      wbf[i] = tgv::f32_to_bf16(w32[i]);
    }
    for (tgv::DType dt : dtypes) {
      std::vector<unsigned char> wq;  // the block formats: the whole matrix at once (K is whole blocks)
      if (const tgv::QuantFormat* f = tgv::quant_format(dt)) {
        wq.resize(tgv::dtype_bytes(dt, nw));
        f->quantize_row(wq.data(), w32.data(), nw);
      }
      const void* data = dt == tgv::DType::F32    ? static_cast<const void*>(w32.data())
                         : dt == tgv::DType::F16  ? static_cast<const void*>(w16.data())
                         : dt == tgv::DType::BF16 ? static_cast<const void*>(wbf.data())
                                                  : static_cast<const void*>(wq.data());
      const tgv::Tensor W{"w", dt, {s.N, s.K}, data};
      for (int T : Ts) {
        std::vector<float> x(static_cast<size_t>(T) * s.K), y(static_cast<size_t>(T) * s.N);
        for (auto& v : x) v = nd(rng);
        for (const tgv::KernelSet* ks : sets)
          for (int threads : thread_counts) {
            tgv::set_kernels(*ks);
            tgv::set_num_threads(threads);
            const Timing t = time_per_call(W, x, y, T, budget);
            const double flop = 2.0 * T * static_cast<double>(nw);
            std::printf("%-8s %-6s %-22s %4d %3d %10.3f %10.3f %10.2f %10.2f\n", ks->name, tgv::dtype_name(dt), s.what, T, threads,
                        t.wall * 1e3, t.cpu * 1e3, flop / t.wall * 1e-9, static_cast<double>(W.nbytes()) / t.wall * 1e-9);
            std::fflush(stdout);
          }
      }
    }
  }
  tgv::use_reference_kernels(false);
  tgv::set_num_threads(0);
  return 0;
}
