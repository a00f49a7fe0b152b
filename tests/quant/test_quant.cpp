// The block formats of src/quant/ against an independent NumPy implementation written
// from the format descriptions (tests/reference/make_quant.py -> tests/data/quant/):
//   (a) our quantizer's bytes equal NumPy's blocks, for every format and fixture row;
//   (b) our dequantization equals NumPy's, bit for bit;
//   (c) quantize -> dequantize stays within each format's documented bound (the bound
//       is in the format's file comment and below), on the fixture rows and on random rows;
//   (d) the scalar integer dot equals the float64 dot of the dequantized rows within
//       tests/quant/quant_tolerances.h;
//   (e) sizes that are not whole blocks are rejected where sizes are untrusted
//       (dtype_bytes, tensor_row_f32, tensor_f32) with a clear tgv::Error.
// (Our blocks were also compared with llama.cpp's quantize_row_*_ref outside the repo;
// docs/quantization.md says how.)
#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <random>
#include <string>
#include <vector>

#include "quant/quant_tolerances.h"
#include "tinygptv/byte_order.h"
#include "tinygptv/error.h"
#include "tinygptv/npy.h"
#include "tinygptv/quant.h"
#include "tinygptv/tensor.h"

namespace {

using tgv::DType;
using tgv::QuantFormat;

struct Named { DType type; const char* file; };
const Named kFormats[] = {
    {DType::Q8_0, "q8_0"}, {DType::Q4_0, "q4_0"}, {DType::Q4_1, "q4_1"}, {DType::Q5_0, "q5_0"}, {DType::Q5_1, "q5_1"},
    {DType::Q8_1, "q8_1"}, {DType::Q4_K, "q4_k"}, {DType::Q6_K, "q6_k"}, {DType::Q8_K, "q8_k"},
};

tgv::NpyArray fixture(const std::string& name) { return tgv::read_npy(std::string(TGV_TEST_DATA) + "/quant/" + name + ".npy"); }

std::vector<uint8_t> quantize(const QuantFormat& f, const float* x, size_t n) {
  std::vector<uint8_t> b(n / static_cast<size_t>(f.block_size) * f.block_bytes);
  f.quantize_row(b.data(), x, n);
  return b;
}

std::vector<float> dequantize(const QuantFormat& f, const uint8_t* blocks, size_t n) {
  std::vector<float> w(n);
  f.dequantize_row(w.data(), blocks, n);
  return w;
}

uint32_t bits(float f) { uint32_t u; std::memcpy(&u, &f, 4); return u; }
float half(uint16_t h) { return tgv::f16_to_f32(h); }

// Random rows of different character: normal at several scales, uniform, laplace-like
// heavy tails, one-signed, with zeros and outliers.
std::vector<float> random_row(std::mt19937& rng, size_t n, int kind) {
  std::normal_distribution<float> N(0, 1);
  std::uniform_real_distribution<float> U(-1, 1);
  const float scale = std::pow(10.0f, std::uniform_real_distribution<float>(-4, 2)(rng));
  std::vector<float> x(n);
  for (size_t i = 0; i < n; i++) {
    switch (kind % 6) {
      case 0: x[i] = N(rng) * scale; break;
      case 1: x[i] = U(rng) * scale; break;
      case 2: x[i] = (U(rng) > 0 ? 1 : -1) * std::log(1 / std::max(1e-7f, std::fabs(U(rng)))) * scale; break;
      case 3: x[i] = std::fabs(N(rng)) * scale + scale; break;
      case 4: x[i] = i % 5 == 0 ? 0.0f : N(rng) * scale; break;
      case 5: x[i] = N(rng) * 0.01f * scale + (i % 61 == 7 ? 20 * scale : 0); break;
    }
  }
  return x;
}

// ---------------------------------------------------------------- (c) the bounds
// Each returns the allowed |x_i - w_i| for every value of one block / super-block,
// given the input and the stored block. kSlack covers float32 rounding of the
// quantizer's own arithmetic (x * (1/d), (x - min) * (1/d), ...).
constexpr double kSlack = 4e-6;

// Q8_0 / Q8_1: |x - w| <= |d| / 2 + 127 |half(d) - d|, d = amax / 127 before its rounding to half.
void bound_q8(const float* x, uint16_t dh, double* out) {
  double amax = 0;
  for (int i = 0; i < 32; i++) amax = std::max(amax, std::fabs(static_cast<double>(x[i])));
  const double d = amax / 127;
  for (int i = 0; i < 32; i++) out[i] = 0.5 * d + 127 * std::fabs(half(dh) - d) + kSlack * amax;
}

// Q4_0 (levels 8) / Q5_0 (16): d = m / -levels; |x - w| <= |d| / 2 + levels |half(d) - d|,
// or |d| + ... for the codes clamped at the top (x * (1/d) in [levels - 1/2, levels]).
void bound_sym(const float* x, uint16_t dh, int levels, const int* q, double* out) {
  double amax = 0;
  for (int i = 0; i < 32; i++) amax = std::max(amax, std::fabs(static_cast<double>(x[i])));
  const double d = amax / levels;
  for (int i = 0; i < 32; i++)
    out[i] = (q[i] == 2 * levels - 1 ? 1.0 : 0.5) * d + levels * std::fabs(std::fabs(half(dh)) - d) + kSlack * amax;
}

// Q4_1 (top 15) / Q5_1 (31): d = (max - min) / top; |x - w| <= d / 2 + top |half(d) - d| + |half(m) - min|.
void bound_affine(const float* x, uint16_t dh, uint16_t mh, int top, double* out) {
  double lo = x[0], hi = x[0];
  for (int i = 0; i < 32; i++) { lo = std::min<double>(lo, x[i]); hi = std::max<double>(hi, x[i]); }
  const double d = (hi - lo) / top, mag = std::max(std::fabs(lo), std::fabs(hi));
  for (int i = 0; i < 32; i++) out[i] = 0.5 * d + top * std::fabs(half(dh) - d) + std::fabs(half(mh) - lo) + kSlack * mag;
}

// The K-formats: each weight is at the point of its sub-block's stored grid nearest to it
// (grid[0 .. levels-1], as dequantized): |x - w| <= min_g |x - g| + slack. A sub-block
// whose stored step is 0 (its scale rounded to 0 against the super-block's largest) is
// the one point -m (Q4_K) or 0 (Q6_K): the quantizer's fitted codes make no difference.
void bound_nearest(const float* x, const float* grid, int levels, int count, double* out) {
  for (int i = 0; i < count; i++) {
    double best = INFINITY, scale = std::fabs(static_cast<double>(x[i]));
    for (int g = 0; g < levels; g++) {
      best = std::min(best, std::fabs(static_cast<double>(x[i]) - grid[g]));
      scale = std::max(scale, std::fabs(static_cast<double>(grid[g])));
    }
    out[i] = best + kSlack * scale;
  }
}

// The 6-bit scale and minimum of Q4_K sub-block j, from the format description.
void q4k_scale_min(const uint8_t* s, int j, int* sc, int* m) {
  *sc = j < 4 ? s[j] & 63 : (s[j + 4] & 15) | (s[j - 4] >> 6) << 4;
  *m = j < 4 ? s[j + 4] & 63 : (s[j + 4] >> 4) | (s[j] >> 6) << 4;
}

// The allowed error of every value of a row (n values), from the format's documented bound.
std::vector<double> bounds(DType t, const float* x, const uint8_t* b, size_t n) {
  std::vector<double> out(n, INFINITY);
  const QuantFormat& f = *tgv::quant_format(t);
  for (size_t k = 0; k < n / f.block_size; k++) {
    const uint8_t* blk = b + k * f.block_bytes;
    const float* xs = x + k * f.block_size;
    double* o = out.data() + k * f.block_size;
    uint16_t h0, h1;
    std::memcpy(&h0, blk, 2);
    std::memcpy(&h1, blk + 2, 2);
    int q[32];
    switch (t) {
      case DType::Q8_0: case DType::Q8_1: bound_q8(xs, h0, o); break;
      case DType::Q4_0:
        for (int i = 0; i < 16; i++) { q[i] = blk[2 + i] & 15; q[i + 16] = blk[2 + i] >> 4; }
        bound_sym(xs, h0, 8, q, o);
        break;
      case DType::Q5_0: {
        // qh: a little-endian uint32 (bytes 2..5) on every host.
        const uint32_t qh = uint32_t{blk[2]} | uint32_t{blk[3]} << 8 | uint32_t{blk[4]} << 16 | uint32_t{blk[5]} << 24;
        for (int i = 0; i < 16; i++) { q[i] = blk[6 + i] & 15; q[i + 16] = blk[6 + i] >> 4; }
        for (int i = 0; i < 32; i++) q[i] |= ((qh >> i) & 1) << 4;
        bound_sym(xs, h0, 16, q, o);
        break;
      }
      case DType::Q4_1: bound_affine(xs, h0, h1, 15, o); break;
      case DType::Q5_1: bound_affine(xs, h0, h1, 31, o); break;
      case DType::Q8_K: {
        float d;
        std::memcpy(&d, blk, 4);
        double amax = 0;
        for (int i = 0; i < 256; i++) amax = std::max(amax, std::fabs(static_cast<double>(xs[i])));
        for (int i = 0; i < 256; i++) o[i] = 0.5 * std::fabs(d) + kSlack * amax;
        break;
      }
      case DType::Q4_K:
        for (int j = 0; j < 8; j++) {
          int sc, m;
          q4k_scale_min(blk + 4, j, &sc, &m);
          const float d1 = half(h0) * static_cast<float>(sc), m1 = half(h1) * static_cast<float>(m);
          float grid[16];
          for (int g = 0; g < 16; g++) grid[g] = d1 * static_cast<float>(g) - m1;
          bound_nearest(xs + 32 * j, grid, d1 == 0 ? 1 : 16, 32, o + 32 * j);  // step 0: the one point -m1
        }
        break;
      case DType::Q6_K: {
        uint16_t dh;
        std::memcpy(&dh, blk + 208, 2);
        for (int j = 0; j < 16; j++) {
          const float d1 = half(dh) * static_cast<float>(static_cast<int8_t>(blk[192 + j]));
          float grid[64];
          for (int g = 0; g < 64; g++) grid[g] = d1 * static_cast<float>(g - 32);
          bound_nearest(xs + 16 * j, grid, d1 == 0 ? 1 : 64, 16, o + 16 * j);  // step 0: the one point 0
        }
        break;
      }
      default: FAIL("no bound for this format");
    }
  }
  return out;
}

// Checks |x - w| <= bound for a row; returns how many values had a (finite) bound.
size_t check_bound(DType t, const float* x, size_t n, const std::string& what) {
  const QuantFormat& f = *tgv::quant_format(t);
  const std::vector<uint8_t> b = quantize(f, x, n);
  const std::vector<float> w = dequantize(f, b.data(), n);
  const std::vector<double> allowed = bounds(t, x, b.data(), n);
  size_t bounded = 0, bad = 0;
  for (size_t i = 0; i < n; i++) {
    bounded += !std::isinf(allowed[i]);
    const double err = std::fabs(static_cast<double>(x[i]) - w[i]);
    if (!(err <= allowed[i]) && bad++ < 3)
      FAIL_CHECK(std::string(f.name) << " " << what << " value " << i << ": x " << x[i] << " w " << w[i] << " |x - w| " << err
                        << " > bound " << allowed[i]);
  }
  CHECK(bad == 0);
  return bounded;
}

}  // namespace

