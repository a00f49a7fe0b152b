// The projector (model.md section 4), upstream MiniGPT-4/TinyGPT-V encode_img:
//   inputs_llama = self.llama_proj(query_output.last_hidden_state)   # H -> mid
//   inputs_llama = self.llama_proj2(inputs_llama)                    # mid -> D
// No activation between them. Loading checks every shape against the config.
#include "tinygptv/projector.h"

#include <vector>

#include "tinygptv/layers.h"

namespace tgv {

ProjectorWeights load_projector(const ModelFile& mf, const ModelConfig& cfg) {
  const int64_t H = cfg.qformer.hidden, mid = cfg.projector.mid, D = cfg.llm.hidden;
  ProjectorWeights w;
  w.fc1_w = mf.matrix("llama_proj.weight", {mid, H});
  w.fc1_b = mf.floats("llama_proj.bias", {mid});
  w.fc2_w = mf.matrix("llama_proj2.weight", {D, mid});
  w.fc2_b = mf.floats("llama_proj2.bias", {D});
  return w;
}

void projector_forward(float* out, const float* q, const ProjectorWeights& w, int Q, const DumpFn& dump) {
  const int64_t mid = w.fc1_w.rows(), D = w.fc2_w.rows();
  std::vector<float> h(static_cast<size_t>(Q) * mid);  // [Q, mid]
  linear(h.data(), q, w.fc1_w, w.fc1_b.data(), Q);
  if (dump) dump("projector.fc1", h.data(), {Q, mid});
  linear(out, h.data(), w.fc2_w, w.fc2_b.data(), Q);
  if (dump) dump("projector.fc2", out, {Q, D});
}

}  // namespace tgv
