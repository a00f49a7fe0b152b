// Comparing an activation with its reference (STYLE.md practice 7): the relative
// error ||a - b|| / ||b|| against a tolerance from tests/tolerances.h, and on
// failure the name, the first few pairs, the max abs/rel error and where.
#pragma once
#include <doctest/doctest.h>

#include <cmath>
#include <cstdio>
#include <string>
#include <vector>

namespace tgv::test {

struct Diff {
  double rel = 0;      // ||got - want|| / ||want||
  double max_abs = 0;  // max |got - want|
  size_t where = 0;    // index of max_abs
};

inline Diff diff(const float* got, const float* want, size_t n) {
  Diff d;
  double num = 0, den = 0;
  for (size_t i = 0; i < n; i++) {
    const double e = static_cast<double>(got[i]) - want[i];
    num += e * e;
    den += static_cast<double>(want[i]) * want[i];
    if (std::fabs(e) > d.max_abs || std::isnan(e)) { d.max_abs = std::fabs(e); d.where = i; }
  }
  d.rel = den > 0 ? std::sqrt(num / den) : std::sqrt(num);
  if (std::isnan(num)) d.rel = INFINITY;
  return d;
}

// CHECKs that got matches want within rel_tol (relative L2 error); prints details when not.
inline bool check_close(const std::string& name, const std::vector<float>& got, const std::vector<float>& want, double rel_tol) {
  if (got.size() != want.size()) {
    FAIL_CHECK(name << ": size " << got.size() << " != reference size " << want.size());
    return false;
  }
  const Diff d = diff(got.data(), want.data(), got.size());
  const bool ok = d.rel <= rel_tol;
  if (!ok) {
    std::string pairs;
    for (size_t i = 0; i < got.size() && i < 6; i++) {
      char buf[80];
      std::snprintf(buf, sizeof buf, " (%.7g, %.7g)", got[i], want[i]);
      pairs += buf;
    }
    FAIL_CHECK(name << ": rel err " << d.rel << " > " << rel_tol << "; max abs err " << d.max_abs << " at index "
                    << d.where << " (got " << got[d.where] << ", want " << want[d.where] << "); first pairs:" << pairs);
  } else {
    MESSAGE(name << ": rel err " << d.rel << " (tol " << rel_tol << "), max abs " << d.max_abs);
  }
  return ok;
}

}  // namespace tgv::test
