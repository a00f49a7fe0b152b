// Image + prompt through the whole model against the PyTorch references
// (tests/reference/make_pipeline.py: vision_ref.py for the image side, phi2_ref.py
// for the language model): the image embeddings are spliced between two token
// segments (prompt_segments.json), every llm.* activation of that mixed sequence is
// compared, and 16 greedy tokens must equal the reference's (generate.json; each
// reference step recomputes the whole sequence, ours uses the KV cache).
#include <doctest/doctest.h>

#include <fstream>
#include <map>
#include <sstream>
#include <string>
#include <vector>

#include "compare.h"
#include "tinygptv/image_encoder.h"
#include "tinygptv/json.h"
#include "tinygptv/npy.h"
#include "tinygptv/phi2.h"
#include "tolerances.h"

using namespace tgv;

namespace {

std::vector<int> ids_of(const Json& a) {
  std::vector<int> out;
  for (const Json& x : a.as_array()) out.push_back(static_cast<int>(x.as_int()));
  return out;
}

Json read_json(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  std::stringstream ss;
  ss << f.rdbuf();
  return Json::parse(ss.str());
}

void check_image_prompt(const std::string& config) {
  const std::string dir = std::string(TGV_TEST_DATA) + "/pipeline/" + config;
  ModelFile mf(dir + "/model.safetensors");
  const LlmConfig& lc = mf.config().llm;
  const int D = lc.hidden;
  ImageEncoder enc(mf);
  const std::vector<float> pixels = load_pixels(dir + "/pixels.npy", enc.image_size());
  const std::vector<float> image = enc.encode(pixels.data(), {});  // [Q, D]
  const Phi2Weights w = load_phi2(mf);

  const Json gen = read_json(dir + "/generate.json");
  const std::vector<int> before = ids_of(gen.at("segments").as_array()[0]);
  const std::vector<int> after = ids_of(gen.at("segments").as_array()[1]);
  const std::vector<int> want_tokens = ids_of(gen.at("tokens"));
  CHECK(ids_of(read_json(dir + "/prompt_segments.json").as_array()[0]) == before);

  // [before ids, Q image embeddings, after ids] -> embeds [T, D]
  const int Q = enc.num_image_tokens();
  const int T = static_cast<int>(before.size()) + Q + static_cast<int>(after.size());
  std::vector<float> embeds(static_cast<size_t>(T) * D);
  float* row = embeds.data();
  phi2_embed_tokens(row, w, before.data(), static_cast<int>(before.size()));
  row += before.size() * D;
  std::copy(image.begin(), image.end(), row);
  row += static_cast<size_t>(Q) * D;
  phi2_embed_tokens(row, w, after.data(), static_cast<int>(after.size()));

  std::map<std::string, std::vector<float>> got;
  Phi2State state(lc);
  std::vector<float> logits(static_cast<size_t>(T) * lc.vocab_size);
  phi2_forward(logits.data(), state, w, lc, embeds.data(), T, Phi2Logits::All,
               [&](const std::string& name, const float* d, const std::vector<int64_t>& s) {
                 got[name].assign(d, d + s[0] * s[1]);
                 CHECK(s[0] == T);
               });
  CHECK(got.size() == static_cast<size_t>(lc.layers + 3));
  for (const auto& [name, values] : got) {
    const NpyArray want = read_npy(dir + "/" + name + ".npy");
    test::check_close("image+prompt " + config + " " + name, values, want.to_f32(),
                      test::tolerance_for("pipeline/" + config, name));
  }

  Phi2State s2(lc);
  Rng rng(0);
  GenerateOptions opt;
  opt.max_new_tokens = static_cast<int>(want_tokens.size());
  opt.eos_id = -1;
  const std::vector<int> tokens = phi2_generate(s2, w, lc, embeds.data(), T, SamplerConfig{}, rng, opt, {});
  CHECK(tokens == want_tokens);
}

}  // namespace

TEST_CASE("image + prompt: llm activations and 16 greedy tokens match the reference (tiny)") {
  check_image_prompt("tiny");
}
TEST_CASE("image + prompt: llm activations and 16 greedy tokens match the reference (heads)") {
  check_image_prompt("heads");
}
