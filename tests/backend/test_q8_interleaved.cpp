// Q8_0_IL (backend/cpu/q8_interleaved.h): the reordering keeps every element and gives
// the Q8_0 blocks back; the kernel's activation split is exact; the AVX512-VNNI kernel
// matches a double-precision reference of the same integer arithmetic, agrees with plain
// Q8_0 through the backend, and gives a token the same bits alone or in a batch.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <random>
#include <vector>

#include "backend/backend.h"
#include "backend/cpu/q8_interleaved.h"
#include "backend/cpu/quant.h"
#include "backend/cpu/simd_kernels.h"
#include "backend/cpu/weight_layout.h"
#include "core/error.h"

namespace s1 {
namespace {

std::vector<cpu::BlockQ8_0> random_q8(int64_t rows, int64_t cols, std::mt19937& rng) {
  std::normal_distribution<float> nd(0.0f, 1.0f);
  std::vector<float> row(static_cast<size_t>(cols));
  std::vector<cpu::BlockQ8_0> out(size_t(rows * cols / 32));
  for (int64_t r = 0; r < rows; ++r) {
    for (auto& x : row) x = nd(rng);
    cpu::quantize_row_q8_0(row.data(), cols, out.data() + r * cols / 32);
  }
  return out;
}

std::vector<float> random_x(size_t n, std::mt19937& rng) {
  std::normal_distribution<float> nd(0.0f, 1.0f);
  std::vector<float> x(n);
  for (auto& v : x) v = nd(rng);
  x[3] = 40.0f;  // an outlier, as real activations have
  return x;
}

// A Q8_0 matrix copied into `bytes` with column block `block`, then interleaved.
WeightMatrix make_il(const std::vector<cpu::BlockQ8_0>& q8, int64_t rows, int64_t cols, int64_t block,
                     std::vector<uint8_t>& bytes) {
  const WeightMatrix plain{DType::Q8_0, q8.data(), rows, cols};
  bytes.assign(plain.bytes(), 0);
  const WeightMatrix blocked = cpu::copy_col_blocked(plain, block, bytes.data());
  return cpu::interleave_q8_0_in_place(blocked);
}

struct Shape {
  int64_t rows, cols, block;
};
class Q8Interleaved : public ::testing::TestWithParam<Shape> {};

TEST_P(Q8Interleaved, KeepsEveryElementAndBlock) {
  const Shape s = GetParam();
  std::mt19937 rng(11);
  const auto q8 = random_q8(s.rows, s.cols, rng);
  const WeightMatrix plain{DType::Q8_0, q8.data(), s.rows, s.cols};
  std::vector<uint8_t> bytes;
  const WeightMatrix il = make_il(q8, s.rows, s.cols, s.block, bytes);
  ASSERT_EQ(il.dtype, DType::Q8_0_IL);
  ASSERT_EQ(il.bytes(), plain.bytes());
  std::vector<cpu::BlockQ8_0> row(size_t(s.cols / 32));
  for (int64_t r = 0; r < s.rows; ++r) {
    for (int64_t c = 0; c < s.cols; ++c) ASSERT_EQ(cpu::weight_at(il, r, c), cpu::weight_at(plain, r, c)) << r << "," << c;
    cpu::q8_il_row_to_q8_0(il, r, row.data());
    ASSERT_EQ(0, std::memcmp(row.data(), q8.data() + r * s.cols / 32, row.size() * sizeof(cpu::BlockQ8_0))) << "row " << r;
  }
}

// The kernel's input: 256 hi + lo is x / d rounded, |x / d| <= 32639, and the AVX-512
// preparation equals the scalar one byte for byte.
TEST_P(Q8Interleaved, InputSplitIsExact) {
  const Shape s = GetParam();
  std::mt19937 rng(12);
  const int n = 3;
  auto x = random_x(size_t(n * s.cols), rng);
  std::fill(x.end() - 32, x.end(), 0.0f);  // a block of zeros: d = 0, every q 0
  cpu::Q8ILInput ref;
  cpu::prepare_q8_il_input_scalar(x.data(), n, s.cols, ref);
  // undo the group order: block b's value j sits at 2 t cols + 64 g + 8 n_g (j / 4) + 4 i + j % 4
  // (hi), lo 4 n_g bytes further
  const int64_t nb = s.cols / 32;
  for (int t = 0; t < n; ++t)
    for (int64_t b = 0; b < nb; ++b) {
      const int64_t g = b / 16 * 16, i = b - g, ng = std::min<int64_t>(16, nb - g);
      const float d = ref.d[t * nb + b];
      int64_t sum = 0;
      for (int j = 0; j < 32; ++j) {
        const size_t at = size_t(2 * t * s.cols + 64 * g + 8 * ng * (j / 4) + 4 * i + j % 4);
        ASSERT_EQ(int64_t(at), cpu::q8_il_split_at(s.cols, t, b, j));
        const int q = 256 * ref.split[at] + ref.split[at + size_t(4 * ng)];
        ASSERT_LE(std::abs(q), 32639);
        const float v = x[size_t(t * s.cols + 32 * b + j)];
        ASSERT_EQ(q, d == 0.0f ? 0 : int(std::nearbyint(v / d))) << t << " " << b << " " << j;
        sum += q;
      }
      ASSERT_FLOAT_EQ(ref.cx[t * nb + b], -128.0f * d * float(sum));
    }
  if (!cpu::q8_il_path()) GTEST_SKIP() << "no AVX512-VNNI here";
  cpu::Q8ILInput simd;
  cpu::prepare_q8_il_input_avx512(x.data(), n, s.cols, simd);
  const size_t vals = size_t(n * s.cols), blocks = vals / 32;
  EXPECT_EQ(0, std::memcmp(ref.split, simd.split, 2 * vals));
  EXPECT_EQ(0, std::memcmp(ref.d, simd.d, blocks * 4));
  EXPECT_EQ(0, std::memcmp(ref.cx, simd.cx, blocks * 4));
}

// The kernel on shape s with n tokens: alone and batched, against the double reference and
// through the backend (see the test below).
void check_kernel(const Shape& s, int n, std::mt19937& rng) {
  const auto q8 = random_q8(s.rows, s.cols, rng);
  std::vector<uint8_t> bytes;
  const WeightMatrix il = make_il(q8, s.rows, s.cols, s.block, bytes);
  const WeightMatrix plain{DType::Q8_0, q8.data(), s.rows, s.cols};
  const auto x = random_x(size_t(n * s.cols), rng);
  cpu::Q8ILInput in;
  cpu::prepare_q8_il_input_avx512(x.data(), n, s.cols, in);
  const int64_t nb = s.cols / 32;

  // all tokens at once, segment by segment into per-segment partial sums
  auto run = [&](int tokens, int t0) {
    cpu::Q8ILInput one;
    cpu::prepare_q8_il_input_avx512(x.data() + t0 * s.cols, tokens, s.cols, one);
    std::vector<float> y(size_t(tokens * s.rows), 0.0f), part(y.size());
    for (int64_t seg = 0; seg < il.segments(); ++seg) {
      const WeightMatrix w = il.segment(seg, 0, il.rows);
      cpu::matmul_rows_q8_il(one, il.segment_col0(seg), tokens, w, 0, w.rows, part.data(), s.rows);
      for (size_t i = 0; i < y.size(); ++i) y[i] += part[i];
    }
    return y;
  };
  const std::vector<float> all = run(n, 0);
  for (int t = 0; t < n; ++t) {
    const std::vector<float> alone = run(1, t);
    for (int64_t r = 0; r < s.rows; ++r)
      ASSERT_EQ(alone[size_t(r)], all[size_t(t * s.rows + r)]) << "token " << t << " row " << r;
  }
  // against the same arithmetic in double: sum over blocks of d_w d_x sum q_w q_x
  for (int t = 0; t < n; ++t)
    for (int64_t r = 0; r < s.rows; ++r) {
      double want = 0, mag = 0;
      for (int64_t b = 0; b < nb; ++b) {
        const cpu::BlockQ8_0& blk = q8[size_t(r * nb + b)];
        const int64_t ng = cpu::q8_il_group_blocks(s.cols, b);
        int64_t dot = 0;
        for (int j = 0; j < 32; ++j) {
          const size_t at = size_t(cpu::q8_il_split_at(s.cols, t, b, j));
          dot += int64_t(blk.q[j]) * (256 * in.split[at] + in.split[at + size_t(4 * ng)]);
        }
        const double scale = double(f16_to_f32(blk.d)) * double(in.d[t * nb + b]);
        want += scale * double(dot);
        mag += std::fabs(scale * double(dot));
      }
      ASSERT_NEAR(all[size_t(t * s.rows + r)], want, 1e-5 * mag + 1e-6) << "token " << t << " row " << r;
    }
  // and through the backend, with plain Q8_0 (its int16 path) beside it: both within the
  // rounding bound of their activations, sum over blocks of d_x / 2 * sum |w|, of the
  // exact product of the Q8_0 weights and x
  auto be = make_cpu_backend(2);
  std::vector<float> via_plain(size_t(n * s.rows)), via_il(via_plain.size(), NAN);
  be->matmul(x.data(), n, plain, via_plain.data());
  be->matmul(x.data(), n, il, via_il.data());
  for (int t = 0; t < n; ++t)
    for (int64_t r = 0; r < s.rows; ++r) {
      double exact = 0, bound = 0, mag = 0;
      for (int64_t b = 0; b < nb; ++b) {
        const cpu::BlockQ8_0& blk = q8[size_t(r * nb + b)];
        double wabs = 0;
        for (int j = 0; j < 32; ++j) {
          const double w = double(f16_to_f32(blk.d)) * blk.q[j], xv = x[size_t(t * s.cols + 32 * b + j)];
          exact += w * xv;
          wabs += std::fabs(w);
          mag += std::fabs(w * xv);
        }
        bound += double(in.d[t * nb + b]) / 2 * wabs;
      }
      const size_t i = size_t(t * s.rows + r);
      ASSERT_NEAR(via_il[i], exact, bound + 1e-5 * mag) << "token " << t << " row " << r;
      ASSERT_NEAR(via_plain[i], exact, bound + 1e-5 * mag) << "token " << t << " row " << r;
    }
}

TEST_P(Q8Interleaved, KernelMatchesReferenceAndTokenCounts) {
  if (!cpu::q8_il_path()) GTEST_SKIP() << "no AVX512-VNNI here";
  std::mt19937 rng(13);
  check_kernel(GetParam(), 5, rng);
}

// Random shapes: rows a multiple of 4, any whole number of blocks (so any last group of
// 1..16 blocks), column segments of 512 or 1024 where the rows are longer, 1..7 tokens.
TEST(Q8InterleavedKernel, RandomShapes) {
  if (!cpu::q8_il_path()) GTEST_SKIP() << "no AVX512-VNNI here";
  std::mt19937 rng(14);
  for (int i = 0; i < 24; ++i) {
    const int64_t rows = 4 * std::uniform_int_distribution<int64_t>(1, 24)(rng);
    const int64_t cols = 32 * std::uniform_int_distribution<int64_t>(1, 90)(rng);
    const int64_t block = i % 3 == 0 || cols <= 512 ? 0 : (i % 3 == 1 ? 512 : 1024);
    const int n = std::uniform_int_distribution<int>(1, 7)(rng);
    SCOPED_TRACE(std::to_string(rows) + " x " + std::to_string(cols) + ", block " + std::to_string(block) + ", " +
                 std::to_string(n) + " tokens");
    check_kernel(Shape{rows, cols, block >= cols ? 0 : block}, n, rng);
    if (HasFatalFailure()) return;
  }
}

INSTANTIATE_TEST_SUITE_P(Shapes, Q8Interleaved,
                         ::testing::Values(Shape{4, 32, 0},      // one short group
                                           Shape{8, 512, 0},     // one full group
                                           Shape{4, 224, 0},     // 7 blocks: quarters of 4 and 3
                                           Shape{4, 1088, 0},    // 16 + 16 + 2 blocks
                                           Shape{12, 1184, 0},   // 16 + 16 + 5 blocks
                                           Shape{16, 1184, 1024},  // segments of 32 and 5 blocks
                                           Shape{20, 2560, 1024}),  // segments 1024, 1024, 512
                         [](const auto& info) {
                           return std::to_string(info.param.rows) + "x" + std::to_string(info.param.cols) + "_b" +
                                  std::to_string(info.param.block);
                         });

TEST(Q8InterleavedLayout, RefusesWhatItCannotHold) {
  std::vector<cpu::BlockQ8_0> q8(6 * 2048 / 32);
  EXPECT_FALSE(cpu::can_interleave_q8_0(WeightMatrix{DType::Q8_0, q8.data(), 6, 64}));         // rows % 4
  EXPECT_FALSE(cpu::can_interleave_q8_0(WeightMatrix{DType::Q8_0, q8.data(), 4, 2048, 1056}));  // segment not on a group
  EXPECT_FALSE(cpu::can_interleave_q8_0(WeightMatrix{DType::BF16, q8.data(), 4, 64}));
  EXPECT_TRUE(cpu::can_interleave_q8_0(WeightMatrix{DType::Q8_0, q8.data(), 4, 2048, 1024}));
  EXPECT_THROW(cpu::interleave_q8_0_in_place(WeightMatrix{DType::Q8_0, q8.data(), 6, 64}), Error);
}

}  // namespace
}  // namespace s1

