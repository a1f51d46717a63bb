// The GGUF block formats: decoding against gguf-py (llama.cpp's Python package, an
// implementation we did not write) on random blocks, against the layout formulas of
// quant_blocks.h written out independently here, quantise/dequantise round trips, and
// every SIMD matmul path against the scalar reference on random blocks with odd row
// and token counts.
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <fstream>
#include <nlohmann/json.hpp>
#include <random>
#include <vector>

#include "backend/cpu/quant.h"
#include "backend/cpu/quant_blocks.h"
#include "backend/cpu/simd_kernels.h"

namespace s1::cpu {
namespace {

const DType kFormats[] = {DType::Q4_0, DType::Q4_1, DType::Q5_0, DType::Q5_1,
                          DType::Q8_0, DType::Q4_K, DType::Q5_K, DType::Q6_K};

// Byte offsets of the f16 scale fields of each format (set to sane values in random blocks).
std::vector<size_t> half_fields(DType t) {
  switch (t) {
    case DType::Q4_1:
    case DType::Q5_1:
    case DType::Q4_K:
    case DType::Q5_K: return {0, 2};
    case DType::Q6_K: return {208};
    default: return {0};
  }
}

std::vector<uint8_t> random_blocks(DType t, size_t nblocks, std::mt19937& rng) {
  std::vector<uint8_t> b(nblocks * dtype_size(t));
  std::uniform_int_distribution<int> byte(0, 255);
  std::normal_distribution<float> scale(0.0f, 0.05f);
  for (auto& x : b) x = uint8_t(byte(rng));
  for (size_t k = 0; k < nblocks; ++k)
    for (size_t off : half_fields(t)) {
      uint16_t h = f32_to_f16(scale(rng));
      std::memcpy(b.data() + k * dtype_size(t) + off, &h, 2);
    }
  return b;
}

TEST(QuantBlocks, MatchGgufPy) {
  std::ifstream in(std::string(S1_TEST_DATA) + "/gguf/blocks-gguf-py.json");
  ASSERT_TRUE(in) << "tests/data/gguf/blocks-gguf-py.json";
  nlohmann::json j = nlohmann::json::parse(in);
  for (DType t : kFormats) {
    const auto& f = j["formats"][dtype_name(t)];
    ASSERT_EQ(f["block_bytes"].get<size_t>(), dtype_size(t)) << dtype_name(t);
    ASSERT_EQ(f["block_elements"].get<size_t>(), dtype_block(t)) << dtype_name(t);
    const std::string hex = f["hex"];
    std::vector<uint8_t> bytes(hex.size() / 2);
    for (size_t i = 0; i < bytes.size(); ++i) bytes[i] = uint8_t(std::stoi(hex.substr(2 * i, 2), nullptr, 16));
    const auto want = f["values"].get<std::vector<float>>();
    const size_t nb = bytes.size() / dtype_size(t), bs = dtype_block(t);
    ASSERT_EQ(want.size(), nb * bs);
    std::vector<float> got(bs);
    for (size_t k = 0; k < nb; ++k) {
      dequantize_block(t, bytes.data() + k * dtype_size(t), got.data());
      float scale = 0;
      for (size_t i = 0; i < bs; ++i) scale = std::max(scale, std::fabs(want[k * bs + i]));
      for (size_t i = 0; i < bs; ++i)
        ASSERT_NEAR(got[i], want[k * bs + i], 1e-6f * scale) << dtype_name(t) << " block " << k << " element " << i;
    }
  }
}

// The layouts written out once more, element by element, in the most literal form.
float literal(DType t, const uint8_t* b, int e) {
  auto h = [&](size_t off) {
    uint16_t x;
    std::memcpy(&x, b + off, 2);
    return f16_to_f32(x);
  };
  auto bit = [&](const uint8_t* p, int i) { return (p[i / 8] >> (i % 8)) & 1; };
  auto nib = [&](const uint8_t* qs, int j) { return j < 16 ? qs[j] % 16 : qs[j - 16] / 16; };
  switch (t) {
    case DType::Q4_0: return h(0) * float(nib(b + 2, e) - 8);
    case DType::Q4_1: return h(0) * float(nib(b + 4, e)) + h(2);
    case DType::Q5_0: return h(0) * float(nib(b + 6, e) + 16 * bit(b + 2, e) - 16);
    case DType::Q5_1: return h(0) * float(nib(b + 8, e) + 16 * bit(b + 4, e)) + h(2);
    case DType::Q8_0: return h(0) * float(int8_t(b[2 + e]));
    case DType::Q4_K:
    case DType::Q5_K: {
      const uint8_t* sc = b + 4;
      const int s = e / 32, l = e % 32;
      // the 6-bit scales: 0..3 in bytes 0..3 (low 6 bits), 4..7 split over bytes 8..11
      // (low 4 bits) and the top 2 bits of bytes 0..3; mins likewise with bytes 4..7.
      int scale, min;
      if (s < 4) {
        scale = sc[s] % 64;
        min = sc[s + 4] % 64;
      } else {
        scale = sc[s + 4] % 16 + 16 * (sc[s - 4] / 64);
        min = sc[s + 4] / 16 + 16 * (sc[s] / 64);
      }
      const uint8_t* qs = b + (t == DType::Q4_K ? 16 : 48);
      int q = (s % 2 == 0) ? qs[32 * (s / 2) + l] % 16 : qs[32 * (s / 2) + l] / 16;
      if (t == DType::Q5_K) q += 16 * ((b[16 + l] >> s) & 1);
      return h(0) * float(scale) * float(q) - h(2) * float(min);
    }
    case DType::Q6_K: {
      const uint8_t *ql = b, *qh = b + 128;
      const int8_t* sc = reinterpret_cast<const int8_t*>(b + 192);
      const int half = e / 128, r = e % 128, quarter = r / 32, l = r % 32;
      const uint8_t low_byte = ql[64 * half + (quarter % 2) * 32 + l];
      const int low = quarter < 2 ? low_byte % 16 : low_byte / 16;
      const int high = (qh[32 * half + l] >> (2 * quarter)) % 4;
      return h(208) * float(sc[8 * half + 2 * quarter + l / 16]) * float(low + 16 * high - 32);
    }
    default: return NAN;
  }
}

TEST(QuantBlocks, RandomBlocksMatchLayoutFormulas) {
  std::mt19937 rng(7);
  for (DType t : kFormats) {
    const size_t nb = 50, bs = dtype_block(t);
    auto bytes = random_blocks(t, nb, rng);
    std::vector<float> got(bs);
    for (size_t k = 0; k < nb; ++k) {
      const uint8_t* blk = bytes.data() + k * dtype_size(t);
      dequantize_block(t, blk, got.data());
      for (size_t i = 0; i < bs; ++i) ASSERT_EQ(got[i], literal(t, blk, int(i))) << dtype_name(t) << " " << k << " " << i;
    }
    // element access (weight_at / embedding rows) agrees with whole-block decoding
    WeightMatrix w{t, bytes.data(), int64_t(nb / 2), int64_t(2 * bs)};
    std::vector<float> row(2 * bs);
    for (int64_t r = 0; r < w.rows; ++r) {
      dequantize_row(t, bytes.data() + size_t(r) * 2 * dtype_size(t), w.cols, row.data());
      for (int64_t c = 0; c < w.cols; ++c) ASSERT_EQ(weight_at(w, r, c), row[c]) << dtype_name(t);
    }
  }
}

TEST(QuantBlocks, QuantiseRoundTrip) {
  std::mt19937 rng(3);
  std::normal_distribution<float> nd(0.0f, 1.0f);
  // Worst error relative to the block's range: about half a quantisation step.
  const std::pair<DType, float> tol[] = {{DType::Q4_0, 0.07f}, {DType::Q4_1, 0.04f}, {DType::Q5_0, 0.035f},
                                         {DType::Q5_1, 0.02f}, {DType::Q8_0, 0.005f}, {DType::Q4_K, 0.06f},
                                         {DType::Q5_K, 0.035f}, {DType::Q6_K, 0.02f}};
  for (auto [t, rel] : tol) {
    const int64_t cols = 512;
    std::vector<float> x(cols), y(cols);
    for (auto& v : x) v = nd(rng);
    x[5] = 0.0f;
    std::vector<uint8_t> q(size_t(cols) / dtype_block(t) * dtype_size(t));
    quantize_row(t, x.data(), cols, q.data());
    dequantize_row(t, q.data(), cols, y.data());
    float range = 0, err = 0;
    for (int64_t i = 0; i < cols; ++i) {
      range = std::max(range, std::fabs(x[i]));
      err = std::max(err, std::fabs(x[i] - y[i]));
    }
    EXPECT_LE(err, rel * 2 * range) << dtype_name(t);
    // all-zero rows stay zero (no NaN from a zero scale)
    std::vector<float> z(cols, 0.0f);
    quantize_row(t, z.data(), cols, q.data());
    dequantize_row(t, q.data(), cols, y.data());
    for (float v : y) ASSERT_EQ(v, 0.0f) << dtype_name(t);
  }
}

// The integer decode path (quant_idot_impl.h) quantises activations to int16 per 32
// values: x ~ dx * round(x / dx), dx = max|x| / 32767. The same rounding, in plain code.
std::vector<float> int16_rounded(const float* x, int64_t cols) {
  std::vector<float> out(static_cast<size_t>(cols));
  for (int64_t b = 0; b < cols / 32; ++b) {
    float amax = 0;
    for (int j = 0; j < 32; ++j) amax = std::max(amax, std::fabs(x[32 * b + j]));
    const float d = amax / 32767.0f, id = amax > 0 ? 32767.0f / amax : 0.0f;
    for (int j = 0; j < 32; ++j) out[32 * b + j] = d * float(int(std::nearbyint(x[32 * b + j] * id)));
  }
  return out;
}

TEST(QuantBlocks, SimdMatchesScalar) {
  std::mt19937 rng(11);
  std::normal_distribution<float> nd(0.0f, 1.0f);
  int checked = 0;
  for (Isa isa : {Isa::Avx2, Isa::Avx512}) {
    if (!isa_supported(isa)) {
      std::cout << "[ SKIPPED  ] " << isa_name(isa) << " not supported by this CPU\n";
      continue;
    }
    MatmulRowsFn fn = matmul_rows_for(isa);
    for (DType t : kFormats) {
      if (t == DType::Q8_0) continue;  // its own kernels, tested in tests/backend
      for (int64_t cols : {int64_t(dtype_block(t)), int64_t(dtype_block(t)) * 3, int64_t(768)}) {
        if (cols % int64_t(dtype_block(t))) continue;
        for (int64_t rows : {1, 7, 37}) {
          auto bytes = random_blocks(t, size_t(rows * cols) / dtype_block(t), rng);
          WeightMatrix w{t, bytes.data(), rows, cols};
          for (int n : {1, 3, 4, 9}) {
            std::vector<float> x(size_t(n) * cols);
            for (auto& v : x) v = nd(rng);
            // Tokens in groups of 4 take the f32 path; the last n % 4 (decode: all of them)
            // the integer path, whose reference is the scalar matmul on int16-rounded activations
            // (unless S1_QUANT_DOT=f32 keeps them all on the f32 path).
            std::vector<float> xr = x;
            const char* dot = std::getenv("S1_QUANT_DOT");
            const bool int_path = !(dot && std::string(dot) == "f32");
            for (int tt = n - n % 4; int_path && tt < n; ++tt) {
              auto q = int16_rounded(x.data() + tt * cols, cols);
              std::copy(q.begin(), q.end(), xr.begin() + tt * cols);
            }
            std::vector<float> want(size_t(n) * rows), got(size_t(n) * rows, NAN);
            matmul_rows_quant_scalar(xr.data(), n, cols, w, 0, rows, want.data(), rows);
            fn(x.data(), n, cols, w, 0, rows, got.data(), rows);
            for (int tt = 0; tt < n; ++tt)
              for (int64_t r = 0; r < rows; ++r) {
                double mag = 0;  // sum |x||w|: the scale of the rounding error
                for (int64_t c = 0; c < cols; ++c) mag += std::fabs(xr[tt * cols + c] * weight_at(w, r, c));
                ASSERT_NEAR(got[tt * rows + r], want[tt * rows + r], 1e-5 * mag + 1e-6)
                    << isa_name(isa) << " " << dtype_name(t) << " rows " << rows << " cols " << cols << " n " << n
                    << " at token " << tt << " row " << r;
              }
            ++checked;
          }
        }
      }
    }
  }
  std::cout << "[ INFO     ] " << checked << " SIMD matmul cases match the scalar reference\n";
}

TEST(QuantBlocks, SubRangeOfRowsOnly) {
  // The kernels write rows r0..r1 only (threads own disjoint row ranges).
  std::mt19937 rng(5);
  for (Isa isa : {Isa::Scalar, Isa::Avx2, Isa::Avx512}) {
    if (!isa_supported(isa)) continue;
    for (DType t : {DType::Q4_1, DType::Q6_K}) {
      const int64_t rows = 21, cols = 256;
      auto bytes = random_blocks(t, size_t(rows * cols) / dtype_block(t), rng);
      WeightMatrix w{t, bytes.data(), rows, cols};
      std::vector<float> x(cols * 5, 0.5f), y(rows * 5, -7.0f);
      matmul_rows_for(isa)(x.data(), 5, cols, w, 3, 18, y.data(), rows);
      for (int tt = 0; tt < 5; ++tt)
        for (int64_t r = 0; r < rows; ++r)
          if (r < 3 || r >= 18) EXPECT_EQ(y[tt * rows + r], -7.0f);
          else EXPECT_NE(y[tt * rows + r], -7.0f);
    }
  }
}

}  // namespace
}  // namespace s1::cpu
