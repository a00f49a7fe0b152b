// The projector (model.md section 4): the Q-Former output [Q, H] to Q language-model
// input embeddings [Q, D] by two Linears with no activation between them:
//   h = llama_proj(q)     [Q, mid]   "projector.fc1"
//   e = llama_proj2(h)    [Q, D]     "projector.fc2"   (the image embeddings)
// Implementation: src/projector/projector.cpp.
#pragma once
#include <vector>

#include "tinygptv/dump.h"
#include "tinygptv/model_file.h"
#include "tinygptv/tensor.h"

namespace tgv {

struct ProjectorWeights {
  Tensor fc1_w;              // llama_proj.weight    [mid, H]
  std::vector<float> fc1_b;  // llama_proj.bias      [mid]
  Tensor fc2_w;              // llama_proj2.weight   [D, mid]
  std::vector<float> fc2_b;  // llama_proj2.bias     [D]
};

// H = qformer.hidden, mid = projector.mid, D = llm.hidden.
ProjectorWeights load_projector(const ModelFile& mf, const ModelConfig& cfg);

// out [Q, D] from q [Q, H]; the sizes come from the weight shapes.
void projector_forward(float* out, const float* q, const ProjectorWeights& w, int Q, const DumpFn& dump);

}  // namespace tgv