namespace s1 {
namespace {

// The decode segments given to long Q8_0_IL rows: none up to kQ8ILMaxSegmentCols, else the
// fewest segments of at most that many columns, each starting on a group.
TEST(Q8InterleavedLayout, DecodeSegmentsForLongRows) {
  EXPECT_EQ(cpu::q8_il_decode_col_block(896), 0);
  EXPECT_EQ(cpu::q8_il_decode_col_block(cpu::kQ8ILMaxSegmentCols), 0);
  EXPECT_EQ(cpu::q8_il_decode_col_block(4864), 2560);  // Qwen2.5-0.5B's down projection: 2560 + 2304
  for (int64_t cols = 32; cols <= 40000; cols += 32) {
    const int64_t b = cpu::q8_il_decode_col_block(cols);
    if (cols <= cpu::kQ8ILMaxSegmentCols) {
      ASSERT_EQ(b, 0) << cols;
      continue;
    }
    ASSERT_EQ(b % cpu::kQ8GroupCols, 0) << cols;
    ASSERT_LE(b, cpu::kQ8ILMaxSegmentCols) << cols;
    const int64_t fewest = (cols + cpu::kQ8ILMaxSegmentCols - 1) / cpu::kQ8ILMaxSegmentCols;
    ASSERT_EQ((cols + b - 1) / b, fewest) << cols;
    ASSERT_TRUE(cpu::can_interleave_q8_0(WeightMatrix{DType::Q8_0, nullptr, 8, cols, b})) << cols;
  }
}

}  // namespace
}  // namespace s1
