// The KV cache: per layer, the keys (after q/k LayerNorm and rotary) and values of
// every position seen so far, [pos, D] row-major with head h in columns
// [h*hd, (h+1)*hd) -- the layout attention() reads with row stride D.
// It grows on demand (doubling, capped at max_positions) so a short prompt does not
// allocate the full 2048-position context: at the real size a full cache is
// 32 layers x 2 x 2048 x 2560 floats = 1.3 GB (half that as float16).
#include <algorithm>
#include <string>

#include "tinygptv/error.h"
#include "tinygptv/phi2.h"

namespace tgv {

Phi2State::Phi2State(const LlmConfig& config, DType kv)
    : kv_dtype(kv),
      max_positions(config.max_positions),
      k_cache(static_cast<size_t>(config.layers)),
      v_cache(static_cast<size_t>(config.layers)),
      k_cache16(static_cast<size_t>(config.layers)),
      v_cache16(static_cast<size_t>(config.layers)) {
  if (kv != DType::F32 && kv != DType::F16)
    fail(std::string("KV cache dtype ") + dtype_name(kv) + ": only F32 and F16 are supported");
}

void phi2_reserve(Phi2State& state, int n, int hidden) {
  if (n > state.max_positions)
    fail("context limit: " + std::to_string(n) + " positions exceed max_positions " + std::to_string(state.max_positions));
  if (n <= state.capacity) return;
  const int cap = std::min(state.max_positions, std::max(n, 2 * state.capacity));
  const size_t floats = static_cast<size_t>(cap) * static_cast<size_t>(hidden);
  if (state.kv_dtype == DType::F16) {
    for (auto& k : state.k_cache16) k.resize(floats);
    for (auto& v : state.v_cache16) v.resize(floats);
  } else {
    for (auto& k : state.k_cache) k.resize(floats);
    for (auto& v : state.v_cache) v.resize(floats);
  }
  state.capacity = cap;
}

}  // namespace tgv
