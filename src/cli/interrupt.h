// Ctrl-C while tinygptv answers (ask, chat). The first SIGINT during an answer stops
// that answer after the token being generated: the text so far stays printed and, in
// chat, stays in the conversation (as if --max-tokens had ended it); chat then reads
// the next question. A SIGINT at any other moment (loading, encoding the image,
// waiting for a question), or a second one before the stopped answer has ended,
// ends the program as Ctrl-C always does (killed by SIGINT: status 130 in a shell).
// During the prompt's prefill the flag is only read once the first answer token
// exists, so a stop there still prints that one token.
//
//   AnswerInterrupt interrupt;                  // installs the handler for this scope
//   options.stop = interrupt.begin();           // an answer starts
//   session.ask(question, options, rng, print);
//   if (interrupt.end()) ...                    // true: Ctrl-C came during it
#pragma once
#include <atomic>

namespace tgv::cli {

class AnswerInterrupt {
 public:
  AnswerInterrupt();   // installs the SIGINT handler
  ~AnswerInterrupt();  // puts back the one before
  AnswerInterrupt(const AnswerInterrupt&) = delete;
  AnswerInterrupt& operator=(const AnswerInterrupt&) = delete;

  const std::atomic<bool>* begin();  // an answer starts: the flag for AskOptions::stop
  bool end();                        // it ended (or threw): whether Ctrl-C came during it
};

}  // namespace tgv::cli
