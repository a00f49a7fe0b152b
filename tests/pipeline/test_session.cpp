// The conversation loop on the committed demo model (random weights, real
// tokenizer): the KV-cache prefix reuse must give exactly what recomputing the
// whole prompt gives, and the prompt embeddings must be laid out as
// [text before, image, text after].
#include <doctest/doctest.h>

#include <cstring>
#include <string>

#include "tinygptv/error.h"
#include "tinygptv/session.h"

using namespace tgv;

namespace {

const std::string kModel = std::string(TGV_TEST_DATA) + "/models/tiny-pipeline.safetensors";
const std::string kTokenizer = std::string(TGV_TEST_DATA) + "/../../weights/tokenizer";

std::vector<float> test_pixels(int S) {
  std::vector<float> px(static_cast<size_t>(3) * S * S);
  for (size_t i = 0; i < px.size(); i++) px[i] = static_cast<float>((i * 7919) % 255) / 127.0f - 1.0f;
  return px;
}

AskOptions greedy(int n) {
  AskOptions o;
  o.sampler = SamplerConfig{};  // temperature 0: greedy, no penalty
  o.max_new_tokens = n;
  return o;
}

}  // namespace

TEST_CASE("assemble_embeddings: [before, image, after] rows") {
  Model model(kModel);
  const int D = model.config().llm.hidden, Q = model.image.num_image_tokens();
  std::vector<float> image(static_cast<size_t>(Q) * D);
  for (size_t i = 0; i < image.size(); i++) image[i] = static_cast<float>(i);
  const std::vector<std::vector<int>> segments = {{5, 7}, {11}};
  const std::vector<float> e = assemble_embeddings(model.llm, segments, image, D);
  REQUIRE(e.size() == static_cast<size_t>(2 + Q + 1) * D);
  std::vector<float> row(static_cast<size_t>(D));
  phi2_embed_tokens(row.data(), model.llm, &segments[0][1], 1);
  CHECK(std::memcmp(e.data() + D, row.data(), D * sizeof(float)) == 0);
  CHECK(std::memcmp(e.data() + 2 * D, image.data(), image.size() * sizeof(float)) == 0);
  phi2_embed_tokens(row.data(), model.llm, &segments[1][0], 1);
  CHECK(std::memcmp(e.data() + static_cast<size_t>(2 + Q) * D, row.data(), D * sizeof(float)) == 0);
  CHECK_THROWS_AS(assemble_embeddings(model.llm, {{1}, {2}, {3}}, image, D), Error);
}

TEST_CASE("a second turn that reuses the KV cache answers as a full recomputation does") {
  Model model(kModel);
  const Tokenizer tok = Tokenizer::load(kTokenizer);
  const auto px = test_pixels(model.image.image_size());
  Rng rng(0);

  ChatSession reuse(model, tok, ChatTemplate::MiniGPT4);
  reuse.set_image(px);
  const std::string a1 = reuse.ask("What is in this image?", greedy(8), rng);
  const int cached_after_first = reuse.cached_positions();
  const std::string a2 = reuse.ask("And what colour is it?", greedy(8), rng);

  ChatSession fresh(model, tok, ChatTemplate::MiniGPT4);
  fresh.set_image(px);
  CHECK(fresh.ask("What is in this image?", greedy(8), rng) == a1);
  fresh.forget_cache();
  CHECK(fresh.ask("And what colour is it?", greedy(8), rng) == a2);
  CHECK(fresh.conversation().prompt() == reuse.conversation().prompt());
  CHECK(cached_after_first > 32);  // the system text and the image stayed cached
}

TEST_CASE("streamed text is the answer as generated") {
  Model model(kModel);
  const Tokenizer tok = Tokenizer::load(kTokenizer);
  ChatSession chat(model, tok, ChatTemplate::MiniGPTv2);
  chat.set_image(test_pixels(model.image.image_size()));
  Rng rng(3);
  std::string streamed;
  AskOptions o;  // upstream sampling defaults
  o.max_new_tokens = 12;
  const std::string answer = chat.ask("[caption] describe", o, rng, [&](std::string_view t) { streamed += t; });
  // The streamed text, stripped, is the answer (both stop before any "###").
  CHECK(extract_answer(streamed) == answer);
  CHECK_THROWS_AS(ChatSession(model, tok, ChatTemplate::MiniGPT4).ask("no image yet", o, rng), Error);
}
