// See progress.h.
#include "cli/progress.h"

#include <unistd.h>

#include <chrono>
#include <cstdio>

namespace tgv::cli {

namespace {
double now() {
  return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
}
}  // namespace

Progress::Progress() : enabled_(::isatty(2) == 1) {}

void Progress::start(const std::string& what) {
  what_ = what;
  t0_ = now();
  if (enabled_) std::fprintf(stderr, "%s ...", what.c_str()), std::fflush(stderr);
}

void Progress::step(int done, int total) {
  if (!enabled_ || total <= 0) return;
  const int width = 30, filled = done * width / total;
  std::fprintf(stderr, "\r%s [%.*s%*s] %d/%d", what_.c_str(), filled, "##############################", width - filled, "",
               done, total);
  std::fflush(stderr);
}

void Progress::done() {
  if (enabled_) std::fprintf(stderr, "\r\033[K%s ... %.2f s\n", what_.c_str(), now() - t0_);
}

DumpFn Progress::encoder_steps(int vision_layers, int qformer_layers) {
  if (!enabled_) return {};
  const int total = vision_layers + qformer_layers;
  return [this, total, vision_layers](const std::string& name, const float*, const std::vector<int64_t>&) {
    if (name.rfind("vision.block.", 0) == 0) step(std::stoi(name.substr(13)) + 1, total);
    else if (name.rfind("qformer.layer.", 0) == 0) step(vision_layers + std::stoi(name.substr(14)) + 1, total);
  };
}

}  // namespace tgv::cli
