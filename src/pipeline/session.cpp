// A conversation about one image: see include/tinygptv/session.h.
#include "tinygptv/session.h"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <utility>

#include "tinygptv/error.h"

namespace tgv {

Model::Model(const std::string& path) : Model(ModelFile(path)) {}

Model::Model(ModelFile model_file) : file(std::move(model_file)), image(file), llm(load_phi2(file)) {}

bool Model::random_weights() const {
  auto it = file.file().metadata().find("random_weights");
  return it != file.file().metadata().end() && it->second == "true";
}

bool Model::demo_model() const {
  auto it = file.file().metadata().find("demo_model");
  return it != file.file().metadata().end() && it->second == "true";
}

std::vector<float> assemble_embeddings(const Phi2Weights& llm, const std::vector<std::vector<int>>& segments,
                                       const std::vector<float>& image, int D) {
  if (segments.size() > 2) fail("the prompt has <ImageHere> more than once");
  std::vector<float> embeds;  // [T, D]
  for (size_t s = 0; s < segments.size(); s++) {
    if (s == 1) embeds.insert(embeds.end(), image.begin(), image.end());  // the image between the segments
    const auto& ids = segments[s];
    const size_t at = embeds.size();
    embeds.resize(at + ids.size() * static_cast<size_t>(D));
    phi2_embed_tokens(embeds.data() + at, llm, ids.data(), static_cast<int>(ids.size()));
  }
  return embeds;
}

ChatSession::ChatSession(const Model& model, const Tokenizer& tokenizer, ChatTemplate chat_template)
    : model_(model), tokenizer_(tokenizer), conversation_(chat_template), state_(model.config().llm) {}

void ChatSession::set_image(const std::vector<float>& pixels, const DumpFn& progress, QFormerCrossAttention* cross_attention) {
  const int S = model_.image.image_size();
  if (pixels.size() != static_cast<size_t>(3) * S * S) fail("set_image: pixels are not [3, S, S] for S = " + std::to_string(S));
  image_ = model_.image.encode(pixels.data(), progress, cross_attention);
  state_.reset();
  cached_keys_.clear();
}

namespace {

// How much of `text` can be shown now: all but a trailing piece that could still
// grow into the stop string ("#" or "##" at the end).
size_t printable_prefix(std::string_view text) {
  for (size_t k = std::min(text.size(), kStopString.size() - 1); k > 0; k--)
    if (text.substr(text.size() - k) == kStopString.substr(0, k)) return text.size() - k;
  return text.size();
}

}  // namespace

std::string ChatSession::ask(const std::string& question, const AskOptions& options, Rng& rng,
                             const std::function<void(std::string_view)>& on_text) {
  if (image_.empty()) fail("ask: no image (call set_image first)");
  const LlmConfig& c = model_.config().llm;
  const int D = c.hidden, Q = model_.image.num_image_tokens();
  conversation_.ask(question);
  const auto segments = tokenize_segments(tokenizer_, conversation_.prompt());
  if (segments.size() != 2) fail("ask: the prompt must hold <ImageHere> exactly once");

  // The prompt as cache keys (token ids; -1-q for image row q) and as embeddings [T, D].
  std::vector<long> keys(segments[0].begin(), segments[0].end());
  for (int q = 0; q < Q; q++) keys.push_back(-1 - q);
  keys.insert(keys.end(), segments[1].begin(), segments[1].end());
  std::vector<float> embeds = assemble_embeddings(model_.llm, segments, image_, D);

  // Upstream keeps the last (max_length - max_new_tokens) rows when the conversation
  // grows past max_length (and warns that the model will not see the rest).
  const int limit = std::min(options.context_limit, c.max_positions);
  const long over = static_cast<long>(keys.size()) + options.max_new_tokens - limit;
  if (over > 0) {
    if (over >= static_cast<long>(keys.size())) fail("ask: --max-tokens leaves no room for the prompt in the context");
    std::fprintf(stderr, "warning: the conversation is longer than %d tokens; the model will not see its beginning\n", limit);
    keys.erase(keys.begin(), keys.begin() + over);
    embeds.erase(embeds.begin(), embeds.begin() + over * D);
  }

  // Keep the cached prefix this prompt shares; run the rest.
  size_t keep = 0;
  while (keep < cached_keys_.size() && keep < keys.size() && static_cast<int>(keep) < state_.pos && cached_keys_[keep] == keys[keep]) keep++;
  if (keep == keys.size()) keep--;  // at least one row must run to get the next logits
  state_.pos = static_cast<int>(keep);
  const int T = static_cast<int>(keys.size() - keep);

  std::string raw;      // the decoded answer so far
  size_t shown = 0;     // bytes of raw already given to on_text
  bool started = false; // leading whitespace is not shown
  StreamDecoder decoder(tokenizer_);
  GenerateOptions gen;
  gen.max_new_tokens = options.max_new_tokens;
  gen.min_new_tokens = 1;  // upstream generate(min_length=1): the answer is never empty
  gen.eos_id = tokenizer_.eos_id() >= 0 ? tokenizer_.eos_id() : gen.eos_id;
  const auto t_start = std::chrono::steady_clock::now();
  auto t_first = t_start;  // when the first answer token was sampled
  bool any = false;
  const std::vector<int> generated = phi2_generate(
      state_, model_.llm, c, embeds.data() + keep * D, T, options.sampler, rng, gen, [&](int id) {
        if (!any) t_first = std::chrono::steady_clock::now(), any = true;
        // Phi-2's lm_head has 51200 rows but the tokenizer 50295 ids; the rows past it
        // were never trained, so a real model does not pick them. A random test model
        // can: such an id has no text and is skipped.
        if (id < tokenizer_.size()) raw += decoder.push(id);
        const size_t stop = raw.find(kStopString);
        const size_t upto = stop != std::string::npos ? stop : printable_prefix(raw);
        if (!started) {
          const size_t first = raw.find_first_not_of(" \t\n\r");
          if (first == std::string::npos || first >= upto) return stop == std::string::npos;
          shown = first;
          started = true;
        }
        if (on_text && upto > shown) on_text(std::string_view(raw).substr(shown, upto - shown));
        shown = std::max(shown, upto);
        return stop == std::string::npos;
      });
  const auto t_end = std::chrono::steady_clock::now();
  if (!any) t_first = t_end;  // no token came (end of text at once)
  last_turn_ = {T, std::chrono::duration<double>(t_first - t_start).count(), static_cast<int>(generated.size()),
                std::chrono::duration<double>(t_end - t_first).count()};
  raw += decoder.finish();
  if (on_text && started && raw.find(kStopString) == std::string::npos && raw.size() > shown) on_text(std::string_view(raw).substr(shown));

  // What the cache now holds: the prompt, then the generated ids that were fed back.
  cached_keys_ = keys;
  for (int i = 0; static_cast<int>(cached_keys_.size()) < state_.pos && i < static_cast<int>(generated.size()); i++)
    cached_keys_.push_back(generated[static_cast<size_t>(i)]);
  cached_keys_.resize(std::min(cached_keys_.size(), static_cast<size_t>(state_.pos)));

  std::string answer = extract_answer(raw);
  conversation_.answer(answer);
  return answer;
}

}  // namespace tgv