TEST_CASE("the format table agrees with the block structs and dtype_bytes") {
  for (const Named& nf : kFormats) {
    const QuantFormat* f = tgv::quant_format(nf.type);
    REQUIRE(f);
    CAPTURE(std::string(f->name));
    CHECK(f->type == nf.type);
    CHECK(std::string(f->name) == tgv::dtype_name(nf.type));
    DType back;
    REQUIRE(tgv::dtype_from_name(f->name, &back));
    CHECK(back == nf.type);
    CHECK(tgv::dtype_bytes(nf.type, static_cast<size_t>(f->block_size)) == f->block_bytes);
    CHECK(tgv::dtype_bytes(nf.type, static_cast<size_t>(f->block_size) * 7) == 7 * f->block_bytes);
    CHECK(tgv::dtype_block_size(nf.type) == f->block_size);
    CHECK(f->block_bytes % tgv::dtype_size(nf.type) == 0);  // blocks keep their alignment in an array
    CHECK(static_cast<bool>(f->quantize_row));
    CHECK(static_cast<bool>(f->dequantize_row));
    const bool activation = nf.type == DType::Q8_1 || nf.type == DType::Q8_K;
    CHECK((f->vec_dot == nullptr) == activation);
    if (!activation) CHECK(tgv::quant_format(f->vec_dot_type)->block_size == f->block_size);
  }
  CHECK(tgv::quant_format(DType::F32) == nullptr);
  CHECK(tgv::quant_format(DType::F16) == nullptr);
  CHECK(tgv::quant_format(DType::BF16) == nullptr);
  // bits per weight, as docs/quantization.md states them
  CHECK(tgv::quant_format(DType::Q4_0)->block_bytes * 8.0 / 32 == 4.5);
  CHECK(tgv::quant_format(DType::Q4_K)->block_bytes * 8.0 / 256 == 4.5);
  CHECK(tgv::quant_format(DType::Q6_K)->block_bytes * 8.0 / 256 == 6.5625);
}

