// JPEG decode speed (reported by tests/bench/jpeg.sh, never asserted):
//   bench_jpeg FILE.jpg [RUNS]   -> "WALL CPU W H": best-of-RUNS wall and CPU seconds of
//                                   tgv::decode_jpeg on FILE (CPU time is steadier on a
//                                   busy machine; the decoder is single-threaded)
// Without a file it only says so: the 12-megapixel input is made at bench time by
// tests/bench/jpeg.sh and never committed.
#include <chrono>
#include <cstdio>
#include <ctime>
#include <cstdlib>
#include <fstream>
#include <iterator>
#include <vector>

#include "tinygptv/error.h"
#include "tinygptv/image.h"

int main(int argc, char** argv) {
  if (argc < 2) {
    std::printf("bench_jpeg: no input (run tests/bench/jpeg.sh, which makes a 12 MP JPEG)\n");
    return 0;
  }
  std::ifstream f(argv[1], std::ios::binary);
  std::vector<uint8_t> bytes(std::istreambuf_iterator<char>(f), {});
  const int runs = argc > 2 ? std::atoi(argv[2]) : 5;
  double best = 1e9, best_cpu = 1e9;
  tgv::ImageRGB8 img;
  try {
    for (int i = 0; i < runs; i++) {
      auto t0 = std::chrono::steady_clock::now();
      std::clock_t c0 = std::clock();
      img = tgv::decode_jpeg(bytes.data(), bytes.size());
      double cpu = static_cast<double>(std::clock() - c0) / CLOCKS_PER_SEC;
      double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
      if (s < best) best = s;
      if (cpu < best_cpu) best_cpu = cpu;
    }
  } catch (const tgv::Error& e) {
    std::fprintf(stderr, "bench_jpeg: %s\n", e.what());
    return 1;
  }
  std::printf("%.4f %.4f %d %d\n", best, best_cpu, img.width, img.height);
  return 0;
}
