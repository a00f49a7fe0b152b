// Boxes in stage-4 answers (model.md section 7):
//   <p>a dog</p>{<12><30><55><90>}<delim>{<60><10><95><70>}
// Each box is {<x0><y0><x1><y1>} with integers 0..100, fractions of the image's
// width and height times 100; a phrase <p>...</p> labels the boxes that follow it.
#pragma once
#include <string>
#include <string_view>
#include <vector>

#include "tinygptv/image.h"

namespace tgv {

struct GroundedBox {
  std::string label;       // the phrase before it, "" when none
  int x0, y0, x1, y1;      // 0..100
};

// Every well-formed box in the text, in order; malformed pieces are skipped.
std::vector<GroundedBox> parse_boxes(std::string_view answer);

// The answer with the box markup removed: "<p>a dog</p>{<1><2><3><4>}" -> "a dog".
std::string strip_boxes(std::string_view answer);

// Draws each box (3 px outline, one colour per label) and its label onto img.
void draw_boxes(ImageRGB8& img, const std::vector<GroundedBox>& boxes);

}  // namespace tgv
