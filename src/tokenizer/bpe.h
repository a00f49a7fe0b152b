// Byte-pair merging of one pre-token, exactly as GPT-2's (and the slow Hugging Face
// tokenizers') bpe(): repeatedly take the adjacent pair with the lowest merge rank
// and merge every occurrence of it, left to right and non-overlapping ("a a a" with
// the pair (a, a) gives "aa a"), until no adjacent pair has a rank.
//
// Symbols are token ids: the word starts as the ids of its bytes' one-byte tokens.
// Instead of rescanning the word for each merge (quadratic on long words), a heap
// holds (rank, position) of every mergeable pair; all entries of the lowest rank
// are merged as one left-to-right pass before the pairs they create are queued,
// which is exactly the rescanning algorithm's order.
#pragma once
#include <cstddef>
#include <cstdint>
#include <unordered_map>
#include <vector>

namespace tgv {

struct Merge {
  int rank;    // line order in merges.txt, from 0
  int result;  // id of the merged token
};

class MergeTable {
 public:
  // Returns false if the pair was already there (the first one stays).
  bool add(int left, int right, Merge m) { return map_.emplace(key(left, right), m).second; }
  const Merge* find(int left, int right) const {
    auto it = map_.find(key(left, right));
    return it == map_.end() ? nullptr : &it->second;
  }
  size_t size() const { return map_.size(); }
  void reserve(size_t n) { map_.reserve(n); }

 private:
  static uint64_t key(int l, int r) { return (static_cast<uint64_t>(static_cast<uint32_t>(l)) << 32) | static_cast<uint32_t>(r); }
  std::unordered_map<uint64_t, Merge> map_;
};

// word: [n] token ids, merged in place (it only gets shorter).
void bpe_merge(std::vector<int>& word, const MergeTable& merges);

}  // namespace tgv
