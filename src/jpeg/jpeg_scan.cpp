// One scan of entropy-coded data: the MCU walk, restart markers and where each decoded
// block goes (libjpeg-turbo jdcoefct.c / jdhuff.c / jdphuff.c / jdmarker.c).
//
// MCU geometry (T.81 A.2):
//   interleaved scan (several components): MCU = for each component h x v blocks;
//     grid ceil(W / (8*max_h)) x ceil(H / (8*max_v)) MCUs; blocks past the image edge
//     ("dummy" blocks) are still coded and decoded.
//   non-interleaved scan (one component): MCU = 1 block; grid = that component's
//     blocks_w x blocks_h (ceil of its own size / 8), no dummy blocks.
// Single-scan sequential files go straight through the IDCT into the component planes
// (blocks [alloc_h, alloc_w] of 8x8 samples); every other file keeps 16-bit
// coefficients per block until EOI.
//
// Damaged data, as libjpeg handles it (so such files still match PIL):
//   - data that hits a marker early reads as zero bits; once a block needed those
//     bits, the rest of the restart interval is skipped (grey in a single-scan file,
//     earlier scans' values in a multi-scan one);
//   - at a restart boundary the expected RSTn is looked for; a wrong marker goes
//     through jpeg_resync_to_restart's rules (skip it, or treat the segment as empty).
#include <algorithm>
#include <string>

#include "jpeg/jpeg_internal.h"

