// The image side of TinyGPT-V in one object: pixels [3, S, S] -> ViT + ln_vision
// -> Q-Former -> projector -> Q image embeddings [Q, D], ready to be spliced into
// the language model's input where the prompt says <ImageHere>.
//
//   ModelFile mf("model.safetensors");
//   ImageEncoder enc(mf);                                     // views into mf: keep mf alive
//   std::vector<float> px = load_pixels("photo.jpg", enc.image_size());   // [3, S, S]
//   std::vector<float> emb = enc.encode(px.data(), {});      // [Q, D]
//
// Stages: docs/vision.md, docs/qformer.md. Implementation: src/pipeline/image_encoder.cpp.
#pragma once
#include <string>
#include <vector>

#include "tinygptv/dump.h"
#include "tinygptv/model_file.h"
#include "tinygptv/projector.h"
#include "tinygptv/qformer.h"
#include "tinygptv/vision.h"

namespace tgv {

class ImageEncoder {
 public:
  // Loads and shape-checks every vision, Q-Former and projector tensor (tgv::Error
  // naming the tensor otherwise); a position table for another grid is interpolated here.
  explicit ImageEncoder(const ModelFile& mf);

  int image_size() const { return config_.vision.image_size; }  // S
  int num_image_tokens() const { return config_.qformer.query_tokens; }  // Q, the LLM positions the image takes
  int embed_dim() const { return config_.llm.hidden; }  // D

  // pixels [3, S, S] -> image embeddings [Q, D]. Dumps "vision.pixels", "vision.embed",
  // "vision.block.{i}", "vision.ln", "qformer.embed", "qformer.layer.{i}",
  // "projector.fc1", "projector.fc2" when dump is set. cross_attention, when given,
  // receives the Q-Former's cross-attention probabilities (what the queries looked at).
  std::vector<float> encode(const float* pixels, const DumpFn& dump, QFormerCrossAttention* cross_attention = nullptr) const;
  int patch_grid() const { return config_.vision.image_size / config_.vision.patch_size; }  // S / patch: patches per side

 private:
  ModelConfig config_;
  VitWeights vit_;
  QFormerWeights qformer_;
  ProjectorWeights projector_;
};

// The encoder input from a file: a .npy float32 [3, S, S] is taken as already
// preprocessed pixels (shape checked); anything else is decoded as PNG/JPEG and
// preprocessed as model.md section 1 (resize to S x S, normalise).
std::vector<float> load_pixels(const std::string& path, int S);

}  // namespace tgv
