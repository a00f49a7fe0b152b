// A conversation about one image: see include/tinygptv/session.h.
#include "tinygptv/session.h"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <utility>

#include "tinygptv/error.h"
#include "tinygptv/json.h"
#include "tinygptv/model_cost.h"
#include "tinygptv/random_model.h"

namespace tgv {

namespace {

// The config against the file's size, before any tensor is read or any buffer sized
// from the config is allocated: every weight takes at least 4 bits in any dtype the
// loaders take (F32 32, F16/BF16 16, q8_0 8.5, q4_0 and q4_k 4.5), so a file shorter
// than half a byte per weight cannot be this model.
ModelFile checked_against_size(ModelFile mf) {
  const double weights = config_weight_count(mf.config());
  const double bytes = static_cast<double>(mf.file().bytes().size());
  if (weights / 2 > bytes) {
    char text[160];
    std::snprintf(text, sizeof text, "its config implies %.4g weights (at least %.4g bytes at 4 bits each) but the file is %.0f bytes",
                  weights, weights / 2, bytes);
    fail(mf.file().path() + ": " + text + "; the config does not describe this file's tensors");
  }
  return mf;
}

}  // namespace

Model::Model(const std::string& path) : Model(ModelFile(path)) {}

Model::Model(ModelFile model_file) : file(checked_against_size(std::move(model_file))), image(file), llm(load_phi2(file)) {}

std::vector<std::string> Model::unused_tensors() const {
  std::vector<std::string> read;
  for (const TensorEntry& e : model_tensors(config())) read.push_back(e.name);
  std::sort(read.begin(), read.end());
  std::vector<std::string> unused;
  for (const Tensor& t : file.file().tensors())
    if (!std::binary_search(read.begin(), read.end(), t.name)) unused.push_back(t.name);
  return unused;
}

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

ChatSession::ChatSession(const Model& model, const Tokenizer& tokenizer, ChatTemplate chat_template, DType kv_cache)
    : model_(model), tokenizer_(tokenizer), conversation_(chat_template), state_(model.config().llm, kv_cache) {}

void ChatSession::set_image(const std::vector<float>& pixels, const DumpFn& progress, QFormerCrossAttention* cross_attention) {
  model_.check_unchanged();
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

// A question the prompt can take: UTF-8 (the tokenizer's input), no NUL byte (not text
// a person typed), and no "<ImageHere>" (upstream splits the prompt on it and asserts
// one image per marker). Past kMaxQuestionBytes it is refused before it is tokenised:
// no Phi-2 token is 128 bytes long, so 1 MiB is over 8192 tokens, more than any
// context the session allows (context_limit 2000, max_positions 2048 upstream).
void check_question(const std::string& question) {
  if (question.size() > kMaxQuestionBytes)
    throw QuestionError("the question is " + std::to_string(question.size()) + " bytes, more than the " + std::to_string(kMaxQuestionBytes) +
                        " a question may have (no context holds it)");
  for (size_t i = 0; i < question.size();) {
    const auto b = static_cast<uint8_t>(question[i]);
    if (b == 0) throw QuestionError("the question contains a NUL byte (at byte " + std::to_string(i) + ")");
    if (b < 0x80) {
      i++;
      continue;
    }
    uint32_t cp = 0;
    const int n = utf8_decode(question, i, &cp);
    if (n == 0) throw QuestionError("the question is not valid UTF-8 (at byte " + std::to_string(i) + ")");
    i += static_cast<size_t>(n);
  }
  if (question.find("<ImageHere>") != std::string::npos)
    throw QuestionError("the question contains <ImageHere>, the marker of the image's place in the prompt");
}

// Rows of a prompt split on <ImageHere>: its tokens and Q image rows per marker.
size_t prompt_rows(const std::vector<std::vector<int>>& segments, int Q) {
  size_t rows = static_cast<size_t>(Q) * (segments.size() - 1);
  for (const auto& s : segments) rows += s.size();
  return rows;
}

}  // namespace

std::string ChatSession::ask(const std::string& question, const AskOptions& options, Rng& rng,
                             const std::function<void(std::string_view)>& on_text) {
  if (image_.empty()) fail("ask: no image (call set_image first)");
  model_.check_unchanged();
  check_question(question);
  const LlmConfig& c = model_.config().llm;
  const int D = c.hidden, Q = model_.image.num_image_tokens();
  Conversation next = conversation_;  // becomes the conversation once the turn has run
  next.ask(question);
  const std::string prompt = next.prompt();
  const auto segments = tokenize_segments(tokenizer_, prompt);
  if (segments.size() != 2) fail("ask: the prompt must hold <ImageHere> exactly once");

  // What must fit: the answer's max_new_tokens and this turn on its own (the whole
  // prompt on the first turn; from the human role on, later). Anything before it is
  // what upstream's truncation below may drop.
  const int limit = std::min(options.context_limit, c.max_positions);
  const long room = static_cast<long>(limit) - options.max_new_tokens;  // rows the prompt may fill
  if (room < 1)
    throw QuestionError("--max-tokens " + std::to_string(options.max_new_tokens) + " leaves no room for the prompt in the context of " +
                        std::to_string(limit) + " tokens");
  const size_t turn_start = conversation_.empty() ? 0 : conversation_.history().size();
  const size_t turn_rows = prompt_rows(tokenize_segments(tokenizer_, std::string_view(prompt).substr(turn_start)), Q);
  if (static_cast<long>(turn_rows) > room)
    throw QuestionError("the question is too long: this turn's prompt is " + std::to_string(turn_rows) + " tokens, but the context of " +
                        std::to_string(limit) + " tokens holds at most " + std::to_string(room) + " beside the answer's " +
                        std::to_string(options.max_new_tokens) + " (--max-tokens)");

  // The prompt as cache keys (token ids; -1-q for image row q) and as embeddings [T, D].
  std::vector<long> keys(segments[0].begin(), segments[0].end());
  for (int q = 0; q < Q; q++) keys.push_back(-1 - q);
  keys.insert(keys.end(), segments[1].begin(), segments[1].end());
  std::vector<float> embeds = assemble_embeddings(model_.llm, segments, image_, D);

  // Upstream keeps the last (max_length - max_new_tokens) rows when the conversation
  // grows past max_length (and warns that the model will not see the rest):
  //   begin_idx = max(0, embs.shape[1] + max_new_tokens - max_length); embs = embs[:, begin_idx:]
  const long over = static_cast<long>(keys.size()) + options.max_new_tokens - limit;
  if (over > 0) {  // over < keys.size(): this turn alone fits (checked above)
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
  bool any = false, stopped = false;
  std::vector<int> generated;
  try {
    generated = phi2_generate(state_, model_.llm, c, embeds.data() + keep * D, T, options.sampler, rng, gen, [&](int id) {
      if (!any) t_first = std::chrono::steady_clock::now(), any = true;
      // Phi-2's lm_head has 51200 rows but the tokenizer 50295 ids; the rows past it
      // were never trained, so a real model does not pick them. A random test model
      // can: such an id has no text and is skipped.
      if (id < tokenizer_.size()) raw += decoder.push(id);
      const size_t stop = raw.find(kStopString);
      const size_t upto = stop != std::string::npos ? stop : printable_prefix(raw);
      if (!started) {
        const size_t first = raw.find_first_not_of(" \t\n\r");
        if (first != std::string::npos && first < upto) shown = first, started = true;
      }
      if (started) {
        if (on_text && upto > shown) on_text(std::string_view(raw).substr(shown, upto - shown));
        shown = std::max(shown, upto);
      }
      if (stop != std::string::npos) return false;
      if (options.stop && options.stop->load()) return !(stopped = true);  // Ctrl-C: this token was the last
      return true;
    });
  } catch (...) {  // the cache may hold part of this turn: forget it, keep the conversation as it was
    forget_cache();
    throw;
  }
  const auto t_end = std::chrono::steady_clock::now();
  if (!any) t_first = t_end;  // no token came (end of text at once)
  last_turn_.prompt_tokens = T;
  last_turn_.prompt_seconds = std::chrono::duration<double>(t_first - t_start).count();
  last_turn_.answer_tokens = static_cast<int>(generated.size());
  last_turn_.answer_seconds = std::chrono::duration<double>(t_end - t_first).count();
  last_turn_.context_rows = static_cast<int>(keys.size());
  last_turn_.dropped_rows = static_cast<int>(std::max(over, 0L));
  last_turn_.stopped = stopped;
  raw += decoder.finish();
  if (on_text && started && raw.find(kStopString) == std::string::npos && raw.size() > shown) on_text(std::string_view(raw).substr(shown));

  // What the cache now holds: the prompt, then the generated ids that were fed back.
  cached_keys_ = keys;
  for (int i = 0; static_cast<int>(cached_keys_.size()) < state_.pos && i < static_cast<int>(generated.size()); i++)
    cached_keys_.push_back(generated[static_cast<size_t>(i)]);
  cached_keys_.resize(std::min(cached_keys_.size(), static_cast<size_t>(state_.pos)));

  std::string answer = extract_answer(raw);
  next.answer(answer);
  conversation_ = std::move(next);
  return answer;
}

}  // namespace tgv
