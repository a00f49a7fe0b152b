// A stand-in for libFuzzer's main, so the fuzz targets build with any compiler:
//   fuzz_png [-seconds=N] [-seed=S] CORPUS_DIR_OR_FILE...
// runs LLVMFuzzerTestOneInput on every corpus file, then on random mutations of
// them (bit flips, truncations, inserted/overwritten bytes, spliced files) for N
// seconds (default 0). Under ASan/UBSan any memory error aborts the run; a
// tgv::Error is the expected way to refuse bad input and is caught in the target.
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <random>
#include <string>
#include <vector>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size);

namespace fs = std::filesystem;

static std::vector<uint8_t> read_file(const fs::path& p) {
  std::ifstream f(p, std::ios::binary);
  return std::vector<uint8_t>(std::istreambuf_iterator<char>(f), {});
}

int main(int argc, char** argv) {
  double seconds = 0;
  uint32_t seed = 1;
  std::vector<std::vector<uint8_t>> corpus;
  for (int i = 1; i < argc; i++) {
    if (!std::strncmp(argv[i], "-seconds=", 9)) { seconds = std::atof(argv[i] + 9); continue; }
    if (!std::strncmp(argv[i], "-seed=", 6)) { seed = static_cast<uint32_t>(std::atol(argv[i] + 6)); continue; }
    fs::path p(argv[i]);
    if (fs::is_directory(p)) {
      for (const auto& e : fs::recursive_directory_iterator(p))
        if (e.is_regular_file()) corpus.push_back(read_file(e.path()));
    } else if (fs::exists(p)) {
      corpus.push_back(read_file(p));
    }
  }
  corpus.push_back({});  // the empty input is always tried
  for (const auto& c : corpus) LLVMFuzzerTestOneInput(c.data(), c.size());

  std::mt19937 rng(seed);
  auto pick = [&](size_t n) { return n ? static_cast<size_t>(rng() % n) : 0; };
  size_t runs = 0;
  const auto start = std::chrono::steady_clock::now();
  while (std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count() < seconds) {
    std::vector<uint8_t> d = corpus[pick(corpus.size())];
    int edits = 1 + static_cast<int>(pick(8));
    for (int e = 0; e < edits; e++) {
      switch (pick(6)) {
        case 0: if (!d.empty()) d[pick(d.size())] ^= static_cast<uint8_t>(1u << pick(8)); break;
        case 1: if (!d.empty()) d[pick(d.size())] = static_cast<uint8_t>(rng()); break;
        case 2: if (!d.empty()) d.resize(pick(d.size())); break;
        case 3: d.insert(d.begin() + static_cast<long>(pick(d.size() + 1)), static_cast<uint8_t>(rng())); break;
        case 4: {  // an interesting value (0, 0xff, 0x7f, 0x80) at a random place
          static const uint8_t v[] = {0, 0xff, 0x7f, 0x80};
          if (!d.empty()) d[pick(d.size())] = v[pick(4)];
          break;
        }
        case 5: {  // splice the tail of another corpus file
          const auto& o = corpus[pick(corpus.size())];
          if (!o.empty()) {
            d.resize(pick(d.size() + 1));
            d.insert(d.end(), o.begin() + static_cast<long>(pick(o.size())), o.end());
          }
          break;
        }
      }
    }
    LLVMFuzzerTestOneInput(d.data(), d.size());
    runs++;
  }
  std::printf("%s: %zu corpus files, %zu mutated runs, no crash\n", argv[0], corpus.size(), runs);
  return 0;
}
