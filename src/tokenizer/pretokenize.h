// The GPT-2 pre-tokenizer, written out by hand (no regex library):
//
//   's|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+
//
// with the classes of unicode_classes.h. The alternatives are tried in order at
// each position, as a backtracking regex engine does; pieces never overlap and
// together cover the whole text. The text is one piece between added tokens, so
// end-of-text is where `\s+(?!\S)` may take a whole whitespace run.
#pragma once
#include <string_view>
#include <vector>

namespace tgv {

// Appends the pieces of `text` (valid UTF-8, checked by the caller) to `pieces`.
void pretokenize(std::vector<std::string_view>& pieces, std::string_view text);

}  // namespace tgv
