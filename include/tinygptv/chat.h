// Prompt templates (model.md section 7): how a conversation about one image is
// written as the text the language model continues.
//
// Stages 1-3 ("minigpt4", 224 px):
//   Give the following image: <Img>ImageContent</Img>. You will be able to see the image once I
//   provide it to you. Please answer my questions.###Human: <Img><ImageHere></Img> {question}###Assistant: 
// Stage 4 ("minigpt_v2", 448 px):
//   <s>[INST] <Img><ImageHere></Img> [vqa] {question} [/INST]
// Upstream builds both with one rule (MiniGPT-4's Conversation, SeparatorStyle.SINGLE):
//   prompt = system + sep; for each (role, message): prompt += role + message + sep,
//   and the final role (the assistant's, with no message yet) is appended bare.
// `<ImageHere>` marks where the 32 image embeddings go; the text on each side is
// tokenised on its own.
#pragma once
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace tgv {

enum class ChatTemplate { MiniGPT4, MiniGPTv2 };

// "minigpt4" / "minigptv2" (also "v1", "v2", "stage3", "stage4"); throws on others.
ChatTemplate parse_template(std::string_view name);
// Stage 4 models run at 448 px, stages 1-3 at 224: the default follows image_size.
ChatTemplate default_template(int image_size);

// Stage-4 task tags: "vqa" -> "[vqa] "; "" -> "". Throws on an unknown task.
std::string task_prefix(std::string_view task);

class Conversation {
 public:
  explicit Conversation(ChatTemplate t);

  // The human's turn. The first turn carries the image: "<Img><ImageHere></Img> " + text.
  void ask(const std::string& text);
  // The assistant's answer to the last question (as extract_answer returned it).
  void answer(const std::string& text);
  // The prompt for the next answer: everything so far, ending with the assistant role.
  std::string prompt() const;
  // The text before the next human turn: system and separator, then every message so
  // far with its role and separator (prompt() is this plus the assistant role).
  std::string history() const;
  bool empty() const { return messages_.empty(); }  // no question asked yet

  ChatTemplate chat_template() const { return template_; }

 private:
  ChatTemplate template_;
  std::string system_, sep_;
  std::string human_, assistant_;
  bool image_given_ = false;
  std::vector<std::pair<std::string, std::string>> messages_;  // (role, message)
};

// Generation stops as soon as the decoded answer contains this (or at <|endoftext|>).
inline constexpr std::string_view kStopString = "###";

// The answer as upstream reports it: the text before "###", after the last
// "Assistant:", with surrounding whitespace stripped.
std::string extract_answer(std::string_view generated);

}  // namespace tgv
