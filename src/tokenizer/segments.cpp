// tokenize_segments (include/tinygptv/tokenizer.h): the prompt is cut at each
// "<ImageHere>" and every piece is encoded on its own, as upstream MiniGPT-4's
// get_context_emb does (prompt.split('<ImageHere>'), one tokenizer call per
// segment), so no BPE merge or pre-token ever spans the image.
#include <string_view>

#include "tinygptv/tokenizer.h"

namespace tgv {

std::vector<std::vector<int>> tokenize_segments(const Tokenizer& tokenizer, std::string_view prompt) {
  constexpr std::string_view kImage = "<ImageHere>";
  std::vector<std::vector<int>> segments;
  size_t start = 0;
  while (true) {
    const size_t at = prompt.find(kImage, start);
    if (at == std::string_view::npos) break;
    segments.push_back(tokenizer.encode(prompt.substr(start, at - start)));
    start = at + kImage.size();
  }
  segments.push_back(tokenizer.encode(prompt.substr(start)));
  return segments;
}

}  // namespace tgv
