// DEFLATE (RFC 1951) and zlib (RFC 1950) decompression, plus the checksums the
// file formats use. Shared by the PNG decoder and the PyTorch checkpoint reader
// (zip entries). Untrusted input: every read is bounds-checked and the output is
// capped at `max_out` bytes (a zip/PNG bomb is an error, not an allocation).
#pragma once
#include <cstddef>
#include <cstdint>
#include <vector>

namespace tgv {

// Raw DEFLATE stream. `consumed`, if given, receives the compressed bytes used.
std::vector<uint8_t> inflate_raw(const uint8_t* data, size_t size, size_t max_out, size_t* consumed = nullptr);
// zlib stream: 2-byte header (CM 8, FCHECK, no preset dictionary), DEFLATE, Adler-32 verified.
std::vector<uint8_t> zlib_decompress(const uint8_t* data, size_t size, size_t max_out);
// The zlib stream of a PNG, read the way PIL (through zlib, with an output buffer
// of exactly `want` bytes) reads it: decompress until `want` bytes exist, then read
// on only while that yields no output (end-of-block codes, empty blocks, the
// Adler-32, which is verified if present); running out of input there is fine, as
// are any later bytes. Throws if the data is corrupt or ends before `want` bytes.
std::vector<uint8_t> zlib_decompress_prefix(const uint8_t* data, size_t size, size_t want);
// zlib stream from stored or fixed-Huffman blocks (for the PNG encoder).
std::vector<uint8_t> zlib_compress(const uint8_t* data, size_t size);

uint32_t crc32(uint32_t crc, const uint8_t* data, size_t size);  // start with crc = 0
uint32_t adler32(uint32_t adler, const uint8_t* data, size_t size);  // start with adler = 1

}  // namespace tgv
