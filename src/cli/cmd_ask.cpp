// `tinygptv ask` and `tinygptv chat`: the main job. An image and a question in,
// the answer out, printed as it is generated.
//
//   tinygptv ask  --model M --image photo.jpg [options] "What is in this image?"
//   tinygptv chat --model M --image photo.jpg [options]      (one question per line on stdin)
//
// Options: --tokenizer DIR, --template minigpt4|minigptv2 (default from the model's
// image size), --task vqa|caption|refer|grounding|detection|identify (stage 4 tags),
// --temp T (0 = greedy; default 1.0), --top-p P (0.9), --top-k K (50, HF's default; 0 = off),
// --repetition-penalty R (1.05), --max-tokens N (300), --seed S (0), --threads N,
// --boxes OUT.png (draw the answer's grounded boxes on the image), --timings (at the end,
// on stderr: load and image-encode times, prompt and answer tokens with their rates;
// for chat, summed over the turns), --attention-map OUT.png [--attention-map-query N]
// (the Q-Former's cross-attention over the image patches as a heatmap: all queries
// averaged, or query N), --kv-cache f32|f16 (the KV cache's element type; f16 halves
// its memory and what each answer token reads from it, rounding keys and values to
// float16, as llama.cpp does by default). chat prints its `you> ` / `tinygptv> ` prompts when stdin is a
// terminal, unless --no-prompts (for scripts, and for WebAssembly under node, whose
// runtime reports every standard stream as a terminal).
//
// The edges (docs/limits.md): Ctrl-C during an answer stops it and keeps what was
// printed (cli/interrupt.h): ask then exits with status 130, chat reads the next
// question. chat skips blank lines, refuses a question with invalid UTF-8, a NUL byte
// or one too long for the context with a one-line error and reads the next one, and
// ends at end of input (including a closed stdin) with status 0.
#include <chrono>
#include <cstdio>
#include <fstream>
#include <string>
#include <vector>

#include <unistd.h>

#include "cli/args.h"
#include "cli/commands.h"
#include "cli/interrupt.h"
#include "cli/progress.h"
#include "tinygptv/attention_map.h"
#include "tinygptv/error.h"
#include "tinygptv/grounding.h"
#include "tinygptv/image.h"
#include "tinygptv/session.h"
#include "tinygptv/thread_pool.h"

