// Floating-point numbers as text, locale-independent: the shortest decimal form that
// reads back to the same value, and parsing. These are std::to_chars / std::from_chars;
// where the standard library lacks their floating-point overloads (libc++ before 15,
// e.g. emscripten 3.1's), snprintf / strtod in the "C" locale do the same job.
#pragma once
#include <string>

namespace tgv {

std::string format_shortest(double d);  // finite d: "0.1", "1e-06", "123"
std::string format_shortest(float f);   // the shortest form that reads back as this float

// Parses all of [b, e) as a decimal floating-point number. Returns false when it is not
// one; *too_large is set when its magnitude overflows a double (then *out is +-inf).
bool parse_double(const char* b, const char* e, double* out, bool* too_large);

}  // namespace tgv
