// The column-blocked weight layout (WeightMatrix::col_block): the same matrix in both
// layouts gives the same elements, the same plain rows back, and the same matmul
// results through the backend, for every stored format and token count.
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <random>
#include <vector>

#include "backend/backend.h"
#include "backend/cpu/q8_interleaved.h"
#include "backend/cpu/quant.h"
#include "backend/cpu/quant_blocks.h"
#include "backend/cpu/simd_kernels.h"
#include "backend/cpu/weight_layout.h"
#include "core/error.h"

namespace s1 {
namespace {

// rows x cols of `dt`, from normal random values (quantised for block formats).
std::vector<uint8_t> random_matrix(DType dt, int64_t rows, int64_t cols, std::mt19937& rng) {
  std::normal_distribution<float> nd(0.0f, 1.0f);
  std::vector<float> row(static_cast<size_t>(cols));
  const WeightMatrix shape{dt, nullptr, rows, cols};
  std::vector<uint8_t> out(shape.bytes());
  for (int64_t r = 0; r < rows; ++r) {
    for (auto& x : row) x = nd(rng);
    uint8_t* o = out.data() + size_t(r) * shape.row_bytes(cols);
    if (dt == DType::F32) {
      std::memcpy(o, row.data(), row.size() * 4);
    } else if (dt == DType::BF16 || dt == DType::F16) {
      for (int64_t c = 0; c < cols; ++c) {
        const uint16_t h = dt == DType::BF16 ? f32_to_bf16(row[size_t(c)]) : f32_to_f16(row[size_t(c)]);
        std::memcpy(o + 2 * c, &h, 2);
      }
    } else if (dt == DType::Q8_0) {
      cpu::quantize_row_q8_0(row.data(), cols, reinterpret_cast<cpu::BlockQ8_0*>(o));
    } else {
      cpu::quantize_row(dt, row.data(), cols, o);
    }
  }
  return out;
}

struct Case {
  DType dtype;
  int64_t rows, cols, block;
};

class ColBlocked : public ::testing::TestWithParam<Case> {};

TEST_P(ColBlocked, SameElementsRowsAndMatmuls) {
  const Case k = GetParam();
  std::mt19937 rng(7);
  std::vector<uint8_t> plain_bytes = random_matrix(k.dtype, k.rows, k.cols, rng);
  const WeightMatrix plain{k.dtype, plain_bytes.data(), k.rows, k.cols};
  std::vector<uint8_t> blocked_bytes(plain.bytes());
  const WeightMatrix blocked = cpu::copy_col_blocked(plain, cpu::decode_col_block(plain, k.block), blocked_bytes.data());
  ASSERT_EQ(blocked.col_block, k.block);
  ASSERT_GT(blocked.segments(), 1);

  // every element where the layout says, and each row back in plain form
  std::vector<uint8_t> row(plain.row_bytes(k.cols));
  for (int64_t r = 0; r < k.rows; ++r) {
    for (int64_t c = 0; c < k.cols; ++c) ASSERT_EQ(cpu::weight_at(blocked, r, c), cpu::weight_at(plain, r, c)) << r << "," << c;
    cpu::copy_plain_row(blocked, r, row.data());
    ASSERT_EQ(0, std::memcmp(row.data(), plain_bytes.data() + size_t(r) * row.size(), row.size())) << "row " << r;
  }

  // the backend's matmul (one token: the streaming kernels; several: the tiles), both layouts
  auto be = make_cpu_backend(2);
  std::normal_distribution<float> nd;
  for (int n : {1, 2, 5, 9}) {
    std::vector<float> x(size_t(n * k.cols));
    for (auto& v : x) v = nd(rng);
    std::vector<float> want(size_t(n * k.rows)), got(want.size(), NAN);
    be->matmul(x.data(), n, plain, want.data());
    be->matmul(x.data(), n, blocked, got.data());
    for (size_t i = 0; i < want.size(); ++i)
      ASSERT_NEAR(got[i], want[i], 2e-5f * (1 + std::fabs(want[i])) * std::sqrt(float(k.cols))) << "n " << n << " at " << i;
    // and the scalar reference reads the blocked layout as it reads the plain one
    std::vector<float> ref_plain(want.size()), ref(want.size());
    cpu::matmul_rows_scalar(x.data(), n, k.cols, plain, 0, k.rows, ref_plain.data(), k.rows);
    cpu::matmul_rows_scalar(x.data(), n, k.cols, blocked, 0, k.rows, ref.data(), k.rows);
    for (size_t i = 0; i < want.size(); ++i)
      ASSERT_NEAR(ref[i], ref_plain[i], 2e-5f * (1 + std::fabs(want[i])) * std::sqrt(float(k.cols))) << "scalar, n " << n;
  }
}

INSTANTIATE_TEST_SUITE_P(Formats, ColBlocked,
                         ::testing::Values(Case{DType::F32, 37, 1000, 256}, Case{DType::BF16, 53, 1184, 512},
                                           Case{DType::F16, 29, 700, 224}, Case{DType::Q8_0, 41, 1056, 256},
                                           Case{DType::Q4_K, 19, 1280, 512}, Case{DType::Q6_K, 23, 768, 256},
                                           Case{DType::Q4_0, 17, 608, 96}),
                         [](const auto& info) { return std::string(dtype_name(info.param.dtype)); });

TEST(ColBlocked, PlainWhenRowsAreShortOrBlocksWouldSplit) {
  const WeightMatrix short_rows{DType::BF16, nullptr, 10, 896};
  EXPECT_EQ(cpu::decode_col_block(short_rows, 1024), 0);
  EXPECT_EQ(cpu::decode_col_block(WeightMatrix{DType::BF16, nullptr, 10, 4864}, 1024), 1024);
  EXPECT_EQ(cpu::decode_col_block(WeightMatrix{DType::BF16, nullptr, 10, 4864}, 0), 0);
  // K-quant blocks are 256 wide: a 96-column block would cut them
  EXPECT_EQ(cpu::decode_col_block(WeightMatrix{DType::Q4_K, nullptr, 10, 1024}, 96), 0);
  EXPECT_THROW(cpu::decode_col_block(short_rows, 100), Error);
}

// One-token matmuls run every column segment of every job as its own run of rows (the
// runs end to end, shared among threads); later segments' sums join segment 0's after
// the threads do, then the bias. Several segmented and plain jobs of one input, a bias on
// each, 1-3 threads: Q8_0_IL rows equal the same rows of a prefill call bit for bit (its
// kernel sums in one order whatever the token count), and every job matches the scalar
// reference of its plain matrix plus its bias.
TEST(ColBlocked, OneTokenSegmentRunsMatchPrefillAndReference) {
  std::mt19937 rng(11);
  const int64_t cols = 2560;
  struct Job {
    DType dtype;
    int64_t rows, block;
    std::vector<uint8_t> plain, stored;
    WeightMatrix plain_m, m;
    std::vector<float> bias;
  };
  std::vector<Job> jobs(4);
  const DType dts[4] = {DType::Q8_0, DType::BF16, DType::BF16, DType::Q8_0};
  const int64_t rows[4] = {68, 37, 5, 24}, blocks[4] = {1024, 512, 0, 0};
  std::normal_distribution<float> nd;
  for (int i = 0; i < 4; ++i) {
    Job& j = jobs[size_t(i)];
    j.dtype = dts[i], j.rows = rows[i], j.block = blocks[i];
    j.plain = random_matrix(j.dtype, j.rows, cols, rng);
    j.plain_m = WeightMatrix{j.dtype, j.plain.data(), j.rows, cols};
    j.stored.resize(j.plain_m.bytes());
    j.m = cpu::copy_col_blocked(j.plain_m, j.block, j.stored.data());
    if (j.dtype == DType::Q8_0 && cpu::q8_il_path()) j.m = cpu::interleave_q8_0_in_place(j.m);
    j.bias.resize(size_t(j.rows));
    for (auto& v : j.bias) v = nd(rng);
  }
  ASSERT_EQ(jobs[0].m.segments(), 3);
  ASSERT_EQ(jobs[1].m.segments(), 5);
  const int n = 3;
  std::vector<float> x(size_t(n * cols));
  for (auto& v : x) v = nd(rng);
  for (int threads : {1, 2, 3}) {
    auto be = make_cpu_backend(threads);
    std::vector<std::vector<float>> one(4), many(4);
    for (size_t i = 0; i < 4; ++i) {
      one[i].assign(size_t(jobs[i].rows), NAN);
      many[i].assign(size_t(n * jobs[i].rows), NAN);
    }
    auto call = [&](int tokens, std::vector<std::vector<float>>& ys) {
      be->matmul_same_input(x.data(), tokens,
                            {{&jobs[0].m, ys[0].data(), jobs[0].bias.data()}, {&jobs[1].m, ys[1].data(), jobs[1].bias.data()},
                             {&jobs[2].m, ys[2].data(), jobs[2].bias.data()}, {&jobs[3].m, ys[3].data(), jobs[3].bias.data()}});
    };
    call(1, one);
    call(n, many);
    for (int i = 0; i < 4; ++i) {
      const Job& j = jobs[size_t(i)];
      std::vector<float> ref(size_t(j.rows));
      cpu::matmul_rows_scalar(x.data(), 1, cols, j.plain_m, 0, j.rows, ref.data(), j.rows);
      for (int64_t r = 0; r < j.rows; ++r) {
        const float want = ref[size_t(r)] + j.bias[size_t(r)], got = one[size_t(i)][size_t(r)];
        // (Q8_0_IL rounds the activations to int16 per block of 32: ~1e-4 of each)
        ASSERT_NEAR(got, want, 2e-3f * std::sqrt(float(cols))) << threads << " threads, job " << i << " row " << r;
        if (j.m.dtype == DType::Q8_0_IL) {
          ASSERT_EQ(got, many[size_t(i)][size_t(r)]) << threads << " threads, job " << i << " row " << r;
        }
      }
    }
  }
}

}  // namespace
}  // namespace s1
