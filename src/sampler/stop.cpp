// Stop strings: generation ends as soon as the decoded answer contains one
// (model.md section 7: "###" for the stage 1-3 chat); the answer is the text before it.
#include "tinygptv/sampler.h"

namespace tgv {

size_t find_stop(std::string_view text, std::span<const std::string> stops) {
  size_t best = std::string_view::npos;
  for (const std::string& s : stops) {
    if (s.empty()) continue;
    const size_t at = text.find(s);
    if (at < best) best = at;
  }
  return best;
}

}  // namespace tgv
