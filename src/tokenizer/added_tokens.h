// Added tokens (<|endoftext|> and the 38 whitespace runs) are cut out of the text
// before any pre-tokenisation: at the leftmost position where one starts, the
// longest one that matches wins; the text between them is encoded on its own.
//   "a" + 33 spaces + "b"  ->  "a" | <31 spaces> | <2 spaces> | "b"
// Matching is on bytes; added tokens are valid UTF-8 and start on a character, so a
// match can only begin at a character boundary of valid UTF-8 text.
#pragma once
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace tgv {

struct TextPart {
  std::string_view text;  // the bytes of this part
  int id;                 // the added token's id, or -1 for ordinary text
};

class AddedTokens {
 public:
  AddedTokens();
  void add(std::string_view content, int id);  // content non-empty; first id wins on repeats
  bool empty() const { return nodes_[0].kids.empty(); }
  // Appends the parts of `text` in order (ordinary parts are never empty).
  void split(std::vector<TextPart>& parts, std::string_view text) const;

 private:
  struct Node {
    int id = -1;  // the token that ends here, or -1
    std::vector<std::pair<uint8_t, int>> kids;  // byte -> node index
  };
  int child(int node, uint8_t b) const;
  std::vector<Node> nodes_;  // nodes_[0] is the root
  bool first_byte_[256] = {};
};

}  // namespace tgv