namespace tgv::cli {

namespace {

const std::set<std::string> kOptions = {"--model", "--image", "--tokenizer", "--template", "--task", "--temp", "--top-p",
                                        "--top-k", "--repetition-penalty", "--max-tokens", "--seed", "--threads", "--boxes",
                                        "--attention-map", "--attention-map-query", "--kv-cache"};
const std::set<std::string> kSwitches = {"--timings", "--no-prompts"};

AskOptions ask_options(const Args& args) {
  AskOptions o;
  o.sampler.temperature = static_cast<float>(args.number_or("--temp", o.sampler.temperature));
  o.sampler.top_p = static_cast<float>(args.number_or("--top-p", o.sampler.top_p));
  o.sampler.top_k = static_cast<int>(args.integer_or("--top-k", o.sampler.top_k));
  o.sampler.repetition_penalty = static_cast<float>(args.number_or("--repetition-penalty", o.sampler.repetition_penalty));
  o.max_new_tokens = static_cast<int>(args.integer_or("--max-tokens", o.max_new_tokens));
  o.sampler.seed = static_cast<uint64_t>(args.integer_or("--seed", 0));
  if (o.sampler.temperature < 0) fail("--temp must be >= 0 (0 means greedy)");
  if (!(o.sampler.top_p > 0 && o.sampler.top_p <= 1)) fail("--top-p must be in (0, 1]");
  if (o.sampler.top_k < 0) fail("--top-k must be >= 0 (0 means off)");
  if (!(o.sampler.repetition_penalty > 0)) fail("--repetition-penalty must be > 0");
  if (o.max_new_tokens < 1) fail("--max-tokens must be at least 1");
  return o;
}

// Everything ask and chat share: the model, the tokenizer and the encoded image.
struct Setup {
  std::unique_ptr<Model> model;
  Tokenizer tokenizer;
  std::unique_ptr<ChatSession> session;
  std::string task;
  QFormerCrossAttention attention;  // filled only for --attention-map
  double load_seconds = 0, encode_seconds = 0;
};

// --timings: what the run took, summed over the turns.
struct Timings {
  ChatSession::TurnStats total;
  void add(const ChatSession::TurnStats& t) {
    total.prompt_tokens += t.prompt_tokens, total.prompt_seconds += t.prompt_seconds;
    total.answer_tokens += t.answer_tokens, total.answer_seconds += t.answer_seconds;
  }
  // The answer rate counts the decode steps: every answer token after a turn's first.
  void print(const Setup& s, int turns) const {
    const int steps = total.answer_tokens - turns;
    std::fprintf(stderr, "timings: load %.2f s, image encode %.2f s\n", s.load_seconds, s.encode_seconds);
    std::fprintf(stderr, "timings: prompt %d tokens in %.2f s (%.1f tokens/s)\n", total.prompt_tokens, total.prompt_seconds,
                 total.prompt_seconds > 0 ? total.prompt_tokens / total.prompt_seconds : 0.0);
    std::fprintf(stderr, "timings: answer %d tokens in %.2f s (%.2f tokens/s)\n", total.answer_tokens, total.answer_seconds,
                 steps > 0 && total.answer_seconds > 0 ? steps / total.answer_seconds : 0.0);
  }
};

Setup setup(const Args& args) {
  set_num_threads(static_cast<int>(args.integer_or("--threads", 0)));
  const std::string model_path = args.required("--model"), image_path = args.required("--image");
  task_prefix(args.get_or("--task", ""));  // refuse an unknown task or cache type before the slow steps
  const DType kv_cache = kv_cache_option(args);
  Progress progress;
  progress.start("loading model");
  const auto t0 = std::chrono::steady_clock::now();
  Setup s{std::make_unique<Model>(model_path), Tokenizer::load(args.get_or("--tokenizer", default_tokenizer_dir())), nullptr,
          args.get_or("--task", ""), {}};
  const auto t1 = std::chrono::steady_clock::now();
  s.load_seconds = std::chrono::duration<double>(t1 - t0).count();
  progress.done();
  if (s.model->random_weights())
    std::fprintf(stderr, "note: %s has random weights (a test model): the pipeline runs end to end, but its answers are noise.\n",
                 model_path.c_str());
  if (s.model->demo_model())
    std::fprintf(stderr,
                 "note: %s is the small demo model (docs/demo.md), trained by this project on synthetic scenes of coloured "
                 "circles, squares, triangles and stars; it knows nothing else. For real photos, convert the published "
                 "TinyGPT-V weights (weights/README.md) and pass that file with --model.\n",
                 model_path.c_str());
  if (const std::vector<std::string> unused = s.model->unused_tensors(); !unused.empty())
    std::fprintf(stderr, "note: %s holds %zu tensor%s a model of its config does not read (the first: '%s'); is its config edited?\n",
                 model_path.c_str(), unused.size(), unused.size() == 1 ? "" : "s", unused[0].c_str());
  const ModelConfig& c = s.model->config();
  const auto tmpl = args.get("--template");
  const ChatTemplate t = tmpl ? parse_template(*tmpl) : default_template(c.vision.image_size);
  s.session = std::make_unique<ChatSession>(*s.model, s.tokenizer, t, kv_cache);
  const std::vector<float> pixels = load_pixels(image_path, c.vision.image_size);
  progress.start("encoding the image");
  const auto t2 = std::chrono::steady_clock::now();
  s.session->set_image(pixels, progress.encoder_steps(c.vision.layers, c.qformer.layers),
                       args.get("--attention-map") ? &s.attention : nullptr);
  s.encode_seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t2).count();
  progress.done();
  return s;
}

// One line of stdin without its '\n' (false at the end of input, a closed stdin
// included). Memory stays bounded: past `max` bytes the rest of the line is read but
// not kept, and the session refuses the max + 1 bytes it gets.
bool read_line(std::string& line, size_t max) {
  line.clear();
  bool any = false;
  for (int c; (c = std::getchar()) != EOF;) {
    any = true;
    if (c == '\n') return true;
    if (line.size() <= max) line.push_back(static_cast<char>(c));
  }
  return any;
}

bool blank(const std::string& text) { return text.find_first_not_of(" \t\r\n\f\v") == std::string::npos; }

void print_text(std::string_view text) {
  std::fwrite(text.data(), 1, text.size(), stdout);
  std::fflush(stdout);
}

void write_png(const std::string& out, const ImageRGB8& img) {
  const std::vector<uint8_t> png = encode_png(img);
  std::ofstream f(out, std::ios::binary);
  f.write(reinterpret_cast<const char*>(png.data()), static_cast<std::streamsize>(png.size()));
  if (!f.flush()) fail("cannot write " + out);
}

void write_boxes(const std::string& image_path, const std::string& answer, const std::string& out) {
  const auto boxes = parse_boxes(answer);
  ImageRGB8 img = load_image(image_path);
  draw_boxes(img, boxes);
  write_png(out, img);
  std::fprintf(stderr, "%zu box%s drawn: %s\n", boxes.size(), boxes.size() == 1 ? "" : "es", out.c_str());
}

void write_attention_map(const std::string& image_path, const Setup& s, int query, const std::string& out) {
  float cls = 0;
  const int grid = s.model->image.patch_grid();
  const std::vector<float> w = attention_patch_weights(s.attention, grid, query, &cls);
  write_png(out, attention_overlay(load_image(image_path), w, grid));
  std::fprintf(stderr, "cross-attention of %s over the %dx%d patches: %s (%.0f%% went to the cls token)\n",
               query < 0 ? "all queries" : ("query " + std::to_string(query)).c_str(), grid, grid, out.c_str(), 100.0 * cls);
}

}  // namespace

