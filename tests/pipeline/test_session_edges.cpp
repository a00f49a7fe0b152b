// The hard edges of a session (docs/limits.md), on the committed tiny model (random
// weights, real tokenizer):
//   - a conversation past the 2000-token context drops its first rows exactly as
//     upstream's answer_prepare does (checked against a recomputation written from
//     that rule: embeddings of the whole prompt, the first rows cut, generate);
//   - a question that cannot fit on its own, invalid UTF-8, a NUL byte or <ImageHere>
//     in it: a QuestionError that leaves the conversation as it was;
//   - the stop flag (Ctrl-C) ends the answer after the current token and keeps it;
//   - a model file truncated or rewritten after loading: an error before the turn
//     reads a weight, never SIGBUS;
//   - a config that disagrees with the tensors: one message naming the tensor and
//     both shapes; an absurd config: one message before anything is allocated;
//   - a pixel-array file far larger than [3, S, S]: refused before it is read.
#include <doctest/doctest.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <functional>
#include <string>

#include "tinygptv/error.h"
#include "tinygptv/json.h"
#include "tinygptv/model_cost.h"
#include "tinygptv/random_model.h"
#include "tinygptv/safetensors.h"
#include "tinygptv/session.h"

using namespace tgv;
namespace fs = std::filesystem;

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

fs::path temp_path(const std::string& tag) {
  static int n = 0;
  return fs::temp_directory_path() / ("tgv_test_edges_" + std::to_string(::getpid()) + "_" + std::to_string(n++) + "_" + tag);
}

std::string words(int n) {  // " word" is one token: about n tokens
  std::string s = "Describe";
  for (int i = 0; i < n; i++) s += " word";
  return s;
}

// Rows of the prompt a conversation would send after asking `question`: its tokens
// and the Q image rows (written out here from model.md section 7, not taken from the session).
size_t prompt_rows_after(const ChatSession& chat, const Tokenizer& tok, const std::string& question, int Q,
                         std::vector<std::vector<int>>* segments) {
  Conversation c = chat.conversation();
  c.ask(question);
  *segments = tokenize_segments(tok, c.prompt());
  REQUIRE(segments->size() == 2);
  return (*segments)[0].size() + static_cast<size_t>(Q) + (*segments)[1].size();
}

// Upstream's Chat.answer_prepare + generate on the whole prompt, from scratch:
//   embs = get_context_emb(prompt, img_list); begin_idx = max(0, len + max_new_tokens - max_length)
//   embs = embs[:, begin_idx:]; generate(greedy, min_length=1), stopped at "###"
std::string upstream_answer(const Model& model, const Tokenizer& tok, const std::vector<float>& image,
                            const std::vector<std::vector<int>>& segments, int max_new, int max_length) {
  const int D = model.config().llm.hidden;
  std::vector<float> embeds = assemble_embeddings(model.llm, segments, image, D);
  const long rows = static_cast<long>(embeds.size() / D);
  const long begin = std::max(0L, rows + max_new - max_length);
  Phi2State state(model.config().llm);
  GenerateOptions gen;
  gen.max_new_tokens = max_new;
  gen.min_new_tokens = 1;
  gen.eos_id = tok.eos_id();
  Rng rng(0);
  std::vector<int> text_ids;
  phi2_generate(state, model.llm, model.config().llm, embeds.data() + begin * D, static_cast<int>(rows - begin), SamplerConfig{}, rng,
                gen, [&](int id) {
                  if (id < tok.size()) text_ids.push_back(id);
                  return tok.decode(text_ids).find("###") == std::string::npos;
                });
  return extract_answer(tok.decode(text_ids));
}

// A copy of `src` whose config has been edited by `edit` (tensors and other metadata as they are).
fs::path with_config(const std::string& src, const std::function<void(ModelConfig&)>& edit) {
  const SafetensorsFile f(src);
  ModelConfig c = ModelConfig::from_json(Json::parse(f.metadata().at("config")));
  edit(c);
  std::vector<std::pair<std::string, std::string>> meta;
  for (const auto& [k, v] : f.metadata()) meta.emplace_back(k, k == "config" ? c.to_json().dump() : v);
  std::vector<TensorEntry> entries;
  for (const Tensor& t : f.tensors()) entries.push_back({t.name, t.dtype, t.shape});
  const fs::path out = temp_path("edited.safetensors");
  write_safetensors(out.string(), entries, meta, [&](size_t i, std::vector<uint8_t>& bytes) {
    const Tensor& t = f.tensors()[i];
    const auto* p = static_cast<const uint8_t*>(t.data);
    bytes.assign(p, p + t.nbytes());
  });
  return out;
}

std::string load_error(const fs::path& path) {
  try {
    Model m(path.string());
  } catch (const Error& e) {
    return e.what();
  }
  return "";
}

}  // namespace

