// `tinygptv quant-report`: what quantization costs on one image and prompt
// (include/tinygptv/quant_report.h, docs/quantization.md).
//
//   tinygptv quant-report --base BASE.safetensors --model QUANT.safetensors --image IMG
//                         [--question TEXT | --prompt TEXT | --prompt-ids IDS] [--tokens N]
//                         [--tokenizer DIR] [--template minigpt4|minigptv2] [--threads N]
//
// --question is wrapped in the chat template as `ask` does (default: "Describe this
// image."); --prompt is the raw text with <ImageHere>; --prompt-ids as `dump` takes
// them ("1,2|3": the image between the segments). Prints one line per activation
// (relative error, largest absolute difference), then the base model's greedy answer
// and, over it, next-token agreement and KL(base || quant).
#include <algorithm>
#include <cstdio>
#include <optional>
#include <string>

#include "cli/args.h"
#include "cli/commands.h"
#include "tinygptv/chat.h"
#include "tinygptv/error.h"
#include "tinygptv/image_encoder.h"
#include "tinygptv/model_file.h"
#include "tinygptv/quant_report.h"
#include "tinygptv/thread_pool.h"
#include "tinygptv/tokenizer.h"

namespace tgv::cli {

namespace {

// "1,2|3 4" -> {{1, 2}, {3, 4}} (the syntax of `dump --prompt-ids`).
std::vector<std::vector<int>> parse_ids(const std::string& text) {
  std::vector<std::vector<int>> segments(1);
  size_t i = 0;
  while (i < text.size()) {
    const char ch = text[i];
    if (ch == ',' || ch == ' ' || ch == '\t' || ch == '\n') { i++; continue; }
    if (ch == '|') { segments.emplace_back(); i++; continue; }
    size_t end = i;
    while (end < text.size() && text[end] >= '0' && text[end] <= '9') end++;
    if (end == i || end - i > 9) fail("--prompt-ids: expected token ids like 1,2|3, got '" + text + "'");
    segments.back().push_back(std::stoi(text.substr(i, end - i)));
    i = end;
  }
  return segments;
}

}  // namespace

int cmd_quant_report(int argc, char** argv) {
  Args args(argc, argv,
            {"--base", "--model", "--image", "--question", "--prompt", "--prompt-ids", "--tokens", "--tokenizer", "--template",
             "--threads"},
            {});
  if (!args.positional().empty()) fail("unexpected argument '" + args.positional()[0] + "'");
  const std::string base = args.required("--base"), quant = args.required("--model");
  set_num_threads(static_cast<int>(args.integer_or("--threads", 0)));
  if (args.has("--question") + args.has("--prompt") + args.has("--prompt-ids") > 1)
    fail("give one of --question, --prompt and --prompt-ids");
  QuantReportInput in;
  const long tokens = args.integer_or("--tokens", 16);
  if (tokens < 1 || tokens > 100000) fail("--tokens must be between 1 and 100000");
  in.tokens = static_cast<int>(tokens);

  const ModelConfig config = ModelFile(base).config();  // for the image size and template
  std::optional<Tokenizer> tok;
  if (const auto ids = args.get("--prompt-ids")) {
    in.segments = parse_ids(*ids);
  } else {
    tok = Tokenizer::load(args.get_or("--tokenizer", default_tokenizer_dir()));
    std::string prompt;
    if (const auto p = args.get("--prompt")) {
      prompt = *p;
    } else {
      const auto tmpl = args.get("--template");
      Conversation conv(tmpl ? parse_template(*tmpl) : default_template(config.vision.image_size));
      conv.ask(args.get_or("--question", "Describe this image."));
      prompt = conv.prompt();
    }
    in.segments = tokenize_segments(*tok, prompt);
  }
  if (in.segments.size() > 2) fail("the prompt has <ImageHere> more than once");
  if (in.segments.size() == 2) in.pixels = load_pixels(args.required("--image"), config.vision.image_size);
  else if (args.has("--image")) fail("--image given but the prompt has no <ImageHere> (or '|' in --prompt-ids)");

  const QuantReport r = quant_report(base, quant, in);

  std::printf("base  %s\nquant %s\n\n%-20s  %-16s  %-10s  %s\n", base.c_str(), quant.c_str(), "activation", "shape", "rel.err",
              "max abs err");
  for (const ActivationError& e : r.activations)
    std::printf("%-20s  %-16s  %-10.3e  %.3e\n", e.name.c_str(), shape_str(e.shape).c_str(), e.rel, e.max_abs);
  std::printf("\nbase greedy answer (%zu tokens):", r.answer.size());
  for (int id : r.answer) std::printf(" %d", id);
  if (tok) {
    std::vector<int> known;
    for (int id : r.answer)
      if (id < tok->size()) known.push_back(id);
    std::printf("\n  \"%s\"", tok->decode(known).c_str());
  }
  std::printf("\nteacher-forced over the answer: top-1 agreement %.1f%% (%zu/%zu), KL(base||quant) mean %.6f, max %.6f nats\n",
              100.0 * r.agreement(), static_cast<size_t>(std::count(r.top1_agree.begin(), r.top1_agree.end(), true)),
              r.answer.size(), r.mean_kl(), r.max_kl());
  return 0;
}

}  // namespace tgv::cli
