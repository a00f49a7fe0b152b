// See include/tinygptv/error.h.
#include "tinygptv/error.h"

#include <cstdio>
#include <cstdlib>

namespace tgv {

void fail(const std::string& message) { throw Error(message); }

void assert_failed(const char* cond, const char* file, int line, const std::string& hint) {
  std::fprintf(stderr, "tinygptv: internal error at %s:%d: %s (%s)\n", file, line, hint.c_str(), cond);
  std::abort();
}

[[noreturn]] static void overflow(const char* what) {
  char message[512];  // snprintf, not std::string +=: GCC 12 warns falsely (-Wrestrict) on the latter
  std::snprintf(message, sizeof message, "%s: size overflows", what);
  fail(message);
}

size_t checked_mul(size_t a, size_t b, const char* what) {
  size_t r;
  if (__builtin_mul_overflow(a, b, &r)) overflow(what);
  return r;
}

size_t checked_add(size_t a, size_t b, const char* what) {
  size_t r;
  if (__builtin_add_overflow(a, b, &r)) overflow(what);
  return r;
}

size_t checked_size(uint64_t n, const char* what) {
  if (n > SIZE_MAX) {
    char message[512];
    std::snprintf(message, sizeof message, "%s: %llu bytes do not fit in this platform's %d-bit address space", what,
                  static_cast<unsigned long long>(n), static_cast<int>(8 * sizeof(size_t)));
    fail(message);
  }
  return static_cast<size_t>(n);
}

}  // namespace tgv
