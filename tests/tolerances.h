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
    {"checkpoint-q8_0", "", 1.5e-2, "6.8e-3 (projector.fc2), 4.3e-3 (llm.logits): 8-bit weights, 4 layers checked"},
    // the demo model's Q-Former cross-attention probabilities (--attention-map) on the demo scene, against
    // vision_ref.py float64 on the stored F16 weights (tests/pipeline/test_demo_model.cpp; make_testset.py)
    {"demo", "qformer.cross_attention", 5e-6, "8.8e-7 (layer 2), 7.9e-7 (layer 0): float32 ViT + Q-Former rounding"},
};

// The tolerance for one activation: the last row whose fixture and prefix match.
inline double tolerance_for(std::string_view fixture, std::string_view name) {
  double tol = kTolerances[0].rel;
  for (const auto& t : kTolerances)
    if ((t.fixture.empty() || t.fixture == fixture) && name.substr(0, t.prefix.size()) == t.prefix) tol = t.rel;
  return tol;
}

}  // namespace tgv::test
