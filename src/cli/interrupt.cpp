// Ctrl-C during an answer: see src/cli/interrupt.h.
#include "cli/interrupt.h"

#include <signal.h>

namespace tgv::cli {

namespace {

// Read and written by the handler: lock-free atomics only (async-signal-safe).
enum Phase : int { kIdle, kAnswering, kStopAsked };
std::atomic<int> g_phase{kIdle};
std::atomic<bool> g_stop{false};
static_assert(std::atomic<int>::is_always_lock_free && std::atomic<bool>::is_always_lock_free);

struct sigaction g_previous {};

void on_sigint(int sig) {
  int answering = kAnswering;
  if (g_phase.compare_exchange_strong(answering, kStopAsked)) {
    g_stop.store(true);
    return;
  }
  // Not answering, or asked twice: what Ctrl-C does without this handler.
  ::signal(sig, SIG_DFL);
  ::raise(sig);  // delivered when the handler returns (SIGINT is blocked inside it)
}

}  // namespace

AnswerInterrupt::AnswerInterrupt() {
  g_phase.store(kIdle);
  g_stop.store(false);
  struct sigaction sa {};
  sa.sa_handler = on_sigint;
  sa.sa_flags = SA_RESTART;  // reads of stdin and writes of the answer carry on
  sigemptyset(&sa.sa_mask);
  ::sigaction(SIGINT, &sa, &g_previous);
}

AnswerInterrupt::~AnswerInterrupt() { ::sigaction(SIGINT, &g_previous, nullptr); }

const std::atomic<bool>* AnswerInterrupt::begin() {
  g_stop.store(false);
  g_phase.store(kAnswering);
  return &g_stop;
}

bool AnswerInterrupt::end() {
  const bool stopped = g_phase.exchange(kIdle) == kStopAsked;
  g_stop.store(false);
  return stopped;
}

}  // namespace tgv::cli