TEST_CASE("(a), (b): blocks and dequantized values equal the NumPy reference") {
  const tgv::NpyArray in = fixture("input");
  REQUIRE(in.dtype == "<f4");
  REQUIRE(in.shape.size() == 2);
  const std::vector<float> x = in.to_f32();
  const size_t rows = static_cast<size_t>(in.shape[0]), n = static_cast<size_t>(in.shape[1]);
  for (const Named& nf : kFormats) {
    const QuantFormat& f = *tgv::quant_format(nf.type);
    const std::string name = f.name;
    CAPTURE(name);
    const tgv::NpyArray want = fixture(nf.file);
    const tgv::NpyArray want_w = fixture(std::string(nf.file) + "_dequant");
    REQUIRE(want.dtype == "|u1");
    REQUIRE(want.shape == std::vector<int64_t>{static_cast<int64_t>(rows), static_cast<int64_t>(tgv::dtype_bytes(nf.type, n))});
    REQUIRE(want_w.shape == in.shape);
    const std::vector<float> ww = want_w.to_f32();
    const size_t row_bytes = tgv::dtype_bytes(nf.type, n);
    size_t blocks_equal = 0, values_equal = 0;
    for (size_t r = 0; r < rows; r++) {
      // Blocks are in host order in memory; the fixture's are little-endian (as in a file).
      std::vector<uint8_t> got = quantize(f, x.data() + r * n, n);
      tgv::dtype_swap_le_host(nf.type, got.data(), n);
      for (size_t k = 0; k < row_bytes / f.block_bytes; k++) {
        const uint8_t* a = got.data() + k * f.block_bytes;
        const uint8_t* b = want.bytes.data() + r * row_bytes + k * f.block_bytes;
        if (std::memcmp(a, b, f.block_bytes) == 0) { blocks_equal++; continue; }
        for (size_t i = 0; i < f.block_bytes; i++)
          if (a[i] != b[i]) { FAIL_CHECK("row " << r << " block " << k << " byte " << i << ": ours " << int(a[i]) << ", numpy " << int(b[i])); break; }
      }
      // (b) dequantize NumPy's blocks: every float bit for bit (signs of zero included)
      std::vector<uint8_t> host(want.bytes.begin() + static_cast<long>(r * row_bytes),
                                want.bytes.begin() + static_cast<long>((r + 1) * row_bytes));
      tgv::dtype_swap_le_host(nf.type, host.data(), n);
      const std::vector<float> w = dequantize(f, host.data(), n);
      for (size_t i = 0; i < n; i++) {
        if (bits(w[i]) == bits(ww[r * n + i])) { values_equal++; continue; }
        FAIL_CHECK("row " << r << " value " << i << ": ours " << w[i] << ", numpy " << ww[r * n + i]);
        break;
      }
    }
    CHECK(blocks_equal == rows * row_bytes / f.block_bytes);
    CHECK(values_equal == rows * n);
    MESSAGE(std::string(f.name) << ": " << blocks_equal << " blocks, " << values_equal << " dequantized values equal");
  }
}

