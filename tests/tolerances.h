// Every tolerance the reference checks use, in one table (STYLE.md practice 7).
// Relative error is ||ours - reference|| / ||reference|| over the whole activation;
// the reference is the PyTorch model in tests/reference/ (float64 unless a row
// says otherwise). "measured" is the largest error seen when the row was set,
// with the command that reproduces it.
#pragma once
#include <string_view>

namespace tgv::test {

struct Tolerance {
  std::string_view fixture;   // tests/data/<fixture>/
  std::string_view prefix;    // activation name prefix ("llm.layer.", "vision.")
  double rel;                 // allowed relative error
  const char* measured;       // what we measured, and where the number came from
};

inline constexpr Tolerance kTolerances[] = {
    // fixture, prefix, rel, measured  -- rows are added by each stage's tests
    {"", "", 1e-5, "default: the issues' bound (relative error <= 1e-5)"},
    // language model (tests/reference/phi2_ref.py, float64 with float32 rotary tables):
    // float32 rounding only, growing ~4e-8 per layer; measured with
    // build/test_llm -s, avx2 and TINYGPTV_REFERENCE=1 scalar kernels alike
    {"llm/tiny", "llm.", 2e-6, "1.6e-7 (llm.logits), 2.4e-7 (greedy decode step 2), F32 weights, head dim 16"},
    {"llm/head80", "llm.", 2e-6, "2.7e-7 (llm.logits), 2.5e-7 (greedy decode step 3), F16/BF16 weights, head dim 80, rotary 32"},
    // image side (tests/reference/vision_ref.py, float64): float32 matmul/attention
    // rounding only; measured with build/test_{vision,qformer,projector} -s, avx2 and
    // TINYGPTV_REFERENCE=1 scalar kernels alike
    {"pipeline/tiny", "vision.", 2e-6, "1.7e-7 (vision.ln), F32 weights"},
    {"pipeline/heads", "vision.", 3e-6, "2.7e-7 (vision.block.1), F16 weights, head dim 88, interpolated pos table"},
    {"pipeline/tiny", "qformer.", 2e-6, "2.2e-7 (qformer.layer.2)"},
    {"pipeline/heads", "qformer.", 2e-6, "2.1e-7 (qformer.layer.1), head dim 64"},
    {"pipeline/tiny", "projector.", 2e-6, "1.4e-7 (projector.fc2)"},
    {"pipeline/heads", "projector.", 2e-6, "1.4e-7 (projector.fc2)"},
    {"pipeline/interp", "interp", 5e-6, "6.3e-7 (4->7): float32 bicubic vs PyTorch 1.13's float32 F.interpolate"},
    // image + prompt, whole model from pixels (tests/pipeline/test_image_prompt.cpp; phi2_ref.py float64)
    {"pipeline/tiny", "llm.", 3e-6, "2.6e-7 (llm.logits)"},
    {"pipeline/heads", "llm.", 3e-6, "2.9e-7 (llm.logits), head dim 80, rotary 32"},
    // convert -> dump, against the references run on the original upstream-layout files
    // (tests/checkpoint/test_convert.cpp; vision_ref.py + phi2_ref.py float64; 39 ViT blocks)
    {"checkpoint", "", 2e-6, "2.9e-7 (vision.block.38), F32 output"},
    // fast integer-dot matmul (activations quantized to 8 bits per block) against the exact
    // path (dequantized weights, float activations), ||fast - exact|| / ||exact|| over all
    // outputs of one format, random normal x (tests/kernels/test_quant_kernels.cpp; AVX2,
    // NEON with and without SDOT under qemu alike). It is the activation rounding: ~1/254 of
    // a block's max per value, so blocks of 256 (Q8_K, the K-formats) lose a little more.
    {"kernels/quant", "Q", 1e-2, "5.4e-3 (Q8_0, Q4_0, Q4_1, Q5_0, Q5_1: Q8_0/Q8_1 activations, blocks of 32)"},
    {"kernels/quant", "Q4_K", 1.2e-2, "7.0e-3 (Q8_K activations, blocks of 256)"},
    {"kernels/quant", "Q6_K", 1.2e-2, "6.9e-3 (Q8_K activations, blocks of 256)"},
    {"checkpoint-q8_0", "", 1.5e-2, "6.8e-3 (projector.fc2), 4.3e-3 (llm.logits): 8-bit weights, 4 layers checked"},
    // tinygptv quantize -> the pipeline fixtures (tiny, heads) against the float64 reference
    // (tests/cli/test_quant_accuracy.cpp; the largest of both fixtures, build/test_cli -s,
    // avx2 and TINYGPTV_REFERENCE=1 scalar kernels). "quant-<dtype>": `dump` end to end,
    // the errors of every quantized layer accumulated; "quant-layer-<dtype>": each layer on
    // the reference's input, the error it alone adds, with the avx2 kernels (integer dots
    // against activations rounded to Q8_0/Q8_1/Q8_K, as ggml; Q8_0 against T > 1 rows: the
    // float GEMM on the exact weights) and the scalar ones (exact dequantized weights). The
    // tiny fixture's rows (32..128) are not whole 256-blocks: its q4_k/q6_k are q5_0/q8_0 by
    // the recipe's fallback.
    {"quant-f16", "", 1.5e-3, "7.2e-4 (tiny projector.fc2): F32 weights rounded to F16"},
    {"quant-layer-f16", "", 1e-3, "3.6e-4 (tiny qformer.layer.1)"},
    {"quant-bf16", "", 1e-2, "5.6e-3 (tiny projector.fc2)"},
    {"quant-layer-bf16", "", 5e-3, "2.4e-3 (tiny qformer.layer.2)"},
    {"quant-q8_0", "", 2e-2, "1.5e-2 avx512, avx2 and scalar (tiny llm.logits): 9 quantized stages"},
    {"quant-layer-q8_0", "", 1e-2, "6.9e-3 avx512, avx2 and scalar (tiny qformer.layer.2): the issue's bound, 1e-2 per layer"},
    {"quant-q6_k", "", 3e-2, "2.2e-2 avx2 (heads projector.fc2), 1.9e-2 scalar"},
    {"quant-layer-q6_k", "", 2e-2, "1.35e-2 avx2, 1.1e-2 scalar (heads qformer.layer.1)"},
    {"quant-q5_1", "", 0.2, "1.3e-1 (tiny llm.logits)"},
    {"quant-layer-q5_1", "", 8e-2, "5.0e-2 (tiny qformer.layer.1, .2)"},
    {"quant-q5_0", "", 0.2, "1.25e-1 (tiny projector.fc2)"},
    {"quant-layer-q5_0", "", 0.12, "8.2e-2 avx2, 7.9e-2 scalar (tiny qformer.layer.1)"},
    {"quant-q4_k", "", 0.2, "1.25e-1 (tiny projector.fc2, tiny is q5_0 by the fallback; heads 1.0e-1)"},
    {"quant-layer-q4_k", "", 0.12, "8.2e-2 avx2, 7.9e-2 scalar (tiny qformer.layer.1)"},
    {"quant-q4_1", "", 0.35, "2.4e-1 (tiny projector.fc2)"},
    {"quant-layer-q4_1", "", 0.2, "1.3e-1 (tiny qformer.layer.2)"},
    {"quant-q4_0", "", 0.35, "2.6e-1 avx2, 2.5e-1 scalar (tiny projector.fc2)"},
    {"quant-layer-q4_0", "", 0.2, "1.3e-1 (tiny qformer.layer.1)"},
    // the demo model's Q-Former cross-attention probabilities (--attention-map) on the demo scene, against
    // vision_ref.py float64 on the stored F16 weights (tests/pipeline/test_demo_model.cpp; make_testset.py)
    {"demo", "qformer.cross_attention", 5e-6, "8.8e-7 (layer 2), 7.9e-7 (layer 0): float32 ViT + Q-Former rounding"},
};

// Kernel-level tolerances (not per fixture): |fast - scalar| <= tol * sum_k |x_k w_k| per output.
// The packed GEMM (gemm_avx2.cpp) runs one FMA chain per output over each k-block of 384,
// the scalar set 8 partial sums: float32 rounding only. Measured with `build/test_kernels
// -s -tc="*GEMM*"` (x86-64 AVX2, odd T/N/K up to 257x257x1408, F32/F16/BF16): see the row.
inline constexpr double kGemmVsScalar = 1e-6;  // measured 3.4e-7 (avx2 vs scalar)
// The tiled online-softmax attention vs a float64 reference, relative L2 error, odd
// sizes, head dims 16-88 (`build/test_layers -s -tc="tiled*"`, avx2 and scalar kernels).
inline constexpr double kAttentionTiled = 1e-6;  // measured 4.5e-7 (averaging many keys makes the output small)
// Phi-2 logits with an F16 KV cache (every key and value rounded to float16, 2^-11
// relative) vs the float64 reference, relative L2, each greedy step of both fixtures
// (`build/test_llm -s -tc="*F16 KV*"`).
inline constexpr double kKvCacheF16 = 1e-3;  // measured 3.4e-4 (scalar, avx2 and avx512 alike)
// The SIMD sets' exact GELU (src/kernels/gelu_erf.h: double precision without libm,
// relative error ~1e-14) against the scalar set's libm erfc: never more than one float32
// ulp apart, and one ulp apart for at most this share of the values (`build/test_kernels
// -s -tc="*gelu*"`, 2.1 M inputs).
inline constexpr double kGeluErfOneUlpShare = 1e-5;  // measured 0 (avx2 and avx512: every value equal)

// The tolerance for one activation: the last row whose fixture and prefix match.
inline double tolerance_for(std::string_view fixture, std::string_view name) {
  double tol = kTolerances[0].rel;
  for (const auto& t : kTolerances)
    if ((t.fixture.empty() || t.fixture == fixture) && name.substr(0, t.prefix.size()) == t.prefix) tol = t.rel;
  return tol;
}

}  // namespace tgv::test
