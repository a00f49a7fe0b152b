// The tables behind a tgv::Tokenizer (include/tinygptv/tokenizer.h), built once by
// tokenizer_load.cpp and shared read-only, plus the lock-protected BPE cache.
#pragma once
#include <array>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "tokenizer/added_tokens.h"
#include "tokenizer/bpe.h"

namespace tgv {

// Lets the cache be searched with a string_view (no copy per lookup).
struct PieceHash {
  using is_transparent = void;
  size_t operator()(std::string_view s) const { return std::hash<std::string_view>{}(s); }
};

struct TokenizerData {
  std::vector<std::string> bytes;  // [size] id -> the token's raw bytes
  int vocab_size = 0;              // ids 0..vocab_size-1 come from vocab.json
  std::array<int, 256> byte_id{};  // byte -> id of its one-byte token (BPE start symbols)
  MergeTable merges;               // (left id, right id) -> rank, merged id
  AddedTokens added;               // split out before pre-tokenisation
  int eos = -1;                    // <|endoftext|>

  // pre-token bytes -> ids. Cleared when it grows past kCacheLimit entries, so
  // adversarial text cannot grow it without bound.
  static constexpr size_t kCacheLimit = 1 << 17;
  mutable std::mutex cache_mutex;
  mutable std::unordered_map<std::string, std::vector<int>, PieceHash, std::equal_to<>> cache;
};

}  // namespace tgv
