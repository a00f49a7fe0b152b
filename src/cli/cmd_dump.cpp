// `tinygptv dump`: one forward pass (no generation), every named activation as a
// float32 .npy file in DIR (interface.md), plus prompt_segments.json.
//
//   tinygptv dump --model M.safetensors --prompt TEXT --out DIR [--tokenizer TOKDIR] [--image IMG]
//   tinygptv dump --model M.safetensors --prompt-ids 1,2,3 --out DIR
//
// --prompt-ids skips the tokenizer (for tests, and for backends whose tokenizer is not
// under test): comma- or space-separated ids; a '|' marks where <ImageHere> would be
// ("1,2|3" = [[1,2],[3]]).
// Files: llm.embeds [T,D], llm.layer.{i} [T,D], llm.final_norm [T,D], llm.logits [T,V];
// prompt_segments.json is [[ids]] without an image, [[before],[after]] with one.
// With an image, also vision.pixels [3,S,S], vision.embed / vision.block.{i} / vision.ln
// [N+1,W], qformer.embed / qformer.layer.{i} [Q,H], projector.fc1 [Q,mid], projector.fc2
// [Q,D], and llm.* cover before + Q image rows + after.
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "cli/args.h"
#include "cli/commands.h"
#include "tinygptv/dump.h"
#include "tinygptv/error.h"
#include "tinygptv/image_encoder.h"
#include "tinygptv/json.h"
#include "tinygptv/model_file.h"
#include "tinygptv/phi2.h"
#include "tinygptv/thread_pool.h"
#include "tinygptv/tokenizer.h"

namespace tgv::cli {

namespace {

// "1,2|3 4" -> {{1, 2}, {3, 4}}: ids separated by commas or whitespace, '|' between segments.
std::vector<std::vector<int>> parse_prompt_ids(const std::string& text) {
  std::vector<std::vector<int>> segments(1);
  size_t i = 0;
  while (i < text.size()) {
    const char ch = text[i];
    if (ch == ',' || ch == ' ' || ch == '\t' || ch == '\n' || ch == '\r') { i++; continue; }
    if (ch == '|') { segments.emplace_back(); i++; continue; }
    size_t end = i;
    while (end < text.size() && text[end] >= '0' && text[end] <= '9') end++;
    if (end == i || end - i > 9) fail("--prompt-ids: expected token ids like 1,2,3, got '" + text + "'");
    segments.back().push_back(std::stoi(text.substr(i, end - i)));
    i = end;
  }
  return segments;
}

std::vector<std::vector<int>> prompt_segments(const Args& args) {
  const auto ids = args.get("--prompt-ids");
  const auto text = args.get("--prompt");
  if (ids && text) fail("give either --prompt or --prompt-ids, not both");
  if (ids) return parse_prompt_ids(*ids);
  if (!text) fail("missing required option --prompt (or --prompt-ids)");
  const auto dir = args.get("--tokenizer");
  return tokenize_segments(Tokenizer::load(dir ? *dir : default_tokenizer_dir()), *text);
}

void write_segments_json(const std::string& path, const std::vector<std::vector<int>>& segments) {
  Json j = Json::array();
  for (const auto& seg : segments) {
    Json s = Json::array();
    for (int id : seg) s.push_back(Json::integer(id));
    j.push_back(s);
  }
  std::ofstream f(path, std::ios::binary);
  f << j.dump();
  if (!f.flush()) fail("cannot write " + path);
}

// The image side (include/tinygptv/image_encoder.h): pixels -> ViT -> Q-Former ->
// projector, dumping vision.*, qformer.* and projector.*; returns the image
// embeddings [Q, D]. IMG is a PNG/JPEG, or a .npy float32 [3, S, S] of preprocessed pixels.
std::vector<float> dump_image_embeddings(const ModelFile& model, const std::string& image, const DumpFn& dump) {
  const ImageEncoder encoder(model);
  const std::vector<float> pixels = load_pixels(image, encoder.image_size());  // [3, S, S]
  return encoder.encode(pixels.data(), dump);                                   // [Q, D]
}

// The language-model part of a dump: input embeddings [T, D] -> llm.* files.
void dump_llm(const ModelFile& model, const Phi2Weights& w, const std::vector<float>& embeds, int T, const DumpFn& dump) {
  const LlmConfig& c = model.config().llm;
  Phi2State state(c);
  std::vector<float> last(static_cast<size_t>(c.vocab_size));  // [V]; the [T, V] logits go to the dump
  phi2_forward(last.data(), state, w, c, embeds.data(), T, Phi2Logits::Last, dump);
}

}  // namespace

int cmd_dump(int argc, char** argv) {
  Args args(argc, argv, {"--model", "--image", "--prompt", "--prompt-ids", "--out", "--tokenizer", "--threads"}, {});
  if (!args.positional().empty()) fail("dump: unexpected argument '" + args.positional()[0] + "'");
  const std::string out = args.required("--out");
  set_num_threads(static_cast<int>(args.integer_or("--threads", 0)));
  const std::vector<std::vector<int>> segments = prompt_segments(args);
  if (segments.size() > 2) fail("dump: the prompt has <ImageHere> more than once");

  const ModelFile model(args.required("--model"));
  const Phi2Weights w = load_phi2(model);
  const int D = model.config().llm.hidden;
  std::error_code ec;
  std::filesystem::create_directories(out, ec);
  if (ec || !std::filesystem::is_directory(out)) fail("cannot create output directory " + out);
  const DumpFn dump = npy_dumper(out);

  // Input embeddings [T, D]: text rows, with the image embeddings between the segments.
  std::vector<float> embeds;
  auto append_text = [&](const std::vector<int>& ids) {
    const size_t at = embeds.size();
    embeds.resize(at + ids.size() * static_cast<size_t>(D));
    phi2_embed_tokens(embeds.data() + at, w, ids.data(), static_cast<int>(ids.size()));
  };
  append_text(segments[0]);
  if (segments.size() == 2) {
    const auto image = args.get("--image");
    if (!image) fail("dump: the prompt has <ImageHere> but no --image was given");
    const std::vector<float> img = dump_image_embeddings(model, *image, dump);
    embeds.insert(embeds.end(), img.begin(), img.end());
    append_text(segments[1]);
  }
  const int T = static_cast<int>(embeds.size() / static_cast<size_t>(D));
  if (T == 0) fail("dump: the prompt is empty (no tokens to run)");
  write_segments_json(out + "/prompt_segments.json", segments);
  dump_llm(model, w, embeds, T, dump);
  return 0;
}

}  // namespace tgv::cli