TEST_CASE("(c) quantize -> dequantize stays within each format's bound") {
  const tgv::NpyArray in = fixture("input");
  const std::vector<float> x = in.to_f32();
  const size_t rows = static_cast<size_t>(in.shape[0]), n = static_cast<size_t>(in.shape[1]);
  std::mt19937 rng(20261204);
  for (const Named& nf : kFormats) {
    const std::string name = tgv::dtype_name(nf.type);
    CAPTURE(name);
    size_t bounded = 0, total = 0;
    for (size_t r = 0; r < rows; r++, total += n) bounded += check_bound(nf.type, x.data() + r * n, n, "fixture row " + std::to_string(r));
    for (int r = 0; r < 60; r++, total += 1024) {
      const std::vector<float> row = random_row(rng, 1024, r);
      bounded += check_bound(nf.type, row.data(), row.size(), "random row " + std::to_string(r));
    }
    CHECK(bounded == total);
    MESSAGE(name << ": " << total << " values within the bound");
  }
}

TEST_CASE("(c) the typical error on normal rows (relative RMS), the quality of each format") {
  std::mt19937 rng(7);
  std::normal_distribution<float> N(0, 1);
  std::vector<float> x(256 * 64);
  for (float& v : x) v = N(rng);
  for (const auto& t : tgv::test::kQuantRms) {
    const QuantFormat& f = *tgv::quant_format(t.type);
    const std::vector<float> w = dequantize(f, quantize(f, x.data(), x.size()).data(), x.size());
    double num = 0, den = 0;
    for (size_t i = 0; i < x.size(); i++) {
      num += (static_cast<double>(x[i]) - w[i]) * (static_cast<double>(x[i]) - w[i]);
      den += static_cast<double>(x[i]) * x[i];
    }
    const double rel = std::sqrt(num / den);
    MESSAGE(std::string(f.name) << ": relative RMS error " << rel << " (allowed " << t.rel << ")");
    CHECK(rel <= t.rel);
  }
}

