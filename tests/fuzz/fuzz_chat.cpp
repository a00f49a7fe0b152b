// Fuzz target: the text the chat pipeline parses (src/pipeline/grounding.cpp,
// src/pipeline/chat.cpp, src/tokenizer/segments.cpp) on arbitrary bytes:
//   parse_boxes / strip_boxes / draw_boxes   a model's answer with {<x0><y0><x1><y1>} boxes
//   extract_answer                           the generated text -> the answer
//   parse_template / task_prefix             --template / --task values
//   Conversation + tokenize_segments         a conversation whose turns are the input
//                                            cut at '\x01', as the prompt is tokenised
// Invariants (a broken one traps): every box is 0..100 with a label taken from the
// text, strip_boxes only removes bytes, extract_answer returns a trimmed piece of the
// text before "###", the prompt splits into one segment more than it has
// "<ImageHere>" and the segments decode back to the prompt. Only tgv::Error may be
// thrown, and only for an unknown template/task or text that is not valid UTF-8.
//   libFuzzer (clang, -DTGV_FUZZ=ON): ./fuzz_chat -dict=tests/fuzz/chat.dict tests/fuzz/corpus/chat
//   any compiler: the replay driver, sh tests/fuzz/run-fuzzers.sh BUILD SECONDS
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "tinygptv/chat.h"
#include "tinygptv/error.h"
#include "tinygptv/grounding.h"
#include "tinygptv/json.h"
#include "tinygptv/tokenizer.h"
#include "tokenizer/byte_unicode.h"

namespace {

void check(bool ok) {
  if (!ok) __builtin_trap();
}

// The GPT-2 tokenizer from weights/tokenizer/ (found like the CLI does), or one of
// single bytes if it is not there.
const tgv::Tokenizer& tokenizer() {
  static const tgv::Tokenizer tok = [] {
    try {
      return tgv::Tokenizer::load(tgv::default_tokenizer_dir());
    } catch (const tgv::Error&) {
      std::string v = "{";
      for (int b = 0; b < 256; b++) {
        std::string k;
        tgv::utf8_append(k, tgv::byte_to_unicode(static_cast<uint8_t>(b)));
        v += tgv::json_quote(k) + ":" + std::to_string(b) + ",";
      }
      return tgv::Tokenizer::from_files(v + "\"<|endoftext|>\":256}", "");
    }
  }();
  return tok;
}

size_t count(std::string_view s, std::string_view what) {
  size_t n = 0;
  for (size_t at = s.find(what); at != std::string_view::npos; at = s.find(what, at + what.size())) n++;
  return n;
}

void boxes(std::string_view text) {
  const std::vector<tgv::GroundedBox> found = tgv::parse_boxes(text);
  for (const tgv::GroundedBox& b : found) {
    for (int v : {b.x0, b.y0, b.x1, b.y1}) check(v >= 0 && v <= 100);
    check(text.find(b.label) != std::string_view::npos);
  }
  check(found.size() <= count(text, "{"));
  const std::string stripped = tgv::strip_boxes(text);
  check(stripped.size() + 14 * found.size() <= text.size());  // each box found ("{<0><0><0><0>}" at least) is removed
  if (text.size() <= 2048) {  // drawing cost grows with boxes x label length
    tgv::ImageRGB8 img;
    img.width = 37, img.height = 23;
    img.pixels.assign(size_t{37} * 23 * 3, 0);
    tgv::draw_boxes(img, found);
    check(img.pixels.size() == size_t{37} * 23 * 3);
  }
}

void answer(std::string_view text) {
  const std::string a = tgv::extract_answer(text);
  check(a.find(tgv::kStopString) == std::string::npos);
  check(text.find(a) != std::string_view::npos);
  if (!a.empty()) {
    const std::string_view ws = " \t\n\r\f\v";
    check(ws.find(a.front()) == std::string_view::npos && ws.find(a.back()) == std::string_view::npos);
  }
}

void names(std::string_view text) {
  try {
    tgv::parse_template(text);
  } catch (const tgv::Error&) {
  }
  try {
    const std::string p = tgv::task_prefix(text);
    check(text.empty() ? p.empty() : p == "[" + std::string(text) + "] ");
  } catch (const tgv::Error&) {
  }
}

void conversation(std::string_view text, tgv::ChatTemplate t) {
  tgv::Conversation conv(t);
  size_t turn = 0;
  for (size_t start = 0;; turn++) {
    const size_t end = text.find('\x01', start);
    const std::string part(text.substr(start, end == std::string_view::npos ? std::string_view::npos : end - start));
    if (turn % 2 == 0) conv.ask(part);
    else conv.answer(tgv::extract_answer(part));
    if (end == std::string_view::npos) break;
    start = end + 1;
  }
  const std::string prompt = conv.prompt();
  std::vector<std::vector<int>> segments;
  try {
    segments = tgv::tokenize_segments(tokenizer(), prompt);
  } catch (const tgv::Error&) {
    check(!tgv::utf8_valid(prompt));
    return;
  }
  check(tgv::utf8_valid(prompt));
  check(segments.size() == count(prompt, "<ImageHere>") + 1);
  std::string back;
  for (size_t s = 0; s < segments.size(); s++) back += (s ? "<ImageHere>" : "") + tokenizer().decode(segments[s]);
  check(back == prompt);
}

}  // namespace

// libFuzzer calls this once before the first input: loading the 50,295-token
// tokenizer under the sanitizers takes seconds, which must not count against the
// per-input timeout.
extern "C" int LLVMFuzzerInitialize(int*, char***) {
  tokenizer();
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  boxes(text);
  answer(text);
  names(text);
  if (size <= 4096) conversation(text, size % 2 ? tgv::ChatTemplate::MiniGPT4 : tgv::ChatTemplate::MiniGPTv2);
  return 0;
}
