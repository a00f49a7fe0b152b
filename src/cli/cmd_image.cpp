// `tinygptv image`: the image stage on its own, for checking against PIL/torchvision.
//   tinygptv image decode IN --out OUT.npy              -> uint8 [H, W, 3], as PIL convert("RGB")
//   tinygptv image preprocess IN --size S --out OUT.npy -> float32 [3, S, S] (model.md section 1)
// IN is a PNG or JPEG; the format comes from the bytes, not the name.
// --time prints how long each step took to stderr (used by tests/bench/images.sh).
#include <chrono>
#include <cstdio>
#include <string>

#include "cli/args.h"
#include "cli/commands.h"
#include "tinygptv/error.h"
#include "tinygptv/image.h"
#include "tinygptv/npy.h"
#include "tinygptv/preprocess.h"

namespace tgv::cli {

namespace {

double seconds_since(std::chrono::steady_clock::time_point t) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t).count();
}

}  // namespace

int cmd_image(int argc, char** argv) {
  Args args(argc, argv, {"--out", "--size"}, {"--time"});
  const auto& pos = args.positional();
  if (pos.size() != 2 || (pos[0] != "decode" && pos[0] != "preprocess"))
    fail("usage: tinygptv image decode IN --out OUT.npy | tinygptv image preprocess IN --size S --out OUT.npy");
  const std::string out = args.required("--out");
  const bool timed = args.has("--time");
  long size = args.integer_or("--size", 224);
  if (size < 1 || size > 8192) fail("--size must be between 1 and 8192, got " + std::to_string(size));

  auto t = std::chrono::steady_clock::now();
  ImageRGB8 img = load_image(pos[1]);
  if (timed) std::fprintf(stderr, "decode %d x %d: %.4f s\n", img.width, img.height, seconds_since(t));
  if (pos[0] == "decode") {
    write_npy(out, img.pixels.data(), {img.height, img.width, 3});
    return 0;
  }
  t = std::chrono::steady_clock::now();
  ImageRGB8 small = resize_bicubic(img, static_cast<int>(size), static_cast<int>(size));
  if (timed) std::fprintf(stderr, "resize to %ld x %ld: %.4f s\n", size, size, seconds_since(t));
  t = std::chrono::steady_clock::now();
  std::vector<float> pixels = preprocess_image(small, static_cast<int>(size));  // no resize: already S x S
  if (timed) std::fprintf(stderr, "normalise: %.4f s\n", seconds_since(t));
  write_npy(out, pixels.data(), {3, size, size});
  return 0;
}

}  // namespace tgv::cli
