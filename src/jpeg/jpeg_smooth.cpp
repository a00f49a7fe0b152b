// libjpeg-turbo 2.1's inter-block smoothing for progressive files (jdcoefct.c,
// decompress_smooth_data): when some of the first 9 AC coefficients were never sent or
// never refined to full precision (an incomplete scan script, or a file cut short
// that still ends in EOI), libjpeg estimates them from the DC values of the 5x5
// neighbouring blocks before the IDCT. PIL leaves do_block_smoothing on, so a file like
// that only matches PIL with the same estimates. Complete progressive files (every
// coefficient refined down to Al = 0) never get here.
//
// Per component, per block (all arithmetic in 64-bit, as JLONG on x86-64 Linux):
//   an estimate is written only where the coefficient is still 0 and coef_bits[k] != 0;
//   num  = Q00 * (weighted sum of the 5x5 DC neighbourhood)        (weights below)
//   pred = ((Qk << 7) + |num|) / (Qk << 8), capped at 2^Al - 1 when Al > 0, sign of num
// "change_dc" (no AC coefficient of 1..9 ever received): a Gaussian-like 5x5 kernel,
// which also re-estimates the DC itself and coefficients 6..9. Otherwise a 5x5
// variant of T.81 K.8 for coefficients 1..5.
// Which coef_bits apply to an iMCU row: those at EOI, except for rows after the last
// one decoded with real data (libjpeg's last_good_iMCU_row), which get the values from
// before the latest scan of each component. The neighbour rows and the sliding DC
// window follow libjpeg-turbo 2.1 exactly, including its edge cases.
#include <algorithm>

#include "jpeg/jpeg_internal.h"

