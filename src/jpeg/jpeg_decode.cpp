// decode_jpeg: JPEG bytes -> RGB8 exactly as PIL's Image.open(f).convert("RGB")
// (model.md section 1; the stages are described in docs/jpeg.md).
//
//   SOI, then markers until EOI:  tables (DQT/DHT/DRI), frame (SOF0/1/2), scans (SOS +
//   entropy-coded data)  ->  component planes  ->  upsample + colour  ->  RGB
//
// Supported: baseline and extended sequential Huffman (SOF0/SOF1), progressive Huffman
// (SOF2), 8-bit, 1/3/4 components, any integer sampling ratios, restart intervals.
// Refused with an "unsupported" Error: arithmetic coding (SOF9-11, SOF13-15), lossless
// (SOF3), hierarchical (SOF5-7), 12-bit. A file must end in EOI (PIL reports
// "image file is truncated" otherwise); anything after EOI is ignored.
#include <string>

#include "jpeg/jpeg_internal.h"

namespace tgv {

namespace jpeg {

namespace {

std::string hex(int code) {
  const char* digits = "0123456789ABCDEF";
  return std::string("0xFF") + digits[(code >> 4) & 15] + digits[code & 15];
}

}  // namespace

ImageRGB8 decode(const uint8_t* data, size_t size, uint64_t max_pixels) {
  // PIL only opens files that start FF D8 FF.
  if (size < 3 || data[0] != 0xFF || data[1] != 0xD8 || data[2] != 0xFF)
    fail("jpeg: not a JPEG file (no SOI marker)");
  Decoder d;
  d.data = data;
  d.size = size;
  d.pos = 2;
  d.max_pixels = max_pixels;
  standard_huffman(d.dc, d.ac);  // slots 0 and 1 until a DHT replaces them

  for (bool done = false; !done;) {
    const int m = next_marker(d);
    switch (m) {
      case 0xC0: case 0xC1: case 0xC2:
        read_sof(d, m);
        break;
      case 0xC3: fail("jpeg: unsupported: lossless JPEG (SOF3)");
      case 0xC5: case 0xC6: case 0xC7: fail("jpeg: unsupported: hierarchical JPEG (" + hex(m) + ")");
      case 0xC9: case 0xCA: case 0xCB: case 0xCD: case 0xCE: case 0xCF:
        fail("jpeg: unsupported: arithmetic coding (" + hex(m) + ")");
      case 0xC4: read_dht(d); break;
      case 0xCC: skip_segment(d); break;  // DAC: arithmetic conditioning, unused here
      case 0xDB: read_dqt(d); break;
      case 0xDD: read_dri(d); break;
      case 0xDC: skip_segment(d); break;  // DNL: ignored, like libjpeg
      case 0xDA: {
        Scan scan = read_sos(d);
        if (d.scans >= kMaxScans) fail("jpeg: too many scans (more than " + std::to_string(kMaxScans) + ")");
        if (d.scans == 0) {
          d.multi_scan = d.frame.progressive || scan.ncomp < d.frame.ncomp;
          allocate_frame(d, d.multi_scan);
        } else if (!d.multi_scan) {
          fail("jpeg: a second scan in a single-scan file (EOI expected)");
        }
        decode_scan(d, scan);
        d.scans++;
        break;
      }
      case 0xD9: done = true; break;
      case 0xD8: fail("jpeg: duplicate SOI marker");
      case 0x01: case 0xD0: case 0xD1: case 0xD2: case 0xD3: case 0xD4: case 0xD5: case 0xD6: case 0xD7:
        break;  // TEM, RSTn: no parameters
      case 0xFE: skip_segment(d); break;  // COM
      default:
        if (m >= 0xE0 && m <= 0xEF) {
          read_app(d, m);
          break;
        }
        fail("jpeg: unsupported or unknown marker " + hex(m));
    }
  }
  if (d.scans == 0) fail("jpeg: no image data (EOI before any scan)");
  if (d.multi_scan) coefficients_to_planes(d);
  ImageRGB8 out;
  planes_to_rgb(out, d.frame, color_space(d));
  return out;
}

}  // namespace jpeg

ImageRGB8 decode_jpeg(const uint8_t* data, size_t size) { return jpeg::decode(data, size, kMaxImagePixels); }

}  // namespace tgv
