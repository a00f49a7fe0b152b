// The Phi-2 tokenizer (model.md section 6): GPT-2 byte-level BPE over the 50257
// ids of vocab.json/merges.txt, plus 38 added whitespace tokens.
//
//   ids 0..50256       GPT-2 vocabulary; 50256 is <|endoftext|>
//   ids 50257..50286   runs of 31, 30, ..., 2 spaces
//   ids 50287..50294   runs of 9, 8, ..., 2 tabs
//
// encode(text): split on added tokens (leftmost, longest), pre-tokenise each piece
// between them with the GPT-2 pattern (pretokenize.cpp), map each pre-token's UTF-8
// bytes through the byte-to-unicode alphabet and merge by rank (bpe.cpp). No BOS/EOS.
// decode(ids): the exact byte-level inverse (no clean-up, no spaces added).
//
//   Tokenizer tok = Tokenizer::load("weights/tokenizer");
//   std::vector<int> ids = tok.encode("Hello world");  // {15496, 995}
//   std::string s = tok.decode(ids);                    // "Hello world"
//
// Tokenizer files are untrusted: every problem is a one-line tgv::Error.
// A Tokenizer is cheap to copy (shared, immutable tables) and encode() may be
// called from several threads (the BPE cache is locked).
#pragma once
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace tgv {

struct TokenizerData;  // tables, defined in src/tokenizer/tokenizer_data.h

class Tokenizer {
 public:
  // Reads DIR/vocab.json and DIR/merges.txt, and DIR/added_tokens.json when it
  // exists (otherwise the 38 whitespace tokens are created after the vocabulary).
  static Tokenizer load(const std::string& dir);
  // The same from file contents (added_tokens_json: nullopt = file absent).
  static Tokenizer from_files(std::string_view vocab_json, std::string_view merges_txt,
                              std::optional<std::string_view> added_tokens_json = std::nullopt);

  // Text -> ids. Throws tgv::Error if the text is not valid UTF-8.
  std::vector<int> encode(std::string_view text) const;
  // Ids -> the exact bytes (which may be invalid UTF-8 if the ids cut a character).
  // Throws tgv::Error for an id outside 0..size()-1.
  std::string decode(std::span<const int> ids) const;
  // The bytes of one token. Throws tgv::Error for an id outside 0..size()-1.
  const std::string& token_bytes(int id) const;

  int size() const;       // number of ids: vocabulary + added tokens (50295 for Phi-2)
  int eos_id() const;     // id of <|endoftext|>, or -1 if the vocabulary has none
  size_t merge_count() const;

 private:
  Tokenizer() = default;
  std::shared_ptr<const TokenizerData> d_;
};

// Turns ids into text as they come: push() returns the bytes that can be printed
// now, holding back a trailing incomplete UTF-8 sequence until a later token
// completes it; finish() returns whatever is still held. Bytes that can never
// become valid UTF-8 are passed through unchanged, so the concatenation of all
// push() results and finish() is exactly tokenizer.decode(all ids).
class StreamDecoder {
 public:
  explicit StreamDecoder(const Tokenizer& tokenizer) : tok_(tokenizer) {}
  std::string push(int id);
  std::string finish();

 private:
  Tokenizer tok_;
  std::string held_;  // at most 3 bytes: a proper prefix of a UTF-8 sequence
};

// A prompt split on "<ImageHere>", each segment tokenised on its own (model.md
// section 7): {ids before, ids after}; one segment when there is no <ImageHere>
// (and n+1 segments for n of them; the pipeline decides how many it accepts).
std::vector<std::vector<int>> tokenize_segments(const Tokenizer& tokenizer, std::string_view prompt);

// The tokenizer directory used when none is given: the first of
//   ./weights/tokenizer, <dir of the executable>/../weights/tokenizer,
//   <dir of the executable>/weights/tokenizer
// that holds a vocab.json. Throws tgv::Error listing the places tried. The executable
// is /proc/self/exe, and also the path the program was started as, if it was given
// with set_program_path (argv[0]): under node (WebAssembly) /proc/self/exe is node,
// and argv[0] is tinygptv.js; elsewhere there may be no /proc at all.
std::string default_tokenizer_dir();
void set_program_path(const char* argv0);

}  // namespace tgv