namespace tgv::jpeg {

namespace {

// Natural-order positions of zigzag coefficients 1..9.
constexpr int kPos[10] = {0, 1, 8, 16, 9, 2, 3, 10, 17, 24};

// 5x5 DC weights, [row -2..+2][col -2..+2], for each estimated coefficient.
using Kernel = int[5][5];
// change_dc (DC-only data so far)
constexpr Kernel kDcAc01 = {{-1, -1, 0, 1, 1}, {-3, 13, 0, -13, 3}, {-3, 38, 0, -38, 3},
                            {-3, 13, 0, -13, 3}, {-1, -1, 0, 1, 1}};
constexpr Kernel kDcAc10 = {{-1, -3, -3, -3, -1}, {-1, 13, 38, 13, -1}, {0, 0, 0, 0, 0},
                            {1, -13, -38, -13, 1}, {1, 3, 3, 3, 1}};
constexpr Kernel kDcAc20 = {{0, 0, 1, 0, 0}, {0, 2, 7, 2, 0}, {0, -5, -14, -5, 0},
                            {0, 2, 7, 2, 0}, {0, 0, 1, 0, 0}};
constexpr Kernel kDcAc11 = {{-1, 0, 0, 0, 1}, {0, 9, 0, -9, 0}, {0, 0, 0, 0, 0},
                            {0, -9, 0, 9, 0}, {1, 0, 0, 0, -1}};
constexpr Kernel kDcAc02 = {{0, 0, 0, 0, 0}, {0, 2, -5, 2, 0}, {1, 7, -14, 7, 1},
                            {0, 2, -5, 2, 0}, {0, 0, 0, 0, 0}};
constexpr Kernel kDcAc03 = {{0, 0, 0, 0, 0}, {0, 1, 0, -1, 0}, {0, 2, 0, -2, 0},
                            {0, 1, 0, -1, 0}, {0, 0, 0, 0, 0}};
constexpr Kernel kDcAc12 = {{0, 0, 0, 0, 0}, {0, 1, -3, 1, 0}, {0, 0, 0, 0, 0},
                            {0, -1, 3, -1, 0}, {0, 0, 0, 0, 0}};
constexpr Kernel kDcAc21 = {{0, 0, 0, 0, 0}, {0, 1, 0, -1, 0}, {0, -3, 0, 3, 0},
                            {0, 1, 0, -1, 0}, {0, 0, 0, 0, 0}};
constexpr Kernel kDcAc30 = {{0, 0, 0, 0, 0}, {0, 1, 2, 1, 0}, {0, 0, 0, 0, 0},
                            {0, -1, -2, -1, 0}, {0, 0, 0, 0, 0}};
constexpr Kernel kDcDc = {{-2, -6, -8, -6, -2}, {-6, 6, 42, 6, -6}, {-8, 42, 152, 42, -8},
                          {-6, 6, 42, 6, -6}, {-2, -6, -8, -6, -2}};
// with AC data (K.8 on a 5x5 window)
constexpr Kernel kAc01 = {{0, 0, 0, 0, 0}, {0, 0, 0, 0, 0}, {-7, 50, 0, -50, 7},
                          {0, 0, 0, 0, 0}, {0, 0, 0, 0, 0}};
constexpr Kernel kAc10 = {{0, 0, -7, 0, 0}, {0, 0, 50, 0, 0}, {0, 0, 0, 0, 0},
                          {0, 0, -50, 0, 0}, {0, 0, 7, 0, 0}};
constexpr Kernel kAc20 = {{0, 0, -1, 0, 0}, {0, 0, 13, 0, 0}, {0, 0, -24, 0, 0},
                          {0, 0, 13, 0, 0}, {0, 0, -1, 0, 0}};
constexpr Kernel kAc11 = {{0, -1, 0, 1, 0}, {-1, 10, 0, -10, 1}, {0, 0, 0, 0, 0},
                          {1, -10, 0, 10, -1}, {0, 1, 0, -1, 0}};
constexpr Kernel kAc02 = {{0, 0, 0, 0, 0}, {0, 0, 0, 0, 0}, {-1, 13, -24, 13, -1},
                          {0, 0, 0, 0, 0}, {0, 0, 0, 0, 0}};

int64_t weigh(const Kernel& k, const int dc[5][5]) {
  int64_t s = 0;
  for (int r = 0; r < 5; r++)
    for (int c = 0; c < 5; c++) s += static_cast<int64_t>(k[r][c]) * dc[r][c];
  return s;
}

// libjpeg's rounding of num / (Q * 256), capped to what the missing bits can hold.
int predict(int64_t num, int64_t q, int al, bool cap) {
  int64_t mag = ((q << 7) + (num >= 0 ? num : -num)) / (q << 8);
  if (cap && al > 0 && mag >= (int64_t{1} << al)) mag = (int64_t{1} << al) - 1;
  return static_cast<int>(num >= 0 ? mag : -mag);
}

}  // namespace

bool smoothing_ok(const Decoder& d) {
  const Frame& f = d.frame;
  if (!f.progressive) return false;
  bool useful = false;
  for (int i = 0; i < f.ncomp; i++) {
    const Component& c = f.comp[i];
    if (!c.quant_latched) return false;
    for (int k = 0; k < 10; k++)
      if (c.quant[kPos[k]] == 0) return false;
    if (c.coef_bits[0] < 0) return false;
    for (int k = 1; k <= 9; k++) useful |= c.coef_bits[k] != 0;
  }
  return useful;
}

void smoothed_to_planes(Decoder& d) {
  Frame& f = d.frame;
  const int last_row = f.mcus_y - 1;  // total_iMCU_rows - 1
  for (int ci = 0; ci < f.ncomp; ci++) {
    Component& c = f.comp[ci];
    int bits_now[10], bits_before[10];
    for (int k = 1; k <= 9; k++) {
      bits_now[k] = c.coef_bits[k];
      bits_before[k] = d.scans > 1 ? c.prev_bits[k] : -1;
    }
    const auto block_at = [&](int row, int col) {
      return c.coefs.data() + (static_cast<size_t>(row) * c.alloc_w + col) * 64;
    };
    const int64_t q00 = c.quant[0];
    for (int imcu = 0; imcu <= last_row; imcu++) {
      const int* bits = imcu > d.last_good_imcu_row ? bits_before : bits_now;
      bool change_dc = true;
      for (int k = 1; k <= 9; k++) change_dc &= bits[k] == -1;
      int block_rows = c.v;
      if (imcu == last_row) {
        block_rows = c.blocks_h % c.v;
        if (block_rows == 0) block_rows = c.v;
      }
      for (int br = 0; br < block_rows; br++) {
        const int row = imcu * c.v + br;
        if (row >= c.blocks_h) break;
        // The five block rows of the window, as libjpeg-turbo 2.1 picks them.
        int rows[5];
        rows[2] = row;
        rows[1] = (br > 0 || imcu > 0) ? row - 1 : row;
        rows[0] = (br > 1 || imcu > 1) ? row - 2 : rows[1];
        rows[3] = (br < block_rows - 1 || imcu < last_row) ? row + 1 : row;
        rows[4] = (br < block_rows - 2 || imcu + 1 < last_row) ? row + 2 : rows[3];
        for (int& r : rows) r = std::clamp(r, 0, c.alloc_h - 1);  // never needed, always safe
        // Sliding DC window: column j of dc[][] is block column (b - 2 + j).
        int dc[5][5];
        for (int r = 0; r < 5; r++)
          for (int j = 0; j < 5; j++) dc[r][j] = block_at(rows[r], 0)[0];
        const int last_col = c.blocks_w - 1;
        for (int b = 0; b <= last_col; b++) {
          if (b == 0 && b < last_col)
            for (int r = 0; r < 5; r++) dc[r][3] = block_at(rows[r], 1)[0];
          if (b + 1 < last_col)
            for (int r = 0; r < 5; r++) dc[r][4] = block_at(rows[r], b + 2)[0];

          int16_t ws[64];
          const int16_t* blk = block_at(row, b);
          for (int k = 0; k < 64; k++) ws[k] = blk[k];
          const Kernel* kernels[10] = {nullptr, &kAc01, &kAc10, &kAc20, &kAc11, &kAc02,
                                       nullptr, nullptr, nullptr, nullptr};
          if (change_dc) {
            kernels[1] = &kDcAc01; kernels[2] = &kDcAc10; kernels[3] = &kDcAc20;
            kernels[4] = &kDcAc11; kernels[5] = &kDcAc02; kernels[6] = &kDcAc03;
            kernels[7] = &kDcAc12; kernels[8] = &kDcAc21; kernels[9] = &kDcAc30;
          }
          for (int k = 1; k <= 9; k++) {
            if (!kernels[k] || bits[k] == 0 || ws[kPos[k]] != 0) continue;
            int64_t num = q00 * weigh(*kernels[k], dc);
            ws[kPos[k]] = static_cast<int16_t>(predict(num, c.quant[kPos[k]], bits[k], true));
          }
          if (change_dc) ws[0] = static_cast<int16_t>(predict(q00 * weigh(kDcDc, dc), q00, 0, false));

          idct_islow(c.plane.data() + static_cast<size_t>(row) * 8 * c.plane_stride() + static_cast<size_t>(b) * 8,
                     c.plane_stride(), ws, c.quant);
          for (int r = 0; r < 5; r++)
            for (int j = 0; j < 4; j++) dc[r][j] = dc[r][j + 1];
        }
      }
    }
  }
}

}  // namespace tgv::jpeg
