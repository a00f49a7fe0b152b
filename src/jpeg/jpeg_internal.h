// The JPEG decoder's internal state, shared by its stages (docs/jpeg.md):
//
//   jpeg_markers.cpp   markers -> Frame, quantization and Huffman tables, scan headers
//   jpeg_huffman.cpp   Huffman tables, the bit reader, baseline + progressive block decoding
//   jpeg_scan.cpp      one scan: MCU order, restart intervals, coefficients or direct IDCT
//   jpeg_idct.cpp      libjpeg's integer "islow" IDCT (jidctint.c), 8x8 -> samples
//   jpeg_color.cpp     chroma upsampling (jdsample.c) and colour conversion (jdcolor.c)
//   jpeg_decode.cpp    decode_jpeg: the driver tying them together
//
// The target is libjpeg-turbo 2.1 as PIL (9.4-10.1) drives it: do_fancy_upsampling on,
// islow IDCT, output RGB (or CMYK, converted by PIL). Where libjpeg only warns about
// damaged entropy data (bad Huffman code, data ending early at a marker) we do what it
// does (zeros, grey MCUs), so such files still match PIL; structural damage is an Error.
#pragma once
#include <cstddef>
#include <cstdint>
#include <vector>

#include "tinygptv/error.h"
#include "tinygptv/image.h"

namespace tgv::jpeg {

constexpr int kMaxComponents = 4;     // PIL handles 1 (L), 3 (RGB/YCbCr) and 4 (CMYK/YCCK)
constexpr int kMaxBlocksInMcu = 10;   // libjpeg's D_MAX_BLOCKS_IN_MCU
constexpr int kMaxDimension = 65500;  // libjpeg's JPEG_MAX_DIMENSION
// Every scan walks the whole image, so a small file with thousands of scans over a huge
// frame costs hours ("Two Issues with the JPEG Standard"); real encoders write ~10.
// libjpeg-turbo's TJFLAG_LIMITSCANS refuses more than 500; so do we.
constexpr int kMaxScans = 500;

// Zigzag position k -> natural (row-major) index, with libjpeg's 16 extra entries of 63
// so a corrupt run length (k + r > 63) lands on the last coefficient instead of
// outside the block.
extern const uint8_t kZigzagToNatural[64 + 16];

// A Huffman table ready for decoding. Codes of up to kLookBits bits resolve in one
// table lookup; longer ones walk the canonical maxcode/valoffset arrays.
constexpr int kLookBits = 9;
struct HuffTable {
  bool defined = false;
  uint8_t counts[17] = {};        // counts[l] = number of codes of length l (1..16)
  uint8_t symbols[256] = {};      // in code order; unused entries are 0 like libjpeg-turbo
  int32_t maxcode[18] = {};       // largest code of length l, -1 if none; [17] is a sentinel
  int32_t valoffset[17] = {};     // symbols index = code + valoffset[l]
  uint16_t fast[1 << kLookBits] = {};  // (length << 8) | symbol, or 0 when longer than kLookBits
  // For AC tables: when a code and its value bits together fit in kLookBits, the whole
  // coefficient at once: (value << 16) | (run << 8) | total bits; 0 otherwise.
  int32_t fast_ac[1 << kLookBits] = {};
};
// Builds the decoding arrays from counts/symbols; throws on an over-full code space.
void build_huffman(HuffTable& table);
// The Annex K tables libjpeg-turbo puts in slots 0 and 1 when a file has no DHT.
void standard_huffman(HuffTable dc[4], HuffTable ac[4]);

struct Component {
  int id = 0;                 // the byte from SOF; any value (0,1,2 and 'R','G','B' occur)
  int h = 1, v = 1;           // sampling factors, 1..4
  int tq = 0;                 // quantization table slot
  bool quant_latched = false; // libjpeg copies the table at the component's first scan
  uint16_t quant[64] = {};    // natural order

  int width = 0, height = 0;          // downsampled size: ceil(W*h/max_h) x ceil(H*v/max_v)
  int blocks_w = 0, blocks_h = 0;     // ceil(width/8) x ceil(height/8): blocks with samples
  int alloc_w = 0, alloc_h = 0;       // padded to whole MCUs: mcus_x*h x mcus_y*v blocks

  // Progressive bookkeeping (libjpeg's coef_bits): for each zigzag index, the Al of the
  // last scan that coded it, -1 if none yet; prev_bits holds 1..9 as they were when the
  // component's latest scan started. They decide block smoothing (jpeg_smooth.cpp).
  int coef_bits[64];
  int prev_bits[10] = {};

  std::vector<int16_t> coefs;   // [alloc_h, alloc_w, 64] natural order (multi-scan files only)
  std::vector<uint8_t> plane;   // [alloc_h*8, alloc_w*8] samples after the IDCT
  size_t plane_stride() const { return static_cast<size_t>(alloc_w) * 8; }
};

struct Frame {
  bool progressive = false;
  int width = 0, height = 0;
  int ncomp = 0;
  Component comp[kMaxComponents];
  int max_h = 1, max_v = 1;
  int mcus_x = 0, mcus_y = 0;   // interleaved MCU grid: ceil(W/(8*max_h)) x ceil(H/(8*max_v))
};

struct Scan {
  int ncomp = 0;
  int comp[kMaxComponents] = {};  // indices into Frame::comp, in scan order
  int dc_table[kMaxComponents] = {}, ac_table[kMaxComponents] = {};
  int ss = 0, se = 63, ah = 0, al = 0;
};

// The entropy-coded data reader: 0xFF00 unstuffing, 0xFF fill bytes, stops at markers.
// Bits are MSB-first in `buf` (the next bit is bit 63). Like libjpeg, once a marker is
// reached it supplies zero bits; `padded` counts those so the decoder can tell when it
// has consumed more bits than the segment had (libjpeg's "insufficient data").
struct BitReader {
  const uint8_t* data = nullptr;
  size_t size = 0;
  size_t pos = 0;       // next byte to read; at a marker it rests on the marker's 0xFF
  uint64_t buf = 0;
  int bits = 0;         // valid bits in buf (including padded zeros)
  int padded = 0;       // how many of the last `bits` are fake zeros after a marker
  int marker = 0;       // marker code reached inside the data, or 0

