// ImageEncoder (include/tinygptv/image_encoder.h): the three image-side stages in a
// row, upstream MiniGPT-4/TinyGPT-V encode_img:
//   image_embeds = self.ln_vision(self.visual_encoder(image))          # [N+1, W]
//   query_output = self.Qformer.bert(query_embeds=self.query_tokens,
//                                    encoder_hidden_states=image_embeds)  # [Q, H]
//   inputs_llama = self.llama_proj2(self.llama_proj(query_output.last_hidden_state))  # [Q, D]
#include "tinygptv/image_encoder.h"

#include <filesystem>
#include <string>

#include "tinygptv/error.h"
#include "tinygptv/image.h"
#include "tinygptv/npy.h"
#include "tinygptv/preprocess.h"

namespace tgv {

ImageEncoder::ImageEncoder(const ModelFile& mf)
    : config_(mf.config()),
      vit_(load_vit(mf, config_.vision)),
      qformer_(load_qformer(mf, config_.qformer, config_.vision.width)),
      projector_(load_projector(mf, config_)) {}

std::vector<float> ImageEncoder::encode(const float* pixels, const DumpFn& dump, QFormerCrossAttention* cross_attention) const {
  const VisionConfig& v = config_.vision;
  const int S = v.image_size, g = S / v.patch_size, n_image = g * g + 1;
  const int Q = config_.qformer.query_tokens;
  if (dump) dump("vision.pixels", pixels, {3, S, S});

  std::vector<float> image(static_cast<size_t>(n_image) * v.width);  // [N+1, W]
  vit_forward(image.data(), pixels, vit_, v, dump);

  std::vector<float> queries(static_cast<size_t>(Q) * config_.qformer.hidden);  // [Q, H]
  qformer_forward(queries.data(), image.data(), n_image, qformer_, config_.qformer, dump, cross_attention);

  std::vector<float> embeds(static_cast<size_t>(Q) * config_.llm.hidden);  // [Q, D]
  projector_forward(embeds.data(), queries.data(), projector_, Q, dump);
  return embeds;
}

std::vector<float> load_pixels(const std::string& path, int S) {
  const bool npy = path.size() >= 4 && path.compare(path.size() - 4, 4, ".npy") == 0;
  if (!npy) return preprocess_image(load_image(path), S);
  // The array is read whole: a file larger than a float32 [3, S, S] array and the
  // largest .npy header (64 KiB) is refused before it is read.
  const uint64_t want = uint64_t{4} * 3 * static_cast<uint64_t>(S) * static_cast<uint64_t>(S);
  std::error_code ec;
  const uintmax_t bytes = std::filesystem::file_size(path, ec);
  if (!ec && bytes > want + (uint64_t{1} << 16))
    fail(path + ": " + std::to_string(bytes) + " bytes is more than a float32 [3, " + std::to_string(S) + ", " + std::to_string(S) +
         "] pixel array takes (" + std::to_string(want) + " bytes of data)");
  const NpyArray a = read_npy(path);
  if (a.dtype != "<f4") fail(path + ": pixel arrays must be float32 ('<f4'), got '" + a.dtype + "'");
  if (a.shape != std::vector<int64_t>{3, S, S})
    fail(path + ": pixels have shape " + shape_str(a.shape) + "; this model wants [3, " + std::to_string(S) + ", " +
         std::to_string(S) + "]");
  return a.to_f32();
}

}  // namespace tgv