namespace tgv::jpeg {

namespace {

// libjpeg's next_marker on the entropy-coded data: from pos, find 0xFF <code> with
// code != 0; leaves pos on the 0xFF (the last of a run of fill bytes).
int find_marker(const uint8_t* data, size_t size, size_t& pos) {
  for (;;) {
    while (pos < size && data[pos] != 0xFF) pos++;
    while (pos + 1 < size && data[pos + 1] == 0xFF) pos++;
    if (pos + 1 >= size) fail("jpeg: truncated file (no EOI marker)");
    if (data[pos + 1] != 0) return data[pos + 1];
    pos += 2;  // stuffed zero: keep looking
  }
}

struct ScanState {
  BitReader br;
  int dc_pred[kMaxComponents] = {};
  int eobrun = 0;
  int restarts_left = 0;
  int next_rst = 0;          // expected RSTn number, 0..7
  bool insufficient = false; // the current restart interval ran out of data
};

// libjpeg's process_restart + read_restart_marker + jpeg_resync_to_restart.
void process_restart(ScanState& st, int restart_interval) {
  BitReader& br = st.br;
  br.reset();  // unused bits of the finished interval are dropped
  if (br.marker == 0) br.marker = find_marker(br.data, br.size, br.pos);
  const int desired = st.next_rst;
  for (;;) {
    int m = br.marker;
    int action;
    if (m == 0xD0 + desired) {
      action = 1;
    } else if (m < 0xC0) {
      action = 2;  // not a valid marker: skip it and look further
    } else if (m < 0xD0 || m > 0xD7) {
      action = 3;  // a real marker (EOI, SOS, ...): leave it, the interval is empty
    } else if (m == 0xD0 + ((desired + 1) & 7) || m == 0xD0 + ((desired + 2) & 7)) {
      action = 3;  // one of the next two restarts: this interval's data is missing
    } else if (m == 0xD0 + ((desired - 1) & 7) || m == 0xD0 + ((desired - 2) & 7)) {
      action = 2;  // an earlier restart: skip ahead
    } else {
      action = 1;  // too far away to reason about: take it as the one we wanted
    }
    if (action == 1) {
      br.marker = 0;
      br.pos += 2;
      break;
    }
    if (action == 3) break;
    br.pos += 2;
    br.marker = find_marker(br.data, br.size, br.pos);
  }
  st.next_rst = (st.next_rst + 1) & 7;
  for (int& p : st.dc_pred) p = 0;
  st.eobrun = 0;
  st.restarts_left = restart_interval;
  if (br.marker == 0) st.insufficient = false;
}

const HuffTable& table_for_scan(const HuffTable* tables, int index, bool dc) {
  if (index >= 4 || !tables[index].defined)
    fail("jpeg: scan uses an undefined or invalid Huffman table " + std::to_string(index));
  const HuffTable& t = tables[index];
  if (dc) {  // libjpeg: DC symbols are bit counts 0..15
    int n = 0;
    for (int l = 1; l <= 16; l++) n += t.counts[l];
    for (int i = 0; i < n; i++)
      if (t.symbols[i] > 15) fail("jpeg: bad DC Huffman table (symbol > 15)");
  }
  return t;
}

enum class Kind { Sequential, DcFirst, DcRefine, AcFirst, AcRefine };

Kind check_scan(const Decoder& d, const Scan& s) {
  if (!d.frame.progressive) return Kind::Sequential;  // Ss/Se/Ah/Al ignored (libjpeg warns)
  bool dc = s.ss == 0;
  bool bad = false;
  if (dc) {
    bad |= s.se != 0;
  } else {
    bad |= s.ss > s.se || s.se > 63;
    bad |= s.ncomp != 1;  // AC scans carry one component
  }
  if (s.ah != 0) bad |= s.al != s.ah - 1;
  bad |= s.al > 13;
  if (bad)
    fail("jpeg: bad progressive scan parameters (Ss=" + std::to_string(s.ss) + " Se=" + std::to_string(s.se) +
         " Ah=" + std::to_string(s.ah) + " Al=" + std::to_string(s.al) + ")");
  if (dc) return s.ah == 0 ? Kind::DcFirst : Kind::DcRefine;
  return s.ah == 0 ? Kind::AcFirst : Kind::AcRefine;
}

}  // namespace

void decode_scan(Decoder& d, const Scan& scan) {
  Frame& f = d.frame;
  const Kind kind = check_scan(d, scan);

  // Tables: libjpeg latches a component's quantization table at its first scan.
  const HuffTable* dc[kMaxComponents] = {};
  const HuffTable* ac[kMaxComponents] = {};
  for (int i = 0; i < scan.ncomp; i++) {
    Component& c = f.comp[scan.comp[i]];
    if (!c.quant_latched) {
      if (c.tq >= 4 || !d.quant_defined[c.tq])
        fail("jpeg: component uses undefined quantization table " + std::to_string(c.tq));
      std::copy(d.quant[c.tq], d.quant[c.tq] + 64, c.quant);
      c.quant_latched = true;
    }
    if (kind == Kind::Sequential || kind == Kind::DcFirst) dc[i] = &table_for_scan(d.dc, scan.dc_table[i], true);
    if (kind == Kind::Sequential || kind == Kind::AcFirst || kind == Kind::AcRefine)
      ac[i] = &table_for_scan(d.ac, scan.ac_table[i], false);
  }

  // libjpeg's progression bookkeeping (start_pass_phuff_decoder), used by block smoothing.
  if (f.progressive) {
    for (int i = 0; i < scan.ncomp; i++) {
      Component& c = f.comp[scan.comp[i]];
      for (int k = 1; k <= 9; k++) c.prev_bits[k] = d.scans > 0 ? c.coef_bits[k] : 0;
      for (int k = scan.ss; k <= scan.se; k++) c.coef_bits[k] = scan.al;
    }
  }

  // MCU geometry.
  const bool interleaved = scan.ncomp > 1;
  int mcus_x, mcus_y;
  if (interleaved) {
    mcus_x = f.mcus_x;
    mcus_y = f.mcus_y;
    int blocks = 0;
    for (int i = 0; i < scan.ncomp; i++) blocks += f.comp[scan.comp[i]].h * f.comp[scan.comp[i]].v;
    if (blocks > kMaxBlocksInMcu) fail("jpeg: too many blocks in an MCU (" + std::to_string(blocks) + ")");
  } else {
    mcus_x = f.comp[scan.comp[0]].blocks_w;
    mcus_y = f.comp[scan.comp[0]].blocks_h;
  }

  ScanState st;
  st.br.data = d.data;
  st.br.size = d.size;
  st.br.pos = d.pos;
  st.restarts_left = d.restart_interval;
  BitReader& br = st.br;
  alignas(16) int16_t temp[64] = {};

  for (int my = 0; my < mcus_y; my++) {
    for (int mx = 0; mx < mcus_x; mx++) {
      if (d.restart_interval) {
        if (st.restarts_left == 0) process_restart(st, d.restart_interval);
        st.restarts_left--;
      }
      if (!st.insufficient) d.last_good_imcu_row = interleaved ? my : my / f.comp[scan.comp[0]].v;
      for (int i = 0; i < scan.ncomp; i++) {
        Component& c = f.comp[scan.comp[i]];
        const int bh = interleaved ? c.h : 1, bv = interleaved ? c.v : 1;
        for (int by = 0; by < bv; by++) {
          for (int bx = 0; bx < bh; bx++) {
            const size_t row = static_cast<size_t>(my) * bv + by;
            const size_t col = static_cast<size_t>(mx) * bh + bx;
            if (!d.multi_scan) {  // decode, then straight through the IDCT
              int last = 0;
              temp[0] = 0;
              if (!st.insufficient) last = decode_block_sequential(temp, &st.dc_pred[i], br, *dc[i], *ac[i]);
              uint8_t* dst = c.plane.data() + row * 8 * c.plane_stride() + col * 8;
              if (last == 0) {
                idct_dc_only(dst, c.plane_stride(), temp[0], c.quant[0]);
              } else {
                idct_islow(dst, c.plane_stride(), temp, c.quant);
                for (int16_t& v : temp) v = 0;  // keep the block all-zero for the next one
              }
              continue;
            }
            if (st.insufficient) continue;
            int16_t* block = c.coefs.data() + (row * static_cast<size_t>(c.alloc_w) + col) * 64;
            switch (kind) {
              case Kind::Sequential: decode_block_sequential(block, &st.dc_pred[i], br, *dc[i], *ac[i]); break;
              case Kind::DcFirst: decode_dc_first(block, &st.dc_pred[i], br, *dc[i], scan.al); break;
              case Kind::DcRefine: decode_dc_refine(block, br, scan.al); break;
              case Kind::AcFirst: decode_ac_first(block, &st.eobrun, br, *ac[i], scan.ss, scan.se, scan.al); break;
              case Kind::AcRefine: decode_ac_refine(block, &st.eobrun, br, *ac[i], scan.ss, scan.se, scan.al); break;
            }
          }
        }
      }
      if (br.overran()) st.insufficient = true;
    }
  }
  d.pos = br.pos;
}

void coefficients_to_planes(Decoder& d) {
  if (smoothing_ok(d)) return smoothed_to_planes(d);
  Frame& f = d.frame;
  for (int i = 0; i < f.ncomp; i++) {
    Component& c = f.comp[i];
    if (c.coefs.empty()) continue;
    // Only blocks holding image samples; the upsampler never reads past them.
    for (int by = 0; by < c.blocks_h; by++) {
      for (int bx = 0; bx < c.blocks_w; bx++) {
        uint8_t* dst = c.plane.data() + static_cast<size_t>(by) * 8 * c.plane_stride() + static_cast<size_t>(bx) * 8;
        const int16_t* blk = c.coefs.data() + (static_cast<size_t>(by) * c.alloc_w + bx) * 64;
        bool flat = true;
        for (int k = 1; k < 64 && flat; k++) flat = blk[k] == 0;
        if (flat) idct_dc_only(dst, c.plane_stride(), blk[0], c.quant[0]);
        else idct_islow(dst, c.plane_stride(), blk, c.quant);
      }
    }
  }
}

}  // namespace tgv::jpeg
