// Prompt templates: see include/tinygptv/chat.h. Upstream: MiniGPT-4's
// minigpt4/conversation/conversation.py (CONV_VISION_minigptv2 and the TinyGPT-V
// stage 1-3 conversation), get_prompt() with SeparatorStyle.SINGLE.
#include "tinygptv/chat.h"

#include "tinygptv/error.h"

namespace tgv {

ChatTemplate parse_template(std::string_view name) {
  if (name == "minigpt4" || name == "v1" || name == "stage3") return ChatTemplate::MiniGPT4;
  if (name == "minigptv2" || name == "minigpt_v2" || name == "v2" || name == "stage4") return ChatTemplate::MiniGPTv2;
  fail("unknown template '" + std::string(name) + "' (use minigpt4 for stages 1-3 or minigptv2 for stage 4)");
}

ChatTemplate default_template(int image_size) { return image_size >= 448 ? ChatTemplate::MiniGPTv2 : ChatTemplate::MiniGPT4; }

std::string task_prefix(std::string_view task) {
  static const char* const kTasks[] = {"vqa", "caption", "refer", "grounding", "detection", "identify"};
  if (task.empty()) return "";
  for (const char* t : kTasks)
    if (task == t) return std::string("[").append(task).append("] ");
  fail("unknown task '" + std::string(task) + "' (vqa, caption, refer, grounding, detection, identify)");
}

Conversation::Conversation(ChatTemplate t) : template_(t) {
  if (t == ChatTemplate::MiniGPT4) {
    system_ =
        "Give the following image: <Img>ImageContent</Img>. You will be able to see the image once I provide it to "
        "you. Please answer my questions.";
    sep_ = "###";
    human_ = "Human: ";
    assistant_ = "Assistant: ";
  } else {
    system_ = "";
    sep_ = "";
    human_ = "<s>[INST] ";
    assistant_ = " [/INST]";
  }
}

void Conversation::ask(const std::string& text) {
  std::string message = text;
  if (!image_given_) {  // upstream: ' '.join(["<Img><ImageHere></Img>", text])
    message = "<Img><ImageHere></Img> " + text;
    image_given_ = true;
  }
  messages_.emplace_back(human_, message);
}

void Conversation::answer(const std::string& text) { messages_.emplace_back(assistant_, text); }

std::string Conversation::history() const {
  std::string out = system_ + sep_;
  for (const auto& [role, message] : messages_) out += role + message + sep_;
  return out;
}

std::string Conversation::prompt() const { return history() + assistant_; }

std::string extract_answer(std::string_view generated) {
  std::string_view s = generated.substr(0, generated.find(kStopString));
  const size_t a = s.rfind("Assistant:");
  if (a != std::string_view::npos) s = s.substr(a + 10);
  const char* ws = " \t\n\r\f\v";
  const size_t b = s.find_first_not_of(ws);
  if (b == std::string_view::npos) return "";
  const size_t e = s.find_last_not_of(ws);
  return std::string(s.substr(b, e - b + 1));
}

}  // namespace tgv
