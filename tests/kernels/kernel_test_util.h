// Helpers shared by the kernel tests: the fast kernel sets this build and CPU have,
// and normally distributed test data.
#pragma once
#include <random>
#include <vector>

#include "tinygptv/kernels.h"

namespace tgv::test {

inline std::vector<const KernelSet*> fast_sets() {
  std::vector<const KernelSet*> v;
  if (auto* k = avx2_kernels()) v.push_back(k);
  if (auto* k = avx512_kernels()) v.push_back(k);
  if (auto* k = neon_kernels()) v.push_back(k);
  return v;
}

inline std::vector<float> randn(size_t n, std::mt19937& rng, float scale = 1.0f) {
  std::normal_distribution<float> d(0.0f, scale);
  std::vector<float> v(n);
  for (auto& x : v) x = d(rng);
  return v;
}

}  // namespace tgv::test