  void fill();          // tops buf up to >= 57 bits; throws if the file ends without a marker
  uint32_t get(int n) {  // n in 0..16; caller keeps bits >= n (see ensure)
    if (n == 0) return 0;
    uint32_t v = static_cast<uint32_t>(buf >> (64 - n));
    buf <<= n;
    bits -= n;
    return v;
  }
  void ensure(int n) { if (bits < n) fill(); }
  bool overran() const { return bits < padded; }  // consumed a fake zero bit
  void reset() { buf = 0; bits = 0; padded = 0; }
};

// Decodes one Huffman symbol (libjpeg: a code longer than 16 bits gives symbol 0).
// Codes of up to kLookBits bits take the inline path; longer ones decode_symbol_slow.
int decode_symbol_slow(BitReader& br, const HuffTable& table);
inline int decode_symbol(BitReader& br, const HuffTable& table) {
  br.ensure(17);
  const uint16_t f = table.fast[br.buf >> (64 - kLookBits)];
  if (f == 0) return decode_symbol_slow(br, table);
  br.buf <<= f >> 8;
  br.bits -= f >> 8;
  return f & 0xFF;
}

// Block decoders; `block` is 64 coefficients in natural order.
// Baseline / extended sequential: DC difference + 63 AC coefficients.
// Returns the last zigzag index written (0: only the DC coefficient is non-zero).
int decode_block_sequential(int16_t* block, int* dc_pred, BitReader& br, const HuffTable& dc,
                            const HuffTable& ac);
// Progressive (jdphuff.c), one function per scan kind.
void decode_dc_first(int16_t* block, int* dc_pred, BitReader& br, const HuffTable& dc, int al);
void decode_dc_refine(int16_t* block, BitReader& br, int al);
void decode_ac_first(int16_t* block, int* eobrun, BitReader& br, const HuffTable& ac, int ss, int se, int al);
void decode_ac_refine(int16_t* block, int* eobrun, BitReader& br, const HuffTable& ac, int ss, int se, int al);

// libjpeg's jidctint.c: dequantize (coef * quant), 2-D inverse DCT in 32-bit fixed
// point, +128 and clamp to 0..255. out: 8 rows of 8 samples, `stride` bytes apart.
void idct_islow(uint8_t* out, size_t stride, const int16_t* coef, const uint16_t* quant);
// The same for a block whose AC coefficients are all zero (a flat 8x8 block).
void idct_dc_only(uint8_t* out, size_t stride, int16_t dc, uint16_t quant);

// Whole decoder state while walking the file.
struct Decoder {
  const uint8_t* data = nullptr;
  size_t size = 0;
  size_t pos = 0;                 // marker parser position
  uint64_t max_pixels = kMaxImagePixels;

  bool have_frame = false;
  Frame frame;
  uint16_t quant[4][64] = {};     // natural order
  bool quant_defined[4] = {};
  HuffTable dc[4], ac[4];
  int restart_interval = 0;
  bool saw_jfif = false, saw_adobe = false;
  int adobe_transform = 0;

  int scans = 0;
  bool multi_scan = false;        // progressive or components split over scans: keep coefficients
  int last_good_imcu_row = 0;     // libjpeg: iMCU row of the last MCU decoded with data to spare
};

// jpeg_markers.cpp
int next_marker(Decoder& d);  // skips junk to the next marker, returns its code (after 0xFF)
void read_sof(Decoder& d, int marker);
void read_dqt(Decoder& d);
void read_dht(Decoder& d);
void read_dri(Decoder& d);
void read_app(Decoder& d, int marker);
void skip_segment(Decoder& d);
Scan read_sos(Decoder& d);
void allocate_frame(Decoder& d, bool multi_scan);

// jpeg_scan.cpp: decodes the entropy-coded data that follows an SOS header, leaving
// d.pos at the data's end (the next marker or junk before it).
void decode_scan(Decoder& d, const Scan& scan);
// After the last scan of a multi-scan file: every stored block through the IDCT, with
// libjpeg's block smoothing when a progressive file left coefficients unrefined.
void coefficients_to_planes(Decoder& d);
// jpeg_smooth.cpp
bool smoothing_ok(const Decoder& d);
void smoothed_to_planes(Decoder& d);

// jpeg_color.cpp: upsampled, colour-converted RGB from the component planes.
enum class ColorSpace { Gray, YCbCr, RGB, CMYK, YCCK };
ColorSpace color_space(const Decoder& d);
void planes_to_rgb(ImageRGB8& out, const Frame& frame, ColorSpace cs);

// decode_jpeg with a different pixel limit (the fuzz target uses a small one).
ImageRGB8 decode(const uint8_t* data, size_t size, uint64_t max_pixels);

}  // namespace tgv::jpeg
