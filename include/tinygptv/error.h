// Errors, the two regimes (STYLE.md practice 8):
//  - untrusted bytes (images, model files, checkpoints, tokenizer files) throw
//    tgv::Error with a one-line message naming the problem; the CLI prints it and
//    exits non-zero. Never an abort.
//  - programmer errors inside the model use TGV_ASSERT: always on, prints file:line
//    and a hint, then aborts.
#pragma once
#include <cstddef>
#include <cstdint>
#include <stdexcept>
#include <string>

namespace tgv {

struct Error : std::runtime_error {
  explicit Error(const std::string& what) : std::runtime_error(what) {}
};

[[noreturn]] void fail(const std::string& message);  // throws Error(message)
[[noreturn]] void assert_failed(const char* cond, const char* file, int line, const std::string& hint);

// Overflow-checked size arithmetic for sizes that come from files: throws Error
// with `what` in the message instead of wrapping around.
size_t checked_mul(size_t a, size_t b, const char* what);
size_t checked_add(size_t a, size_t b, const char* what);
// A 64-bit size or offset from a file as a size_t: throws on a 32-bit platform
// when it does not fit ("<what>: N bytes do not fit in this platform's 32-bit address space").
size_t checked_size(uint64_t n, const char* what);

}  // namespace tgv

#define TGV_ASSERT(cond, hint) \
  do { if (!(cond)) ::tgv::assert_failed(#cond, __FILE__, __LINE__, (hint)); } while (0)
