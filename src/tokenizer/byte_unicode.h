// GPT-2's byte-to-unicode alphabet: every byte 0..255 gets a printable code point,
// so that BPE tokens can be stored as text in vocab.json/merges.txt.
//   bytes '!'..'~', 0xA1..0xAC, 0xAE..0xFF  -> themselves (188 bytes)
//   the other 68 bytes, in increasing order -> U+0100, U+0101, ... U+0143
// e.g. ' ' (0x20) -> U+0120 'Ġ', '\n' (0x0A) -> U+010A 'Ċ'.
#pragma once
#include <cstdint>

namespace tgv {

uint32_t byte_to_unicode(uint8_t b);
int unicode_to_byte(uint32_t cp);  // the byte, or -1 if cp is not in the alphabet

}  // namespace tgv
