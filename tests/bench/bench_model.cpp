// Speed of the real model's layers, with random weights at the real sizes (no
// weights file needed): one EVA ViT-g block over 257 tokens (224 px) and one Phi-2
// decoder layer, prefill of 64 tokens and decode of one token with 600 cached, in
// F16 and Q8_0. The whole-model figures are the per-layer times times the layer
// counts (39 ViT blocks, 32 Phi-2 layers, plus the lm_head matvec). Reported, never
// asserted.   build/bench_model [threads]
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <random>
#include <vector>

#include "tinygptv/kernels.h"
#include "tinygptv/layers.h"
#include "tinygptv/phi2.h"
#include "tinygptv/thread_pool.h"
#include "tinygptv/vision.h"

using namespace tgv;

namespace {

std::mt19937 rng(1);

std::vector<float> randv(size_t n, float scale) {
  std::uniform_real_distribution<float> u(-scale, scale);
  std::vector<float> v(n);
  for (auto& x : v) x = u(rng);
  return v;
}

// A random [rows, cols] matrix stored as dtype; the bytes live in `store`.
Tensor matrix(std::vector<std::vector<uint8_t>>& store, DType dtype, int64_t rows, int64_t cols) {
  const std::vector<float> f = randv(static_cast<size_t>(rows * cols), 0.02f);
  std::vector<uint8_t> bytes(dtype_bytes(dtype, f.size()));
  if (dtype == DType::Q8_0) {
    quantize_row_q8_0(reinterpret_cast<BlockQ8_0*>(bytes.data()), f.data(), f.size());
  } else {
    auto* h = reinterpret_cast<uint16_t*>(bytes.data());
    for (size_t i = 0; i < f.size(); i++) h[i] = f32_to_f16(f[i]);
  }
  store.push_back(std::move(bytes));
  return Tensor{"bench", dtype, {rows, cols}, store.back().data()};
}

template <typename F>
double seconds(F f, int reps) {
  f();  // warm-up
  const auto t0 = std::chrono::steady_clock::now();
  for (int i = 0; i < reps; i++) f();
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count() / reps;
}

void bench(DType dtype) {
  std::vector<std::vector<uint8_t>> store;
  // EVA ViT-g block: W 1408, 16 heads, MLP 6144, N+1 = 257 tokens.
  VisionConfig vc;
  VitBlockWeights vb;
  const int W = vc.width;
  vb.norm1_w = randv(W, 1), vb.norm1_b = randv(W, 1), vb.norm2_w = randv(W, 1), vb.norm2_b = randv(W, 1);
  vb.qkv_w = matrix(store, dtype, 3 * W, W), vb.qkv_b = randv(3 * W, 0.1f);
  vb.proj_w = matrix(store, dtype, W, W), vb.proj_b = randv(W, 0.1f);
  vb.fc1_w = matrix(store, dtype, vc.mlp_dim, W), vb.fc1_b = randv(vc.mlp_dim, 0.1f);
  vb.fc2_w = matrix(store, dtype, W, vc.mlp_dim), vb.fc2_b = randv(W, 0.1f);
  std::vector<float> x = randv(static_cast<size_t>(257) * W, 1);
  const double vit = seconds([&] { vit_block_forward(x.data(), vb, vc, 257); }, 2);

  // Phi-2 decoder layer: D 2560, 32 heads of 80, MLP 10240.
  LlmConfig lc;
  const int D = lc.hidden, hd = D / lc.heads;
  Phi2LayerWeights pl;
  pl.input_layernorm_weight = randv(D, 1), pl.input_layernorm_bias = randv(D, 1);
  pl.qkv_weight = matrix(store, dtype, 3 * D, D), pl.qkv_bias = randv(3 * D, 0.1f);
  pl.q_layernorm_weight = randv(hd, 1), pl.q_layernorm_bias = randv(hd, 1);
  pl.k_layernorm_weight = randv(hd, 1), pl.k_layernorm_bias = randv(hd, 1);
  pl.dense_weight = matrix(store, dtype, D, D), pl.dense_bias = randv(D, 0.1f);
  pl.post_layernorm_weight = randv(D, 1);
  pl.fc1_weight = matrix(store, dtype, lc.intermediate, D), pl.fc1_bias = randv(lc.intermediate, 0.1f);
  pl.fc2_weight = matrix(store, dtype, D, lc.intermediate), pl.fc2_bias = randv(D, 0.1f);
  lc.layers = 1;
  Phi2State state(lc);
  const size_t TD = static_cast<size_t>(64) * D;  // scratch for 64 rows, as phi2_forward sizes it
  state.h.resize(TD), state.qkv.resize(3 * TD), state.q.resize(TD), state.attn.resize(TD), state.a.resize(TD);
  state.m.resize(TD), state.ff.resize(static_cast<size_t>(64) * lc.intermediate);
  std::vector<float> h = randv(static_cast<size_t>(64) * D, 1);
  const double prefill = seconds([&] { state.pos = 0; phi2_reserve(state, 64, D); phi2_layer_forward(h.data(), state, pl, 0, lc, 64); }, 2);
  phi2_reserve(state, 601, D);
  const double decode = seconds([&] { state.pos = 600; phi2_layer_forward(h.data(), state, pl, 0, lc, 1); }, 10);
  const Tensor lm_head = matrix(store, dtype, lc.vocab_size, D);
  std::vector<float> logits(static_cast<size_t>(lc.vocab_size));
  const double head = seconds([&] { matmul(logits.data(), h.data(), lm_head, nullptr, 1); }, 10);

  std::printf("%-5s ViT-g block (257 tokens)       %8.1f ms   -> 39 blocks: %6.1f s per image\n", dtype_name(dtype), vit * 1e3, 39 * vit);
  std::printf("%-5s Phi-2 layer prefill (64 tokens) %8.1f ms   -> 32 layers: %6.0f prompt tokens/s\n", dtype_name(dtype), prefill * 1e3, 64 / (32 * prefill));
  std::printf("%-5s Phi-2 layer decode (600 cached) %8.2f ms   -> 32 layers + lm_head (%.1f ms): %5.2f tokens/s\n", dtype_name(dtype), decode * 1e3, head * 1e3, 1 / (32 * decode + head));
}

}  // namespace

int main(int argc, char** argv) {
  set_num_threads(argc > 1 ? std::atoi(argv[1]) : 0);
  std::printf("kernels: %s, threads: %d\n", kernels().name, num_threads());
  bench(DType::F16);
  bench(DType::Q8_0);
  return 0;
}
