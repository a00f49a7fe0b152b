// JPEG marker segments (ITU-T T.81 Annex B) -> the decoder's frame, tables and scans,
// with libjpeg-turbo's (jdmarker.c, jdinput.c) checks and conventions:
//   SOF  precision 8 only; 1..65500 per side; 1, 3 or 4 components (what PIL opens);
//        sampling factors 1..4; the pixel count is checked against the limit here,
//        before anything is allocated.
//   DQT  8- or 16-bit entries, zigzag order -> natural order; whole tables only.
//   DHT  up to 256 symbols; a table with an impossible code set only fails when a scan
//        uses it (libjpeg builds its decoding tables lazily).
//   DRI  restart interval in MCUs (0 = none), may change between scans.
//   APP0 "JFIF\0" (>= 14 bytes) and APP14 "Adobe" (>= 12 bytes, transform byte at 11)
//        decide the colour space (jpeg_color.cpp); every other APPn/COM is skipped.
//   SOS  components are found by id (first match not yet in this scan); any id byte.
// Every read is bounds-checked; a segment that runs past the end is "truncated".
#include <algorithm>
#include <string>

#include "jpeg/jpeg_internal.h"

namespace tgv::jpeg {

namespace {

// The payload [begin, end) of the segment whose length field is at d.pos; d.pos moves
// past it.
struct Segment {
  size_t begin, end;
};

Segment take_segment(Decoder& d, const char* name) {
  if (d.size - d.pos < 2) fail(std::string("jpeg: truncated file (in ") + name + " segment)");
  size_t length = (static_cast<size_t>(d.data[d.pos]) << 8) | d.data[d.pos + 1];
  if (length < 2) fail(std::string("jpeg: bad ") + name + " segment length");
  if (d.size - d.pos < length) fail(std::string("jpeg: truncated file (in ") + name + " segment)");
  Segment s{d.pos + 2, d.pos + length};
  d.pos += length;
  return s;
}

int u16(const uint8_t* p) { return (p[0] << 8) | p[1]; }

}  // namespace

int next_marker(Decoder& d) {
  // libjpeg's next_marker: skip any non-0xFF junk, swallow 0xFF fill bytes, ignore
  // stuffed 0xFF 0x00 pairs.
  for (;;) {
    while (d.pos < d.size && d.data[d.pos] != 0xFF) d.pos++;
    while (d.pos < d.size && d.data[d.pos] == 0xFF) d.pos++;
    if (d.pos >= d.size) fail("jpeg: truncated file (no EOI marker)");
    int code = d.data[d.pos++];
    if (code != 0) return code;
  }
}

void skip_segment(Decoder& d) { take_segment(d, "marker"); }

void read_sof(Decoder& d, int marker) {
  Segment s = take_segment(d, "SOF");
  if (d.have_frame) fail("jpeg: more than one frame header (SOF)");
  const uint8_t* p = d.data + s.begin;
  size_t n = s.end - s.begin;
  if (n < 6) fail("jpeg: bad SOF segment length");
  if (p[0] != 8)
    fail("jpeg: unsupported: " + std::to_string(p[0]) + "-bit samples (only 8-bit JPEG is supported)");
  Frame& f = d.frame;
  f = Frame{};
  f.progressive = marker == 0xC2;
  f.height = u16(p + 1);
  f.width = u16(p + 3);
  f.ncomp = p[5];
  if (f.width == 0 || f.height == 0) fail("jpeg: image has zero width or height (DNL is not supported)");
  if (f.width > kMaxDimension || f.height > kMaxDimension)
    fail("jpeg: image too large (" + std::to_string(f.width) + "x" + std::to_string(f.height) + ")");
  uint64_t pixels = static_cast<uint64_t>(f.width) * static_cast<uint64_t>(f.height);
  if (pixels > d.max_pixels)
    fail("jpeg: image too large (" + std::to_string(f.width) + "x" + std::to_string(f.height) +
         " pixels, limit " + std::to_string(d.max_pixels) + ")");
  if (f.ncomp != 1 && f.ncomp != 3 && f.ncomp != 4)
    fail("jpeg: unsupported number of components (" + std::to_string(f.ncomp) + ")");
  if (n != 6 + 3 * static_cast<size_t>(f.ncomp)) fail("jpeg: bad SOF segment length");
  for (int i = 0; i < f.ncomp; i++) {
    Component& c = f.comp[i];
    c.id = p[6 + 3 * i];
    c.h = p[7 + 3 * i] >> 4;
    c.v = p[7 + 3 * i] & 15;
    c.tq = p[8 + 3 * i];
    for (int& b : c.coef_bits) b = -1;
    if (c.h < 1 || c.h > 4 || c.v < 1 || c.v > 4) fail("jpeg: bad sampling factors in SOF");
    f.max_h = std::max(f.max_h, c.h);
    f.max_v = std::max(f.max_v, c.v);
  }
  for (int i = 0; i < f.ncomp; i++)  // libjpeg's upsampler only does integer ratios
    if (f.max_h % f.comp[i].h != 0 || f.max_v % f.comp[i].v != 0)
      fail("jpeg: unsupported: fractional sampling ratio (component " + std::to_string(i) + ")");
  f.mcus_x = (f.width + 8 * f.max_h - 1) / (8 * f.max_h);
  f.mcus_y = (f.height + 8 * f.max_v - 1) / (8 * f.max_v);
  for (int i = 0; i < f.ncomp; i++) {
    Component& c = f.comp[i];
    // libjpeg: downsampled_width = ceil(W * h / max_h); width_in_blocks = ceil(that / 8)
    c.width = (f.width * c.h + f.max_h - 1) / f.max_h;
    c.height = (f.height * c.v + f.max_v - 1) / f.max_v;
    c.blocks_w = (c.width + 7) / 8;
    c.blocks_h = (c.height + 7) / 8;
    c.alloc_w = f.mcus_x * c.h;
    c.alloc_h = f.mcus_y * c.v;
  }
  d.have_frame = true;
}

void allocate_frame(Decoder& d, bool multi_scan) {
  Frame& f = d.frame;
  for (int i = 0; i < f.ncomp; i++) {
    Component& c = f.comp[i];
    size_t blocks = checked_mul(static_cast<size_t>(c.alloc_w), static_cast<size_t>(c.alloc_h), "jpeg blocks");
    c.plane.assign(checked_mul(blocks, 64, "jpeg plane"), 0);
    if (multi_scan) c.coefs.assign(checked_mul(blocks, 64, "jpeg coefficients"), 0);
  }
}

void read_dqt(Decoder& d) {
  Segment s = take_segment(d, "DQT");
  size_t p = s.begin;
  while (p < s.end) {
    int pq = d.data[p] >> 4, tq = d.data[p] & 15;
    p++;
    if (tq >= 4) fail("jpeg: bad DQT table index " + std::to_string(tq));
    size_t need = pq ? 128 : 64;
    if (s.end - p < need) fail("jpeg: bad DQT segment length");
    for (int k = 0; k < 64; k++) {
      int v = pq ? u16(d.data + p + 2 * k) : d.data[p + k];
      d.quant[tq][kZigzagToNatural[k]] = static_cast<uint16_t>(v);
    }
    d.quant_defined[tq] = true;
    p += need;
  }
}

void read_dht(Decoder& d) {
  Segment s = take_segment(d, "DHT");
  size_t p = s.begin;
  while (p < s.end) {
    if (s.end - p < 17) fail("jpeg: bad DHT segment length");
    int tc = d.data[p] >> 4, th = d.data[p] & 15;
    if (tc > 1 || th >= 4) fail("jpeg: bad DHT table index");
    HuffTable& t = tc ? d.ac[th] : d.dc[th];
    t = HuffTable{};
    int count = 0;
    for (int l = 1; l <= 16; l++) {
      t.counts[l] = d.data[p + l];
      count += t.counts[l];
    }
    p += 17;
    if (count > 256 || static_cast<size_t>(count) > s.end - p) fail("jpeg: bad Huffman table (DHT)");
    for (int i = 0; i < count; i++) t.symbols[i] = d.data[p + i];
    p += static_cast<size_t>(count);
    try {
      build_huffman(t);
    } catch (const Error&) {
      t.defined = false;  // an error only if a scan uses it, like libjpeg
    }
  }
}

void read_dri(Decoder& d) {
  Segment s = take_segment(d, "DRI");
  if (s.end - s.begin != 2) fail("jpeg: bad DRI segment length");
  d.restart_interval = u16(d.data + s.begin);
}

void read_app(Decoder& d, int marker) {
  Segment s = take_segment(d, "APP");
  const uint8_t* p = d.data + s.begin;
  size_t n = s.end - s.begin;
  if (marker == 0xE0 && n >= 14 && p[0] == 'J' && p[1] == 'F' && p[2] == 'I' && p[3] == 'F' && p[4] == 0)
    d.saw_jfif = true;
  if (marker == 0xEE && n >= 12 && p[0] == 'A' && p[1] == 'd' && p[2] == 'o' && p[3] == 'b' && p[4] == 'e') {
    d.saw_adobe = true;
    d.adobe_transform = p[11];
  }
}

Scan read_sos(Decoder& d) {
  Segment s = take_segment(d, "SOS");
  if (!d.have_frame) fail("jpeg: scan (SOS) before the frame header (SOF)");
  const uint8_t* p = d.data + s.begin;
  size_t n = s.end - s.begin;
  Scan scan;
  if (n < 1) fail("jpeg: bad SOS segment length");
  scan.ncomp = p[0];
  if (scan.ncomp < 1 || scan.ncomp > kMaxComponents || n != 4 + 2 * static_cast<size_t>(scan.ncomp))
    fail("jpeg: bad SOS segment length");
  const Frame& f = d.frame;
  for (int i = 0; i < scan.ncomp; i++) {
    int id = p[1 + 2 * i];
    int found = -1;
    for (int c = 0; c < f.ncomp && found < 0; c++) {
      bool taken = false;
      for (int j = 0; j < i; j++) taken |= scan.comp[j] == c;
      if (f.comp[c].id == id && !taken) found = c;
    }
    if (found < 0) fail("jpeg: scan refers to unknown component id " + std::to_string(id));
    scan.comp[i] = found;
    scan.dc_table[i] = p[2 + 2 * i] >> 4;
    scan.ac_table[i] = p[2 + 2 * i] & 15;
  }
  const uint8_t* q = p + 1 + 2 * scan.ncomp;
  scan.ss = q[0];
  scan.se = q[1];
  scan.ah = q[2] >> 4;
  scan.al = q[2] & 15;
  return scan;
}

}  // namespace tgv::jpeg
