// Prompt templates and grounded-box parsing, against the strings model.md
// section 7 spells out.
#include <doctest/doctest.h>

#include "tinygptv/chat.h"
#include "tinygptv/error.h"
#include "tinygptv/grounding.h"

using namespace tgv;

TEST_CASE("stage 1-3 prompt is the model.md section 7 text") {
  Conversation c(ChatTemplate::MiniGPT4);
  c.ask("What is in this image?");
  CHECK(c.prompt() ==
        "Give the following image: <Img>ImageContent</Img>. You will be able to see the image once I provide it to you. "
        "Please answer my questions.###Human: <Img><ImageHere></Img> What is in this image?###Assistant: ");
  c.answer("A cat.");
  c.ask("What colour is it?");
  CHECK(c.prompt() ==
        "Give the following image: <Img>ImageContent</Img>. You will be able to see the image once I provide it to you. "
        "Please answer my questions.###Human: <Img><ImageHere></Img> What is in this image?###Assistant: A cat."
        "###Human: What colour is it?###Assistant: ");
}

TEST_CASE("stage 4 prompt: [INST] roles, empty system and separator, task tags") {
  Conversation c(ChatTemplate::MiniGPTv2);
  c.ask(task_prefix("vqa") + "What is this?");
  CHECK(c.prompt() == "<s>[INST] <Img><ImageHere></Img> [vqa] What is this? [/INST]");
  c.answer("a dog");
  c.ask(task_prefix("grounding") + "describe");
  CHECK(c.prompt() == "<s>[INST] <Img><ImageHere></Img> [vqa] What is this? [/INST]a dog<s>[INST] [grounding] describe [/INST]");
  CHECK(task_prefix("") == "");
  CHECK_THROWS_AS(task_prefix("jump"), Error);
  CHECK(default_template(448) == ChatTemplate::MiniGPTv2);
  CHECK(default_template(224) == ChatTemplate::MiniGPT4);
  CHECK_THROWS_AS(parse_template("v3"), Error);
}

TEST_CASE("answers end at ### and are stripped") {
  CHECK(extract_answer(" A cat on a mat. ###Human: more") == "A cat on a mat.");
  CHECK(extract_answer("Assistant: yes\n") == "yes");
  CHECK(extract_answer("###") == "");
  CHECK(extract_answer("   ") == "");
}

TEST_CASE("grounded boxes: phrases, several boxes joined by <delim>, malformed pieces skipped") {
  auto b = parse_boxes("<p>a dog</p>{<12><30><55><90>}<delim>{<60><10><95><70>} and <p>a cat</p> {<0><0><100><100>}");
  REQUIRE(b.size() == 3);
  CHECK(b[0].label == "a dog");
  CHECK(b[0].x0 == 12); CHECK(b[0].y0 == 30); CHECK(b[0].x1 == 55); CHECK(b[0].y1 == 90);
  CHECK(b[1].label == "a dog");
  CHECK(b[1].x0 == 60);
  CHECK(b[2].label == "a cat");
  CHECK(b[2].x1 == 100);
  CHECK(parse_boxes("{<1><2><3>}{<1><2><3><101>}{<a><2><3><4>}<p>unterminated").empty());
  CHECK(parse_boxes("{<1><2><3><4>}")[0].label == "");
  CHECK(strip_boxes("<p>a dog</p>{<12><30><55><90>}<delim>{<60><10><95><70>} runs") == "a dog runs");
}

TEST_CASE("boxes are drawn inside the image, clipped at its edges") {
  ImageRGB8 img{10, 8, std::vector<uint8_t>(10 * 8 * 3, 0)};
  draw_boxes(img, {{"", 0, 0, 100, 100}, {"x", 50, 50, 150 / 2, 100}});
  // the outline of the first box covers the corner pixel and the last column
  CHECK(img.pixels[0] != 0);
  CHECK(img.pixels[(7 * 10 + 9) * 3] != 0);
  // the centre of a 10x8 image is inside both boxes' 3-pixel outlines? (4,4) is not on any outline
  const size_t centre = (3 * 10 + 3) * 3;
  CHECK(img.pixels[centre] == 0);
}
