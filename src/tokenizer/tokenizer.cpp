// Tokenizer::encode / decode (see include/tinygptv/tokenizer.h):
//   text --validate UTF-8--> parts split on added tokens (added_tokens.cpp)
//        --each ordinary part--> GPT-2 pre-tokens (pretokenize.cpp)
//        --each pre-token's bytes--> one-byte token ids --merge by rank--> ids (bpe.cpp)
// Pre-token results are cached (most words repeat), keyed by their bytes.
#include <mutex>

#include "tinygptv/error.h"
#include "tinygptv/json.h"
#include "tinygptv/tokenizer.h"
#include "tokenizer/pretokenize.h"
#include "tokenizer/tokenizer_data.h"

namespace tgv {

namespace {

void check_utf8(std::string_view text) {
  uint32_t cp = 0;
  for (size_t i = 0; i < text.size();) {
    if (static_cast<uint8_t>(text[i]) < 0x80) { i++; continue; }
    int n = utf8_decode(text, i, &cp);
    if (n == 0) fail("tokenizer: the text is not valid UTF-8 (at byte " + std::to_string(i) + ")");
    i += static_cast<size_t>(n);
  }
}

// Appends the ids of one pre-token.
void encode_pretoken(std::vector<int>& out, const TokenizerData& d, std::string_view piece) {
  {
    std::lock_guard<std::mutex> lock(d.cache_mutex);
    auto it = d.cache.find(piece);
    if (it != d.cache.end()) {
      out.insert(out.end(), it->second.begin(), it->second.end());
      return;
    }
  }
  std::vector<int> word(piece.size());
  for (size_t i = 0; i < piece.size(); i++) word[i] = d.byte_id[static_cast<uint8_t>(piece[i])];
  bpe_merge(word, d.merges);
  out.insert(out.end(), word.begin(), word.end());
  std::lock_guard<std::mutex> lock(d.cache_mutex);
  if (d.cache.size() >= TokenizerData::kCacheLimit) d.cache.clear();
  d.cache.emplace(std::string(piece), std::move(word));
}

}  // namespace

std::vector<int> Tokenizer::encode(std::string_view text) const {
  check_utf8(text);
  std::vector<TextPart> parts;
  d_->added.split(parts, text);
  std::vector<int> ids;
  std::vector<std::string_view> pieces;
  for (const TextPart& part : parts) {
    if (part.id >= 0) {
      ids.push_back(part.id);
      continue;
    }
    pieces.clear();
    pretokenize(pieces, part.text);
    for (std::string_view piece : pieces) encode_pretoken(ids, *d_, piece);
  }
  return ids;
}

const std::string& Tokenizer::token_bytes(int id) const {
  if (id < 0 || id >= size())
    fail("tokenizer: token id " + std::to_string(id) + " is out of range (valid ids are 0.." + std::to_string(size() - 1) + ")");
  return d_->bytes[id];
}

std::string Tokenizer::decode(std::span<const int> ids) const {
  std::string out;
  for (int id : ids) out += token_bytes(id);
  return out;
}

int Tokenizer::size() const { return static_cast<int>(d_->bytes.size()); }
int Tokenizer::eos_id() const { return d_->eos; }
size_t Tokenizer::merge_count() const { return d_->merges.size(); }

}  // namespace tgv
