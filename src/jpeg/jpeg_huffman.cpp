// Entropy decoding: Huffman tables, the bit reader and the per-block decoders of
// sequential (jdhuff.c) and progressive (jdphuff.c) JPEG, following libjpeg-turbo.
//
// Numerics that must match libjpeg exactly:
//  - a value of s bits is "extended" to a signed coefficient: v < 2^(s-1) -> v - 2^s + 1;
//  - a Huffman code that matches nothing within 16 bits consumes 17 bits and gives
//    symbol 0 (libjpeg warns and "fakes a zero as the safest result");
//  - coefficients are 16-bit (JCOEF): DC sums and (v << Al) wrap to int16;
//  - a run that jumps past coefficient 63 writes coefficient 63 (kZigzagToNatural pads).
#include <climits>

#include "jpeg/jpeg_internal.h"

namespace tgv::jpeg {

void build_huffman(HuffTable& t) {
  // T.81 Figures C.1/C.2 (code lengths -> canonical codes) and F.15 (maxcode/valoffset),
  // with libjpeg's checks: at most 256 symbols; the codes of each length must fit in
  // that many bits, and may not include the all-ones code.
  int lengths[257];
  int n = 0;
  for (int l = 1; l <= 16; l++) {
    if (n + t.counts[l] > 256) fail("jpeg: bad Huffman table (more than 256 codes)");
    for (int i = 0; i < t.counts[l]; i++) lengths[n++] = l;
  }
  uint32_t codes[256];
  uint32_t code = 0;
  int p = 0;
  for (int l = 1; l <= 16; l++) {
    for (int i = 0; i < t.counts[l]; i++) codes[p++] = code++;
    if (p > 0 && code >= (1u << l)) fail("jpeg: bad Huffman table (code lengths over-full)");
    code <<= 1;
  }
  p = 0;
  for (int l = 1; l <= 16; l++) {
    if (t.counts[l]) {
      t.valoffset[l] = p - static_cast<int32_t>(codes[p]);
      p += t.counts[l];
      t.maxcode[l] = static_cast<int32_t>(codes[p - 1]);
    } else {
      t.maxcode[l] = -1;
    }
  }
  t.maxcode[17] = 0xFFFFF;  // ends the slow search
  for (uint16_t& f : t.fast) f = 0;
  for (int i = 0; i < n; i++) {
    int l = lengths[i];
    if (l > kLookBits) break;
    uint32_t first = codes[i] << (kLookBits - l);
    uint32_t count = 1u << (kLookBits - l);
    for (uint32_t j = 0; j < count; j++)
      t.fast[first + j] = static_cast<uint16_t>((l << 8) | t.symbols[i]);
  }
  // Coefficient shortcut: symbol (run r, size s > 0) with code length l and l + s <= kLookBits.
  for (uint32_t look = 0; look < (1u << kLookBits); look++) {
    t.fast_ac[look] = 0;
    const int l = t.fast[look] >> 8, rs = t.fast[look] & 0xFF;
    const int r = rs >> 4, s = rs & 15;
    if (l == 0 || s == 0 || l + s > kLookBits) continue;
    const uint32_t bits = (look >> (kLookBits - l - s)) & ((1u << s) - 1);
    const int value = bits < (1u << (s - 1)) ? static_cast<int>(bits) - (1 << s) + 1 : static_cast<int>(bits);
    t.fast_ac[look] = static_cast<int32_t>(static_cast<uint32_t>(value) << 16) | (r << 8) | (l + s);
  }
  t.defined = true;
}

void BitReader::fill() {
  while (bits <= 56) {
    uint64_t byte = 0;
    if (marker == 0) {
      if (pos >= size) fail("jpeg: truncated file (entropy-coded data runs to the end)");
      byte = data[pos];
      if (byte == 0xFF) {
        // 0xFF 0x00 is a stuffed 0xFF data byte; extra 0xFF are fill; anything else is a marker.
        size_t p = pos + 1;
        while (p < size && data[p] == 0xFF) p++;
        if (p >= size) fail("jpeg: truncated file (entropy-coded data runs to the end)");
        if (data[p] == 0) {
          pos = p + 1;
        } else {
          marker = data[p];
          pos = p - 1;
          byte = 0;
          padded += 8;
        }
      } else {
        pos++;
      }
    } else {
      padded += 8;  // at a marker: supply zero bits, as libjpeg does
    }
    buf |= byte << (56 - bits);
    bits += 8;
  }
}

int decode_symbol_slow(BitReader& br, const HuffTable& t) {
  // The first kLookBits bits matched no code (T.81 F.16, from length kLookBits + 1 on).
  int l = kLookBits + 1;
  int32_t code = static_cast<int32_t>(br.buf >> (64 - l));
  while (code > t.maxcode[l]) {
    l++;
    code = static_cast<int32_t>(br.buf >> (64 - l));
  }
  if (l > 16) {  // no such code: libjpeg consumes 17 bits and returns 0
    br.get(16);
    br.get(1);
    return 0;
  }
  br.get(l);
  return t.symbols[(code + t.valoffset[l]) & 0xFF];
}

namespace {

inline int extend(uint32_t v, int s) {
  return v < (1u << (s - 1)) ? static_cast<int>(v) - (1 << s) + 1 : static_cast<int>(v);
}

inline int receive_extend(BitReader& br, int s) {
  if (s == 0) return 0;
  br.ensure(s);
  return extend(br.get(s), s);
}

inline void add_dc(int* pred, int diff) {
  // libjpeg refuses a DC predictor that would overflow int (JERR_BAD_DCT_COEF)
  if ((*pred >= 0 && diff > INT_MAX - *pred) || (*pred < 0 && diff < INT_MIN - *pred))
    fail("jpeg: DC coefficient out of range");
  *pred += diff;
}

inline int16_t shifted(int v, int al) {  // libjpeg's (JCOEF)LEFT_SHIFT(v, Al)
  return static_cast<int16_t>(static_cast<uint32_t>(v) << al);
}

// One correction bit for an already non-zero coefficient in an AC refinement scan.
inline void refine_nonzero(int16_t* c, BitReader& br, int p1) {
  br.ensure(1);
  if (br.get(1) && (*c & p1) == 0) *c = static_cast<int16_t>(*c >= 0 ? *c + p1 : *c - p1);
}

}  // namespace

int decode_block_sequential(int16_t* block, int* dc_pred, BitReader& br, const HuffTable& dc,
                            const HuffTable& ac) {
  add_dc(dc_pred, receive_extend(br, decode_symbol(br, dc)));
  block[0] = static_cast<int16_t>(*dc_pred);
  int last = 0;
  for (int k = 1; k < 64; k++) {
    br.ensure(17);
    const int32_t fa = ac.fast_ac[br.buf >> (64 - kLookBits)];
    if (fa != 0) {  // code + value in one lookup
      br.buf <<= fa & 0xFF;
      br.bits -= fa & 0xFF;
      k += (fa >> 8) & 15;
      block[kZigzagToNatural[k]] = static_cast<int16_t>(fa >> 16);
      last = k;
      continue;
    }
    int rs = decode_symbol(br, ac);
    int r = rs >> 4, s = rs & 15;
    if (s) {
      k += r;
      block[kZigzagToNatural[k]] = static_cast<int16_t>(receive_extend(br, s));
      last = k;
    } else {
      if (r != 15) break;  // end of block
      k += 15;             // run of 16 zeros
    }
  }
  return last;
}

void decode_dc_first(int16_t* block, int* dc_pred, BitReader& br, const HuffTable& dc, int al) {
  add_dc(dc_pred, receive_extend(br, decode_symbol(br, dc)));
  block[0] = shifted(*dc_pred, al);
}

void decode_dc_refine(int16_t* block, BitReader& br, int al) {
  br.ensure(1);
  if (br.get(1)) block[0] = static_cast<int16_t>(block[0] | (1 << al));
}

void decode_ac_first(int16_t* block, int* eobrun, BitReader& br, const HuffTable& ac, int ss, int se,
                     int al) {
  if (*eobrun > 0) {  // this block is inside a run of empty bands
    (*eobrun)--;
    return;
  }
  for (int k = ss; k <= se; k++) {
    int rs = decode_symbol(br, ac);
    int r = rs >> 4, s = rs & 15;
    if (s) {
      k += r;
      block[kZigzagToNatural[k]] = shifted(receive_extend(br, s), al);
    } else if (r == 15) {
      k += 15;
    } else {  // EOBr: this and the next 2^r - 1 + (r bits) blocks end here
      *eobrun = 1 << r;
      if (r) {
        br.ensure(r);
        *eobrun += static_cast<int>(br.get(r));
      }
      (*eobrun)--;
      break;
    }
  }
}

void decode_ac_refine(int16_t* block, int* eobrun, BitReader& br, const HuffTable& ac, int ss, int se,
                      int al) {
  // Each non-zero coefficient in the band gets one correction bit; new coefficients
  // (always +-1 << Al) are placed after skipping r still-zero ones (T.81 G.1.2.3).
  const int p1 = 1 << al;
  int k = ss;
  if (*eobrun == 0) {
    for (; k <= se; k++) {
      int rs = decode_symbol(br, ac);
      int r = rs >> 4, s = rs & 15;
      if (s) {  // s should be 1; libjpeg only warns otherwise
        br.ensure(1);
        s = br.get(1) ? p1 : -p1;
      } else if (r != 15) {
        *eobrun = 1 << r;
        if (r) {
          br.ensure(r);
          *eobrun += static_cast<int>(br.get(r));
        }
        break;
      }
      do {
        int16_t* c = block + kZigzagToNatural[k];
        if (*c != 0) {
          refine_nonzero(c, br, p1);
        } else if (--r < 0) {
          break;
        }
        k++;
      } while (k <= se);
      if (s) block[kZigzagToNatural[k]] = static_cast<int16_t>(s);
    }
  }
  if (*eobrun > 0) {  // inside an end-of-band run: only correction bits remain
    for (; k <= se; k++) {
      int16_t* c = block + kZigzagToNatural[k];
      if (*c != 0) refine_nonzero(c, br, p1);
    }
    (*eobrun)--;
  }
}

}  // namespace tgv::jpeg
