// A conversation about one image (model.md section 7), the main job of tinygptv:
//
//   Model model("model.safetensors");                   // mmapped; vision, Q-Former, projector, Phi-2
//   Tokenizer tok = Tokenizer::load(default_tokenizer_dir());
//   ChatSession chat(model, tok, default_template(model.config().vision.image_size));
//   chat.set_image(load_pixels("photo.jpg", model.image.image_size()));   // encoded once
//   std::string answer = chat.ask("What is in this image?", options, rng, print_text);
//
// Each turn: the template writes the whole conversation as text; the text is split on
// <ImageHere> and each side tokenised on its own; the token embeddings and the Q image
// embeddings are laid end to end ([before, image, after], positions 0..T-1 over the
// mixed sequence); Phi-2 generates until <|endoftext|>, "###" or the token limit.
// The KV cache keeps the longest prefix the new prompt shares with what it already
// holds, so a later turn runs only its new tokens; the result is the same as
// recomputing the whole prompt, which is what upstream does.
//
// The edges of a turn (docs/limits.md):
//   - a conversation longer than the context: upstream's rule (MiniGPT-4 Chat.answer_prepare),
//     the model sees the last (context_limit - max_new_tokens) rows, with a warning;
//   - a question that cannot fit on its own (its turn, or the whole first prompt, plus
//     max_new_tokens over the context), invalid UTF-8, a NUL byte or "<ImageHere>" in it:
//     a QuestionError, and the conversation is as before, so the next question can follow;
//   - AskOptions::stop (Ctrl-C in the CLI): the answer ends after the current token and is
//     kept, as if --max-tokens had ended it;
//   - the model file changed on disk since it was loaded: a tgv::Error before the turn
//     reads any weight (MappedFile::check_unchanged).
#pragma once
#include <atomic>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "tinygptv/chat.h"
#include "tinygptv/error.h"
#include "tinygptv/image_encoder.h"
#include "tinygptv/model_file.h"
#include "tinygptv/phi2.h"
#include "tinygptv/sampler.h"
#include "tinygptv/tokenizer.h"

namespace tgv {

// Everything one model file holds, loaded (shape-checked, mmapped). Before any tensor
// is read, the config's weight count is checked against the file's size (an edited
// config asking for more weights than the file can hold is one message, not a long
// allocation); then every tensor the config implies is checked by name and shape.
struct Model {
  explicit Model(const std::string& path);
  explicit Model(ModelFile model_file);  // e.g. a model built in memory (random_model.h)
  const ModelConfig& config() const { return file.config(); }
  // Throws if the file was truncated or rewritten since it was mapped (mapped_file.h).
  void check_unchanged() const { file.file().bytes().check_unchanged(); }
  // Tensors in the file that a model of this config does not read (e.g. the layers past
  // an edited "layers"), in file order: the CLI mentions them.
  std::vector<std::string> unused_tensors() const;
  // True when the file says its weights are random (the committed test models).
  bool random_weights() const;
  // True for the small demo model trained on synthetic shapes (weights/demo/, docs/demo.md).
  bool demo_model() const;

  ModelFile file;
  ImageEncoder image;
  Phi2Weights llm;
};

// Input embeddings [T, D] for prompt segments with the image embeddings [Q, D]
// between the first and second segment (at most two segments).
std::vector<float> assemble_embeddings(const Phi2Weights& llm, const std::vector<std::vector<int>>& segments,
                                       const std::vector<float>& image, int D);

struct AskOptions {
  SamplerConfig sampler = upstream_sampling(0);  // temperature 1, HF's default top-k 50, top_p 0.9, penalty 1.05
  int max_new_tokens = 300;
  int context_limit = 2000;  // upstream max_length: older rows are dropped beyond it
  // When given: the answer ends after the token being generated once this is true (it
  // is read after every token; set from a signal handler, hence an atomic).
  const std::atomic<bool>* stop = nullptr;
};

// The longest question ask() tokenises (bytes); a longer one is a QuestionError.
inline constexpr size_t kMaxQuestionBytes = size_t{1} << 20;

// A question ask() refused before changing anything: the conversation and the cache are
// as they were, and the next question can follow. Other errors (the model file changed)
// end the session.
struct QuestionError : Error {
  explicit QuestionError(const std::string& what) : Error(what) {}
};

class ChatSession {
 public:
  // kv_cache: the KV cache's element type, F32 (exact) or F16 (Phi2State, phi2.h).
  ChatSession(const Model& model, const Tokenizer& tokenizer, ChatTemplate chat_template, DType kv_cache = DType::F32);

  // pixels [3, S, S] -> image embeddings [Q, D], kept for every turn; cross_attention,
  // when given, receives what the Q-Former's queries looked at.
  void set_image(const std::vector<float>& pixels, const DumpFn& progress = {}, QFormerCrossAttention* cross_attention = nullptr);

  // One turn. on_text receives the answer's text as it is generated (leading
  // whitespace and a possible "###" held back); returns the answer as upstream
  // reports it (before "###", stripped), which also goes into the conversation.
  // Throws QuestionError for a question it refuses (see the top of this file).
  std::string ask(const std::string& question, const AskOptions& options, Rng& rng,
                  const std::function<void(std::string_view)>& on_text = {});

  // What the last ask() did, for --timings: the prompt rows run (after the cached
  // prefix) and the time to the first answer token (the prefill and one sample), then
  // the answer tokens and the time of the rest (one decode step and sample each).
  // context_rows: the prompt rows the model saw; dropped_rows: the conversation's first
  // rows it did not (upstream's truncation); stopped: AskOptions::stop ended the answer.
  struct TurnStats {
    int prompt_tokens = 0;
    double prompt_seconds = 0;
    int answer_tokens = 0;
    double answer_seconds = 0;
    int context_rows = 0;
    int dropped_rows = 0;
    bool stopped = false;
  };
  const TurnStats& last_turn() const { return last_turn_; }

  const Conversation& conversation() const { return conversation_; }
  void forget_cache() { state_.reset(); cached_keys_.clear(); }  // the next turn recomputes everything
  int cached_positions() const { return state_.pos; }  // for the tests and statistics

 private:
  const Model& model_;
  Tokenizer tokenizer_;
  Conversation conversation_;
  std::vector<float> image_;      // [Q, D]
  Phi2State state_;
  std::vector<long> cached_keys_; // what each cached position holds: a token id, or -1-q for image row q
  TurnStats last_turn_;
};

}  // namespace tgv