TEST_CASE("(d) the integer dot equals the dot of the dequantized rows") {
  std::mt19937 rng(99);
  for (const Named& nf : kFormats) {
    const QuantFormat& f = *tgv::quant_format(nf.type);
    if (!f.vec_dot) continue;
    const QuantFormat& a = *tgv::quant_format(f.vec_dot_type);
    const std::string name = f.name;
    CAPTURE(name);
    double worst = 0;
    for (size_t blocks : {1, 3, 8, 10, 37, 80}) {  // n up to 2560 (Phi-2's width) / 20480
      const size_t n = blocks * static_cast<size_t>(f.block_size);
      for (int trial = 0; trial < 8; trial++) {
        const std::vector<float> wx = random_row(rng, n, trial), xx = random_row(rng, n, trial + 1);
        const std::vector<uint8_t> wb = quantize(f, wx.data(), n), xb = quantize(a, xx.data(), n);
        const std::vector<float> wd = dequantize(f, wb.data(), n), xd = dequantize(a, xb.data(), n);
        double ref = 0, mag = 0;
        for (size_t i = 0; i < n; i++) {
          ref += static_cast<double>(wd[i]) * xd[i];
          mag += std::fabs(static_cast<double>(wd[i]) * xd[i]);
        }
        // Q4_1 / Q5_1: the dot takes the minimum's share from Q8_1's s = half(dx * sum qx)
        // (dx before its rounding to half), which differs from half(dx) * sum qx, what the
        // dequantized row holds: by |m| |s - half(dx) sum qx| per block, a property of the
        // format (about 2^-10 relative; more where the halves are subnormal).
        double s_term = 0;
        if (f.vec_dot_type == DType::Q8_1)
          for (size_t k = 0; k < blocks; k++) {
            uint16_t mh, dxh, sh;
            std::memcpy(&mh, wb.data() + k * f.block_bytes + 2, 2);
            std::memcpy(&dxh, xb.data() + k * a.block_bytes, 2);
            std::memcpy(&sh, xb.data() + k * a.block_bytes + 2, 2);
            int sum = 0;
            for (int i = 0; i < 32; i++) sum += static_cast<int8_t>(xb[k * a.block_bytes + 4 + i]);
            s_term += std::fabs(half(mh)) * std::fabs(half(sh) - static_cast<double>(half(dxh)) * sum);
          }
        const float got = f.vec_dot(n, wb.data(), xb.data());
        const double err = std::fabs(got - ref);
        const double allowed = tgv::test::kDotRel * mag + s_term;
        if (mag > 0) worst = std::max(worst, std::max(0.0, err - s_term) / mag);
        if (!(err <= allowed))
          FAIL_CHECK("n " << n << " trial " << trial << ": dot " << got << ", float64 " << ref << ", |diff| " << err << " > " << allowed);
      }
    }
    MESSAGE(std::string(f.name) << " x " << std::string(a.name) << ": worst |dot - float64 dot| / sum |w x| (beyond the Q8_1 s term) " << worst);
  }
}

