// See added_tokens.h. A byte trie; split() walks it from each position that starts
// with a possible first byte and keeps the longest token found.
#include "tokenizer/added_tokens.h"

#include "tinygptv/error.h"

namespace tgv {

AddedTokens::AddedTokens() : nodes_(1) {}

int AddedTokens::child(int node, uint8_t b) const {
  for (const auto& [k, idx] : nodes_[node].kids)
    if (k == b) return idx;
  return -1;
}

void AddedTokens::add(std::string_view content, int id) {
  TGV_ASSERT(!content.empty() && id >= 0, "added tokens are non-empty and have an id");
  int node = 0;
  for (char ch : content) {
    const uint8_t b = static_cast<uint8_t>(ch);
    int c = child(node, b);
    if (c < 0) {
      c = static_cast<int>(nodes_.size());
      nodes_[node].kids.push_back({b, c});
      nodes_.emplace_back();
    }
    node = c;
  }
  if (nodes_[node].id < 0) nodes_[node].id = id;
  first_byte_[static_cast<uint8_t>(content[0])] = true;
}

void AddedTokens::split(std::vector<TextPart>& parts, std::string_view text) const {
  size_t plain = 0;  // start of the ordinary text not yet emitted
  size_t i = 0;
  while (i < text.size()) {
    if (!first_byte_[static_cast<uint8_t>(text[i])]) { i++; continue; }
    int node = 0, best_id = -1;
    size_t best_len = 0;
    for (size_t k = i; k < text.size(); k++) {
      node = child(node, static_cast<uint8_t>(text[k]));
      if (node < 0) break;
      if (nodes_[node].id >= 0) { best_id = nodes_[node].id; best_len = k + 1 - i; }
    }
    if (best_id < 0) { i++; continue; }
    if (plain < i) parts.push_back({text.substr(plain, i - plain), -1});
    parts.push_back({text.substr(i, best_len), best_id});
    i += best_len;
    plain = i;
  }
  if (plain < text.size()) parts.push_back({text.substr(plain), -1});
}

}  // namespace tgv
