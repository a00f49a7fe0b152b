// Parsing and drawing grounded boxes: see include/tinygptv/grounding.h.
#include "tinygptv/grounding.h"

#include <algorithm>
#include <map>

#include "pipeline/font.h"

namespace tgv {

namespace {

// Reads "<N>" at s[i] with N an integer 0..100; advances i.
bool read_coord(std::string_view s, size_t& i, int* out) {
  if (i >= s.size() || s[i] != '<') return false;
  size_t j = i + 1;
  int v = 0, digits = 0;
  while (j < s.size() && s[j] >= '0' && s[j] <= '9' && digits < 4) v = v * 10 + (s[j++] - '0'), digits++;
  if (digits == 0 || j >= s.size() || s[j] != '>' || v > 100) return false;
  *out = v;
  i = j + 1;
  return true;
}

}  // namespace

std::vector<GroundedBox> parse_boxes(std::string_view s) {
  std::vector<GroundedBox> boxes;
  std::string label;
  for (size_t i = 0; i < s.size();) {
    if (s.compare(i, 3, "<p>") == 0) {
      const size_t end = s.find("</p>", i + 3);
      if (end == std::string_view::npos) break;
      label = std::string(s.substr(i + 3, end - i - 3));
      i = end + 4;
      continue;
    }
    if (s[i] == '{') {
      size_t j = i + 1;
      GroundedBox b{label, 0, 0, 0, 0};
      if (read_coord(s, j, &b.x0) && read_coord(s, j, &b.y0) && read_coord(s, j, &b.x1) && read_coord(s, j, &b.y1) &&
          j < s.size() && s[j] == '}') {
        boxes.push_back(b);
        i = j + 1;
        continue;
      }
    }
    i++;
  }
  return boxes;
}

std::string strip_boxes(std::string_view s) {
  std::string out;
  for (size_t i = 0; i < s.size();) {
    if (s.compare(i, 3, "<p>") == 0) { i += 3; continue; }
    if (s.compare(i, 4, "</p>") == 0) { i += 4; continue; }
    if (s.compare(i, 7, "<delim>") == 0) { i += 7; continue; }
    if (s[i] == '{') {
      size_t j = i + 1;
      int v;
      if (read_coord(s, j, &v) && read_coord(s, j, &v) && read_coord(s, j, &v) && read_coord(s, j, &v) &&
          j < s.size() && s[j] == '}') {
        i = j + 1;
        continue;
      }
    }
    out += s[i++];
  }
  return out;
}

void draw_boxes(ImageRGB8& img, const std::vector<GroundedBox>& boxes) {
  static const uint8_t kColours[][3] = {{230, 25, 75}, {60, 180, 75}, {0, 130, 200}, {245, 130, 48},
                                        {145, 30, 180}, {70, 240, 240}, {240, 50, 230}, {255, 225, 25}};
  const int W = img.width, H = img.height;
  if (W <= 0 || H <= 0) return;
  auto put = [&](int x, int y, const uint8_t* c) {
    if (x < 0 || y < 0 || x >= W || y >= H) return;
    uint8_t* p = &img.pixels[(static_cast<size_t>(y) * W + x) * 3];
    p[0] = c[0], p[1] = c[1], p[2] = c[2];
  };
  std::map<std::string, size_t> colour_of;
  for (const auto& b : boxes) {
    const size_t ci = colour_of.emplace(b.label, colour_of.size()).first->second % 8;
    const uint8_t* c = kColours[ci];
    // 0..100 -> pixels; upstream scales by width/height / 100.
    int x0 = b.x0 * W / 100, x1 = b.x1 * W / 100, y0 = b.y0 * H / 100, y1 = b.y1 * H / 100;
    if (x0 > x1) std::swap(x0, x1);
    if (y0 > y1) std::swap(y0, y1);
    x1 = std::min(x1, W - 1), y1 = std::min(y1, H - 1);
    for (int t = 0; t < 3; t++) {
      for (int x = x0; x <= x1; x++) put(x, y0 + t, c), put(x, y1 - t, c);
      for (int y = y0; y <= y1; y++) put(x0 + t, y, c), put(x1 - t, y, c);
    }
    if (!b.label.empty()) {  // the label on a filled strip above the box (inside when at the top)
      const int scale = std::max(1, std::min(W, H) / 300);
      const int th = kFontHeight * scale + 2, tw = static_cast<int>(b.label.size()) * kFontWidth * scale + 4;
      const int ty = y0 >= th ? y0 - th : y0;
      for (int y = ty; y < ty + th; y++)
        for (int x = x0; x < x0 + tw; x++) put(x, y, c);
      static const uint8_t white[3] = {255, 255, 255};
      draw_text(b.label, x0 + 2, ty + 1, scale, [&](int x, int y) { put(x, y, white); });
    }
  }
}

}  // namespace tgv