int cmd_ask(int argc, char** argv) {
  Args args(argc, argv, kOptions, kSwitches);
  std::string question;
  for (const auto& p : args.positional()) question += (question.empty() ? "" : " ") + p;
  if (blank(question)) fail("ask: no question given (tinygptv ask --model M --image IMG \"What is in this image?\")");
  AskOptions options = ask_options(args);
  Setup s = setup(args);
  Rng rng(options.sampler.seed);
  AnswerInterrupt interrupt;
  options.stop = interrupt.begin();
  const std::string answer = s.session->ask(task_prefix(s.task) + question, options, rng, print_text);
  const bool interrupted = interrupt.end();
  std::printf("\n");
  if (interrupted) {
    std::fflush(stdout);
    std::fprintf(stderr, "(answer stopped: Ctrl-C)\n");
    return 130;
  }
  if (args.has("--timings")) {
    std::fflush(stdout);
    Timings t;
    t.add(s.session->last_turn());
    t.print(s, 1);
  }
  if (const auto boxes = args.get("--boxes")) write_boxes(args.required("--image"), answer, *boxes);
  if (const auto map = args.get("--attention-map"))
    write_attention_map(args.required("--image"), s, static_cast<int>(args.integer_or("--attention-map-query", -1)), *map);
  return 0;
}

int cmd_chat(int argc, char** argv) {
  Args args(argc, argv, kOptions, kSwitches);
  if (!args.positional().empty()) fail("chat: unexpected argument '" + args.positional()[0] + "' (questions come on stdin)");
  AskOptions options = ask_options(args);
  Setup s = setup(args);
  Rng rng(options.sampler.seed);
  const bool tty = !args.has("--no-prompts") && ::isatty(0) == 1;
  std::string line, last_answer;
  Timings timings;
  int turns = 0;
  AnswerInterrupt interrupt;
  for (;;) {
    if (tty) std::printf("you> "), std::fflush(stdout);
    if (!read_line(line, kMaxQuestionBytes)) {  // end of input, or stdin closed or unreadable
      if (tty) std::printf("\n");
      break;
    }
    if (!line.empty() && line.back() == '\r') line.pop_back();  // a CRLF line
    if (blank(line)) continue;
    if (line == "/quit" || line == "/exit") break;
    if (tty) std::printf("tinygptv> ");
    options.stop = interrupt.begin();
    try {
      last_answer = s.session->ask(task_prefix(s.task) + line, options, rng, print_text);
    } catch (const QuestionError& e) {  // refused before anything ran: the conversation is as it was
      interrupt.end();
      if (tty) std::printf("\n");
      std::fflush(stdout);
      std::fprintf(stderr, "tinygptv chat: error: %s\n", e.what());
      continue;
    }
    const bool interrupted = interrupt.end();
    timings.add(s.session->last_turn());
    turns++;
    std::printf("\n");
    std::fflush(stdout);
    if (interrupted) std::fprintf(stderr, "(answer stopped: Ctrl-C; another Ctrl-C while answering, or one at the prompt, quits)\n");
  }
  if (args.has("--timings")) timings.print(s, turns);
  if (const auto boxes = args.get("--boxes")) write_boxes(args.required("--image"), last_answer, *boxes);
  return 0;
}

}  // namespace tgv::cli