TEST_CASE("a conversation past the context: the model sees the last rows, as upstream's answer_prepare cuts them") {
  Model model(kModel);
  const Tokenizer tok = Tokenizer::load(kTokenizer);
  const auto px = test_pixels(model.image.image_size());
  const std::vector<float> image = model.image.encode(px.data(), {});
  const int Q = model.image.num_image_tokens(), max_new = 8, max_length = 2000;
  ChatSession chat(model, tok, ChatTemplate::MiniGPT4);
  chat.set_image(px);
  Rng rng(0);
  int cut_turns = 0;
  for (int turn = 0; turn < 12 && cut_turns < 3; turn++) {
    const std::string question = words(450) + " " + std::to_string(turn);
    std::vector<std::vector<int>> segments;
    const size_t rows = prompt_rows_after(chat, tok, question, Q, &segments);
    const long dropped = std::max(0L, static_cast<long>(rows) + max_new - max_length);
    const std::string answer = chat.ask(question, greedy(max_new), rng);
    CAPTURE(turn);
    CHECK(chat.last_turn().dropped_rows == dropped);
    CHECK(chat.last_turn().context_rows == static_cast<long>(rows) - dropped);
    CHECK(chat.last_turn().context_rows + max_new <= max_length);
    if (dropped > 0) {
      cut_turns++;
      CHECK(answer == upstream_answer(model, tok, image, segments, max_new, max_length));
    }
  }
  CHECK(cut_turns == 3);  // the conversation went past the context and kept going
}

TEST_CASE("a question that cannot fit the context on its own is refused; the conversation carries on") {
  Model model(kModel);
  const Tokenizer tok = Tokenizer::load(kTokenizer);
  const auto px = test_pixels(model.image.image_size());
  Rng rng(0);
  ChatSession chat(model, tok, ChatTemplate::MiniGPT4);
  chat.set_image(px);

  // The first turn: its whole prompt (system, image, question) must fit beside the answer.
  CHECK_THROWS_AS(chat.ask(words(2100), greedy(8), rng), QuestionError);
  try {
    chat.ask(words(2100), greedy(8), rng);
  } catch (const QuestionError& e) {
    const std::string msg = e.what();
    CAPTURE(msg);
    CHECK(msg.find("the question is too long") != std::string::npos);
    CHECK(msg.find("context of 2000 tokens holds at most 1992") != std::string::npos);
  }
  CHECK(chat.conversation().empty());
  CHECK_THROWS_WITH_AS(chat.ask("What is this?", greedy(2000), rng), "--max-tokens 2000 leaves no room for the prompt in the context of 2000 tokens",
                       QuestionError);

  // After a refusal the session answers as a fresh one does.
  const std::string first = chat.ask("What is this?", greedy(8), rng);
  ChatSession fresh(model, tok, ChatTemplate::MiniGPT4);
  fresh.set_image(px);
  CHECK(fresh.ask("What is this?", greedy(8), rng) == first);

  // A later turn: its own rows must fit (the earlier ones are what upstream's cut drops).
  const std::string before = chat.conversation().prompt();
  CHECK_THROWS_AS(chat.ask(words(2000), greedy(8), rng), QuestionError);
  CHECK(chat.conversation().prompt() == before);
  const std::string second = chat.ask("And the colour?", greedy(8), rng);
  CHECK(fresh.ask("And the colour?", greedy(8), rng) == second);
  CHECK(chat.conversation().prompt() == fresh.conversation().prompt());
}

TEST_CASE("invalid UTF-8, a NUL byte or <ImageHere> in a question: refused, the conversation unchanged; an empty question is fine") {
  Model model(kModel);
  const Tokenizer tok = Tokenizer::load(kTokenizer);
  Rng rng(0);
  ChatSession chat(model, tok, ChatTemplate::MiniGPT4);
  chat.set_image(test_pixels(model.image.image_size()));
  CHECK_THROWS_WITH_AS(chat.ask("abc\xff", greedy(4), rng), "the question is not valid UTF-8 (at byte 3)", QuestionError);
  CHECK_THROWS_WITH_AS(chat.ask("a\xc0\xaf", greedy(4), rng), "the question is not valid UTF-8 (at byte 1)", QuestionError);  // overlong '/'
  CHECK_THROWS_WITH_AS(chat.ask("\xe2\x82", greedy(4), rng), "the question is not valid UTF-8 (at byte 0)", QuestionError);   // cut short
  CHECK_THROWS_WITH_AS(chat.ask("\xed\xa0\x80", greedy(4), rng), "the question is not valid UTF-8 (at byte 0)", QuestionError);  // a surrogate
  CHECK_THROWS_WITH_AS(chat.ask(std::string("ab\0cd", 5), greedy(4), rng), "the question contains a NUL byte (at byte 2)", QuestionError);
  CHECK_THROWS_AS(chat.ask("see <ImageHere> twice", greedy(4), rng), QuestionError);
  CHECK_THROWS_WITH_AS(chat.ask(std::string(kMaxQuestionBytes + 1, 'a'), greedy(4), rng),
                       "the question is 1048577 bytes, more than the 1048576 a question may have (no context holds it)", QuestionError);
  CHECK(chat.conversation().empty());
  CHECK(chat.cached_positions() == 0);  // nothing ran

  // Valid UTF-8 beyond ASCII goes through; so does an empty question (upstream takes it too).
  chat.ask("Qu'est-ce que c'est ? \xf0\x9f\x90\xb1", greedy(4), rng);
  chat.ask("", greedy(4), rng);
  CHECK(chat.conversation().prompt().find("###Human: ###Assistant: ") != std::string::npos);
}

