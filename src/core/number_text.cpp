// See include/tinygptv/number_text.h. The fallback finds the shortest precision whose
// %g text reads back exactly, and prefers plain digits when they are no longer (as
// std::to_chars does: 100, not 1e+02).
#include "tinygptv/number_text.h"

#include <cerrno>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <system_error>
#include <version>

namespace tgv {

#if defined(__cpp_lib_to_chars)

std::string format_shortest(double d) {
  char buf[64];
  auto r = std::to_chars(buf, buf + sizeof buf, d);
  return std::string(buf, r.ptr);
}

std::string format_shortest(float f) {
  char buf[64];
  auto r = std::to_chars(buf, buf + sizeof buf, f);
  return std::string(buf, r.ptr);
}

bool parse_double(const char* b, const char* e, double* out, bool* too_large) {
  *too_large = false;
  auto r = std::from_chars(b, e, *out);
  if (r.ec == std::errc::result_out_of_range) {
    *too_large = true;
    *out = *b == '-' ? -HUGE_VAL : HUGE_VAL;
    return true;
  }
  return r.ec == std::errc() && r.ptr == e;
}

#else

namespace {

// The shortest %g text of d (at most max_digits significant digits) for which
// reads_back(text) holds, or the plain fixed form when it is as short.
template <typename ReadsBack>
std::string shortest(double d, int max_digits, ReadsBack reads_back) {
  char buf[64];
  for (int p = 1; p <= max_digits; p++) {
    std::snprintf(buf, sizeof buf, "%.*g", p, d);
    if (!reads_back(buf)) continue;
    std::string g = buf;
    if (g.find('e') != std::string::npos && std::fabs(d) >= 1 && std::fabs(d) < 1e17) {
      std::snprintf(buf, sizeof buf, "%.0f", d);  // an integer: plain digits if no longer
      if (reads_back(buf) && std::string(buf).size() <= g.size()) return buf;
    }
    return g;
  }
  std::snprintf(buf, sizeof buf, "%.*g", max_digits, d);
  return buf;
}

}  // namespace

std::string format_shortest(double d) {
  return shortest(d, 17, [d](const char* s) { return std::strtod(s, nullptr) == d; });
}

std::string format_shortest(float f) {
  return shortest(f, 9, [f](const char* s) { return std::strtof(s, nullptr) == f; });
}

bool parse_double(const char* b, const char* e, double* out, bool* too_large) {
  *too_large = false;
  const std::string s(b, e);  // strtod wants a terminated string
  if (s.empty() || s[0] == '+' || std::isspace(static_cast<unsigned char>(s[0]))) return false;
  char* end = nullptr;
  errno = 0;
  *out = std::strtod(s.c_str(), &end);
  if (end != s.c_str() + s.size()) return false;
  if (errno == ERANGE && std::isinf(*out)) *too_large = true;
  return true;
}

#endif

}  // namespace tgv
