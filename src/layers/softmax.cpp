// Numerically stable softmax in float32 (max subtracted; the sum in double).
#include <cmath>

#include "tinygptv/layers.h"

namespace tgv {

void softmax(float* x, int n) {
  if (n <= 0) return;
  float m = x[0];
  for (int i = 1; i < n; i++) m = x[i] > m ? x[i] : m;
  double sum = 0;
  for (int i = 0; i < n; i++) {
    x[i] = std::exp(x[i] - m);
    sum += x[i];
  }
  const float inv = static_cast<float>(1.0 / sum);
  for (int i = 0; i < n; i++) x[i] *= inv;
}

}  // namespace tgv