TEST_CASE("the stop flag (Ctrl-C) ends the answer after the current token and keeps it") {
  Model model(kModel);
  const Tokenizer tok = Tokenizer::load(kTokenizer);
  const auto px = test_pixels(model.image.image_size());
  Rng rng(0);
  ChatSession full(model, tok, ChatTemplate::MiniGPT4);
  full.set_image(px);
  const std::string whole = full.ask("What is in this image?", greedy(64), rng);

  ChatSession chat(model, tok, ChatTemplate::MiniGPT4);
  chat.set_image(px);
  std::atomic<bool> stop{false};
  AskOptions o = greedy(64);
  o.stop = &stop;
  std::string streamed;
  const std::string part = chat.ask("What is in this image?", o, rng, [&](std::string_view t) {
    streamed += t;
    stop = true;  // as the handler would, during the first piece of text
  });
  CAPTURE(whole);
  CAPTURE(part);
  REQUIRE(full.last_turn().answer_tokens > chat.last_turn().answer_tokens);  // the whole answer is longer
  CHECK(chat.last_turn().stopped);
  CHECK(!full.last_turn().stopped);
  CHECK(whole.rfind(part, 0) == 0);  // what it had: the start of the answer
  CHECK(part == extract_answer(streamed));
  CHECK(chat.conversation().prompt().find("###Assistant: " + part + "###") != std::string::npos);  // kept in the conversation

  stop = false;  // the next turn runs as usual
  chat.ask("And then?", o, rng);
  CHECK(!chat.last_turn().stopped);
}

TEST_CASE("a model file truncated or rewritten after loading: the next turn is an error, never SIGBUS") {
  const fs::path path = temp_path("model.safetensors");
  fs::copy_file(kModel, path);
  const uintmax_t size = fs::file_size(path);
  const Tokenizer tok = Tokenizer::load(kTokenizer);
  Rng rng(0);
  {
    Model model(path.string());
    if (!model.file.file().bytes().mapped_from_file()) {
      MESSAGE("model files are read, not mapped, on this platform: nothing can change under them; skipped");
      fs::remove(path);
      return;
    }
    ChatSession chat(model, tok, ChatTemplate::MiniGPT4);
    chat.set_image(test_pixels(model.image.image_size()));
    chat.ask("What is this?", greedy(4), rng);
    fs::resize_file(path, size / 2);  // another process truncates it
    const std::string want = path.string() + " changed on disk after it was loaded (it was " + std::to_string(size) + " bytes, now " +
                             std::to_string(size / 2) + "); load it again";
    CHECK_THROWS_WITH_AS(chat.ask("And now?", greedy(4), rng), want.c_str(), Error);
    CHECK_THROWS_WITH_AS(chat.set_image(test_pixels(model.image.image_size())), want.c_str(), Error);
    CHECK_THROWS_WITH_AS(Model(path.string()), doctest::Contains("run past the end of the file"), Error);  // and at load: the offsets
  }
  {
    fs::remove(path);
    fs::copy_file(kModel, path);
    Model model(path.string());
    ChatSession chat(model, tok, ChatTemplate::MiniGPT4);
    chat.set_image(test_pixels(model.image.image_size()));
    fs::last_write_time(path, fs::last_write_time(path) + std::chrono::seconds(5));  // rewritten in place, same size
    CHECK_THROWS_WITH_AS(chat.ask("What is this?", greedy(4), rng), doctest::Contains("changed on disk after it was loaded (it was rewritten"),
                         Error);
  }
  fs::remove(path);
}