TEST_CASE("(e) sizes that are not whole blocks are clear errors where sizes come from files") {
  for (const Named& nf : kFormats) {
    const QuantFormat& f = *tgv::quant_format(nf.type);
    const std::string name = f.name;
    CAPTURE(name);
    const size_t bs = static_cast<size_t>(f.block_size);
    for (size_t count : {bs - 1, bs + 1, 3 * bs + 16, size_t{1}}) {
      try {
        tgv::dtype_bytes(nf.type, count, "model.layers.0.weight");
        FAIL_CHECK("no error for " << count << " elements");
      } catch (const tgv::Error& e) {
        const std::string m = e.what();
        CHECK(m.find("model.layers.0.weight") != std::string::npos);  // names the tensor
        CHECK(m.find("whole blocks of " + std::to_string(bs)) != std::string::npos);
        CHECK(m.find(f.name) != std::string::npos);
      }
    }
    CHECK(tgv::dtype_bytes(nf.type, 0) == 0);
    // a huge whole number of blocks whose bytes overflow size_t (formats of more than a
    // byte per value): an Error, not a wrapped size
    if (f.block_bytes > bs) CHECK_THROWS_AS(tgv::dtype_bytes(nf.type, (SIZE_MAX / bs) * bs), tgv::Error);

    // A 2-D tensor whose rows are not whole blocks (but whose total is): rows cannot be read.
    std::vector<uint8_t> data(2 * f.block_bytes);
    const tgv::Tensor bad{"bad", nf.type, {2 * static_cast<int64_t>(bs) / 16, 16}, data.data()};
    std::vector<float> row(16);
    CHECK_THROWS_AS(tgv::tensor_row_f32(row.data(), bad, 1), tgv::Error);
    const tgv::Tensor odd{"odd", nf.type, {3, static_cast<int64_t>(bs) / 2 + 1}, data.data()};
    CHECK_THROWS_AS(tgv::tensor_f32(odd), tgv::Error);
  }
}

TEST_CASE("a quantized tensor reads back through tensor_row_f32 / tensor_f32 as its dequantized values") {
  std::mt19937 rng(3);
  for (const Named& nf : kFormats) {
    const QuantFormat& f = *tgv::quant_format(nf.type);
    const std::string name = f.name;
    CAPTURE(name);
    const size_t rows = 3, cols = 2 * static_cast<size_t>(f.block_size);
    const std::vector<float> x = random_row(rng, rows * cols, 0);
    const std::vector<uint8_t> b = quantize(f, x.data(), x.size());
    const std::vector<float> w = dequantize(f, b.data(), x.size());
    const tgv::Tensor t{"t", nf.type, {static_cast<int64_t>(rows), static_cast<int64_t>(cols)}, b.data()};
    CHECK(t.nbytes() == b.size());
    CHECK(tgv::tensor_f32(t) == w);
    std::vector<float> row(cols);
    tgv::tensor_row_f32(row.data(), t, 2);
    CHECK(std::equal(row.begin(), row.end(), w.begin() + 2 * static_cast<long>(cols)));
  }
}