TEST_CASE("a config that disagrees with the tensors: one message naming the tensor and both shapes") {
  struct Case {
    std::function<void(ModelConfig&)> edit;
    std::string message;
  };
  const Case cases[] = {
      {[](ModelConfig& c) { c.vision.width = 64; },
       "tensor 'visual_encoder.patch_embed.proj.weight' has wrong shape; expected [64, 3, 14, 14], got [32, 3, 14, 14]"},
      {[](ModelConfig& c) { c.vision.mlp_dim = 96; },
       "tensor 'visual_encoder.blocks.0.mlp.fc1.weight' has wrong shape; expected [96, 32], got [64, 32]"},
      {[](ModelConfig& c) { c.qformer.query_tokens = 16; }, "tensor 'query_tokens' has wrong shape; expected [1, 16, 32], got [1, 32, 32]"},
      {[](ModelConfig& c) { c.projector.mid = 40; }, "tensor 'llama_proj.weight' has wrong shape; expected [40, 32], got [48, 32]"},
      {[](ModelConfig& c) { c.llm.intermediate = 96; },
       "tensor 'llama_model.model.layers.0.mlp.fc1.weight' has wrong shape; expected [96, 16], got [64, 16]"},
      {[](ModelConfig& c) { c.llm.heads = 4; },  // head dim 4, not 8: the q/k LayerNorms say so
       "tensor 'llama_model.model.layers.0.self_attn.q_layernorm.weight' has wrong shape; expected [4], got [8]"},
      {[](ModelConfig& c) { c.llm.vocab_size = 50295; },
       "tensor 'llama_model.model.embed_tokens.weight' has wrong shape; expected [50295, 16], got [51200, 16]"},
      {[](ModelConfig& c) { c.llm.layers = 3; }, "missing tensor 'llama_model.model.layers.2.input_layernorm.weight'"},
  };
  for (const Case& k : cases) {
    const fs::path path = with_config(kModel, k.edit);
    const std::string msg = load_error(path);
    fs::remove(path);
    CAPTURE(msg);
    CHECK(msg == path.string() + ": " + k.message);
  }

  // Fewer layers than the file holds: it loads, and the tensors it leaves are named.
  const fs::path path = with_config(kModel, [](ModelConfig& c) { c.llm.layers = 1; });
  const Model model(path.string());
  const std::vector<std::string> unused = model.unused_tensors();
  fs::remove(path);
  CHECK(unused.size() == 15);  // one Phi-2 layer: 7 weights and 8 biases
  for (const std::string& name : unused) CHECK(name.rfind("llama_model.model.layers.1.", 0) == 0);
  CHECK(Model(kModel).unused_tensors().empty());
}

TEST_CASE("an absurd config fails with one message before anything is allocated") {
  // A size no tensor pins down: the image grid (the 16 x 16 position table would be
  // interpolated to 100000 x 100000 rows of 32 floats, 1.3 TB).
  fs::path path = with_config(kModel, [](ModelConfig& c) { c.vision.image_size = 14 * 100000; });
  CHECK(load_error(path) == path.string() + ": config: vision.image_size / vision.patch_size = 100000 patches a side exceeds the limit of 128");
  fs::remove(path);

  // Sizes past what the file could hold: the weight count against the file's size.
  for (const auto& edit : std::vector<std::function<void(ModelConfig&)>>{
           [](ModelConfig& c) { c.llm.hidden = 1 << 20; },
           [](ModelConfig& c) { c.llm.layers = 1 << 24; },
           [](ModelConfig& c) { c.vision.mlp_dim = 1 << 24; }}) {
    path = with_config(kModel, edit);
    const std::string msg = load_error(path);
    fs::remove(path);
    CAPTURE(msg);
    CHECK(msg.find("its config implies") != std::string::npos);
    CHECK(msg.find("the config does not describe this file's tensors") != std::string::npos);
  }

  // Past the config's own range (hidden size 10^9).
  path = with_config(kModel, [](ModelConfig& c) { c.llm.hidden = 1000000000; });
  CHECK(load_error(path) == path.string() + ": config: llm.hidden = 1000000000 is out of range");
  fs::remove(path);
}

TEST_CASE("config_weight_count: every tensor model_tensors lists but the position table") {
  for (const ModelConfig& c : {tiny_model_config(224), tiny_model_config(448), full_model_config(224), full_model_config(448)}) {
    double sum = 0;
    for (const TensorEntry& e : model_tensors(c)) {
      if (e.name == "visual_encoder.pos_embed") continue;
      double n = 1;
      for (int64_t d : e.shape) n *= static_cast<double>(d);
      sum += n;
    }
    CHECK(config_weight_count(c) == sum);
  }
}

TEST_CASE("a pixel array file larger than a [3, S, S] array needs is refused before it is read") {
  const fs::path path = temp_path("pixels.npy");
  { std::ofstream f(path); }
  fs::resize_file(path, uintmax_t{1} << 30);  // 1 GiB, sparse: nothing is written
  CHECK_THROWS_WITH_AS(load_pixels(path.string(), 224),
                       (path.string() + ": 1073741824 bytes is more than a float32 [3, 224, 224] pixel array takes (602112 bytes of data)").c_str(),
                       Error);
  fs::remove(path);
}
