// Every SIMD path against the scalar reference, on random sizes with odd tails.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <random>
#include <stdexcept>
#include <string>
#include <vector>

#include "backend/backend.h"
#include "backend/cpu/q8_interleaved.h"
#include "backend/cpu/quant.h"
#include "backend/cpu/simd_kernels.h"
#include "backend/cpu/weight_layout.h"
#include "core/dtype.h"

namespace s1 {
namespace {

struct Weights {
  std::vector<float> f32;
  std::vector<uint16_t> half;
  WeightMatrix m;
};

Weights random_weights(DType dt, int64_t rows, int64_t cols, std::mt19937& rng) {
  std::normal_distribution<float> nd(0.0f, 1.0f);
  Weights w;
  w.f32.resize(rows * cols);
  for (auto& x : w.f32) x = nd(rng);
  if (dt == DType::F32) {
    w.m = {dt, w.f32.data(), rows, cols};
  } else {
    w.half.resize(w.f32.size());
    for (size_t i = 0; i < w.f32.size(); ++i) w.half[i] = dt == DType::BF16 ? f32_to_bf16(w.f32[i]) : f32_to_f16(w.f32[i]);
    w.m = {dt, w.half.data(), rows, cols};
  }
  return w;
}

class MatmulIsa : public ::testing::TestWithParam<std::tuple<cpu::Isa, DType>> {};

TEST_P(MatmulIsa, MatchesScalarOnOddShapes) {
  auto [isa, dt] = GetParam();
  if (!cpu::isa_supported(isa)) GTEST_SKIP() << cpu::isa_name(isa) << " not supported on this CPU";
  std::mt19937 rng(1234);
  std::uniform_int_distribution<int> dim(1, 200);
  auto fn = cpu::matmul_rows_for(isa);
  for (int trial = 0; trial < 60; ++trial) {
    const int64_t rows = dim(rng), cols = dim(rng);
    const int n = 1 + trial % 9;  // 1..9 tokens: covers the 4-token tiles and their tails
    Weights w = random_weights(dt, rows, cols, rng);
    std::vector<float> x(n * cols);
    std::normal_distribution<float> nd;
    for (auto& v : x) v = nd(rng);
    std::vector<float> want(n * rows), got(n * rows, NAN);
    cpu::matmul_rows_scalar(x.data(), n, cols, w.m, 0, rows, want.data(), rows);
    fn(x.data(), n, cols, w.m, 0, rows, got.data(), rows);
    for (size_t i = 0; i < want.size(); ++i)
      ASSERT_NEAR(got[i], want[i], 1e-4f * (1 + std::sqrt(float(cols)))) << "rows " << rows << " cols " << cols << " n " << n;
  }
}

// Prefill-sized calls (32+ tokens: AVX-512 packs 16-row blocks, matmul_avx512.cpp's
// rows_packed), on rows r0 .. r1 that are not whole blocks, odd columns, and token counts
// that leave 12-, 4- and 1-token groups; with the packing turned off, the tiles.
TEST_P(MatmulIsa, ManyTokensMatchScalarPackedOrNot) {
  auto [isa, dt] = GetParam();
  if (!cpu::isa_supported(isa)) GTEST_SKIP() << cpu::isa_name(isa) << " not supported on this CPU";
  std::mt19937 rng(4321);
  std::uniform_int_distribution<int> dim(1, 150);
  auto fn = cpu::matmul_rows_for(isa);
  const bool keep = cpu::packed_prefill();
  for (int trial = 0; trial < 16; ++trial) {
    const int64_t rows = dim(rng) + 5, cols = dim(rng), r0 = trial % 5;
    const int n = 32 + (trial * 7) % 31;
    Weights w = random_weights(dt, rows, cols, rng);
    std::vector<float> x(n * cols);
    std::normal_distribution<float> nd;
    for (auto& v : x) v = nd(rng);
    std::vector<float> want(n * rows, -1.0f);
    cpu::matmul_rows_scalar(x.data(), n, cols, w.m, r0, rows, want.data(), rows);
    for (bool packed : {true, false}) {
      cpu::set_packed_prefill(packed);
      std::vector<float> got(n * rows, -1.0f);  // rows before r0 stay untouched
      fn(x.data(), n, cols, w.m, r0, rows, got.data(), rows);
      for (size_t i = 0; i < want.size(); ++i)
        ASSERT_NEAR(got[i], want[i], 1e-4f * (1 + std::sqrt(float(cols))))
            << "rows " << r0 << ".." << rows << " cols " << cols << " n " << n << (packed ? " packed" : " tiles");
    }
  }
  cpu::set_packed_prefill(keep);
}

INSTANTIATE_TEST_SUITE_P(All, MatmulIsa,
                         ::testing::Combine(::testing::Values(cpu::Isa::Avx2, cpu::Isa::Avx512),
                                            ::testing::Values(DType::F32, DType::BF16, DType::F16)),
                         [](const auto& info) {
                           return std::string(cpu::isa_name(std::get<0>(info.param))) + "_" +
                                  dtype_name(std::get<1>(info.param));
                         });

TEST(Dtype, Bf16AndF16RoundTrip) {
  // f16: every finite half value converts exactly to f32 and back
  for (uint32_t h = 0; h < 0x10000; ++h) {
    uint16_t v = uint16_t(h);
    if ((v & 0x7c00) == 0x7c00) continue;  // inf/nan
    ASSERT_EQ(f32_to_f16(f16_to_f32(v)), v) << std::hex << h;
  }
  EXPECT_EQ(f16_to_f32(0x3c00), 1.0f);
  EXPECT_EQ(f16_to_f32(0x0001), std::ldexp(1.0f, -24));
  EXPECT_EQ(bf16_to_f32(f32_to_bf16(1.0f)), 1.0f);
  EXPECT_EQ(f32_to_bf16(1.00390625f), 0x3f80);  // halfway: rounds to even
  EXPECT_EQ(f32_to_bf16(1.01171875f), 0x3f82);
}

TEST(CpuBackend, MatmulThreadsAgree) {
  std::mt19937 rng(7);
  Weights w = random_weights(DType::BF16, 333, 97, rng);
  std::vector<float> x(5 * 97, 0.5f), a(5 * 333), b(5 * 333);
  make_cpu_backend(1)->matmul(x.data(), 5, w.m, a.data());
  make_cpu_backend(2)->matmul(x.data(), 5, w.m, b.data());
  EXPECT_EQ(a, b);
}

// Several matrices of one input in one call: work items are cut over their rows laid
// end to end, so an item may span two matrices; every row still gets its own dot product,
// and a job given a bias gets it added to its rows.
TEST(CpuBackend, MatmulSameInputEqualsSeparateCalls) {
  std::mt19937 rng(8);
  for (DType dt : {DType::F32, DType::BF16}) {
    Weights a = random_weights(dt, 100, 96, rng), b = random_weights(dt, 37, 96, rng), c = random_weights(dt, 5, 96, rng);
    for (int n : {1, 7}) {
      std::vector<float> x(size_t(n) * 96);
      std::normal_distribution<float> nd;
      for (auto& v : x) v = nd(rng);
      auto be = make_cpu_backend(2);
      std::vector<float> ya(size_t(n) * 100), yb(size_t(n) * 37), yc(size_t(n) * 5);
      std::vector<float> bias(37);
      for (auto& v : bias) v = nd(rng);
      be->matmul_same_input(x.data(), n, {{&a.m, ya.data()}, {&b.m, yb.data(), bias.data()}, {&c.m, yc.data()}});
      for (auto [w, y] : {std::pair{&a, &ya}, std::pair{&b, &yb}, std::pair{&c, &yc}}) {
        std::vector<float> want(y->size());
        be->matmul(x.data(), n, w->m, want.data());
        if (w == &b) be->add_bias(want.data(), n, 37, bias.data());  // the job given a bias
        for (size_t i = 0; i < want.size(); ++i) ASSERT_NEAR((*y)[i], want[i], 1e-5f * (1 + std::fabs(want[i]))) << n << " " << i;
      }
    }
  }
}

// token_session runs a decoded token's parallel calls on threads that wait on a spin
// (spin_team.h) instead of a parallel region per call: the same numbers as outside a
// session, for any thread count; an error in the body reaches the caller, and the next
// session works.
TEST(CpuBackend, TokenSessionGivesTheSameResultsAndPassesErrorsOn) {
  std::mt19937 rng(12);
  Weights a = random_weights(DType::BF16, 300, 128, rng), b = random_weights(DType::F32, 40, 128, rng);
  std::vector<float> x(128), bias(40);
  std::normal_distribution<float> nd;
  for (auto& v : x) v = nd(rng);
  for (auto& v : bias) v = nd(rng);
  // attention over 9 cached positions, 4 query heads on 2 kv heads of 16 dims (f32 cache)
  const int heads = 4, kv_heads = 2, hd = 16;
  const int64_t ctx = 16;
  std::vector<float> q(heads * hd), kc(size_t(kv_heads * ctx * hd)), vc(kc.size());
  for (auto& v : q) v = nd(rng);
  for (auto& v : kc) v = nd(rng);
  for (auto& v : vc) v = nd(rng);
  const AttentionShape shape{heads, kv_heads, hd, heads * hd, hd, ctx * hd, false, false};
  for (int threads : {1, 2, 3}) {
    auto be = make_cpu_backend(threads);
    std::vector<float> ya(300), yb(40), att(heads * hd);
    be->matmul_same_input(x.data(), 1, {{&a.m, ya.data()}, {&b.m, yb.data(), bias.data()}});
    be->attention(q.data(), 1, kc.data(), vc.data(), 8, shape, att.data());
    std::vector<float> sa(300), sb(40), satt(heads * hd);
    for (int rep = 0; rep < 3; ++rep) {
      be->token_session([&] {
        for (int i = 0; i < 5; ++i) {
          be->matmul_same_input(x.data(), 1, {{&a.m, sa.data()}, {&b.m, sb.data(), bias.data()}});
          be->attention(q.data(), 1, kc.data(), vc.data(), 8, shape, satt.data());
        }
      });
      EXPECT_EQ(sa, ya) << threads << " threads";
      EXPECT_EQ(sb, yb) << threads << " threads";
      EXPECT_EQ(satt, att) << threads << " threads";
    }
    EXPECT_THROW(be->token_session([&] {
      be->matmul(x.data(), 1, a.m, sa.data());
      throw std::runtime_error("body failed");
    }),
                 std::runtime_error);
    std::fill(sa.begin(), sa.end(), 0.0f);
    be->token_session([&] { be->matmul(x.data(), 1, a.m, sa.data()); });
    EXPECT_EQ(sa, ya) << threads << " threads, after an error";
  }
}

// A matrix of dtype dt in the layout the model decodes with: plain for f32, column
// segments for long bf16 rows, interleaved (and segmented) for Q8_0.
struct Laid {
  std::vector<float> f32;
  std::vector<uint8_t> plain, bytes;
  WeightMatrix m;
};
Laid laid_out(DType dt, int64_t rows, int64_t cols, std::mt19937& rng) {
  std::normal_distribution<float> nd(0.0f, 1.0f);
  Laid w;
  w.f32.resize(size_t(rows * cols));
  for (auto& x : w.f32) x = nd(rng);
  const WeightMatrix src{DType::F32, w.f32.data(), rows, cols};
  if (dt == DType::F32) {
    w.m = src;
    return w;
  }
  if (dt == DType::BF16) {
    w.plain.resize(w.f32.size() * 2);
    auto* h = reinterpret_cast<uint16_t*>(w.plain.data());
    for (size_t i = 0; i < w.f32.size(); ++i) h[i] = f32_to_bf16(w.f32[i]);
    const WeightMatrix plain{DType::BF16, w.plain.data(), rows, cols};
    w.bytes.resize(w.plain.size());
    w.m = cpu::copy_col_blocked(plain, cpu::decode_col_block(plain), w.bytes.data());
    return w;
  }
  w.plain.resize(size_t(rows * cols / 32) * sizeof(cpu::BlockQ8_0));
  cpu::quantize_q8_0(src, reinterpret_cast<cpu::BlockQ8_0*>(w.plain.data()), 1);
  const WeightMatrix plain{DType::Q8_0, w.plain.data(), rows, cols};
  w.bytes.resize(w.plain.size());
  w.m = cpu::interleave_q8_0_in_place(cpu::copy_col_blocked(plain, cpu::q8_il_decode_col_block(cols), w.bytes.data()));
  return w;
}

// mlp inside a token session (where the CPU backend gives each thread the same rows of
// gate and up, has it do their SwiGLU and, for a Q8_0_IL down projection, their part of
// its input) gives the bits of the plain composition: gate and up, SwiGLU, down. Widths
// with a short last group of the down projection's input (2720 = 5 groups + 5 blocks,
// in two column segments) and with fewer rows than groups per thread (160), biases on
// and off, 2 and 3 threads.
TEST(CpuBackend, MlpInATokenSessionMatchesTheComposition) {
  std::vector<DType> types = {DType::F32, DType::BF16};
  if (cpu::q8_il_path()) types.push_back(DType::Q8_0_IL);
  const int64_t hidden = 64;
  std::normal_distribution<float> nd;
  for (DType dt : types)
    for (int64_t inter : {int64_t(2720), int64_t(160)})
      for (bool bias : {false, true}) {
        std::mt19937 rng(21);
        Laid g = laid_out(dt, inter, hidden, rng), u = laid_out(dt, inter, hidden, rng),
             d = laid_out(dt, hidden, inter, rng);
        std::vector<float> x(hidden), bg(inter), bu(inter), bd(hidden);
        for (auto* v : {&x, &bg, &bu, &bd})
          for (auto& e : *v) e = nd(rng);
        auto job = [&](const Laid& w, std::vector<float>& y, const std::vector<float>& b) {
          return Backend::MatmulJob{&w.m, y.data(), bias ? b.data() : nullptr};
        };
        for (int threads : {2, 3}) {
          auto be = make_cpu_backend(threads);
          std::vector<float> h(inter), up(inter), out(hidden);
          be->matmul_same_input(x.data(), 1, {job(g, h, bg), job(u, up, bu)});
          be->swiglu(h.data(), up.data(), size_t(inter), h.data());
          be->matmul_same_input(h.data(), 1, {job(d, out, bd)});
          std::vector<float> sh(inter), sup(inter), sout(hidden);
          for (int rep = 0; rep < 2; ++rep) {
            be->token_session([&] { be->mlp(x.data(), 1, job(g, sh, bg), job(u, sup, bu), job(d, sout, bd)); });
            const std::string what = std::string(dtype_name(dt)) + ", " + std::to_string(inter) + " wide, " +
                                     std::to_string(threads) + " threads" + (bias ? ", biases" : "");
            EXPECT_EQ(sh, h) << what;
            EXPECT_EQ(sout, out) << what;
          }
          // and outside a session, the same again
          std::fill(sout.begin(), sout.end(), 0.0f);
          be->mlp(x.data(), 1, job(g, sh, bg), job(u, sup, bu), job(d, sout, bd));
          EXPECT_EQ(sout, out);
        }
      }
}

// The residual step inside a token session (each thread adds and normalises the row and
// keeps its own copy of xn, which the next matmul on xn reads, each thread splitting or
// quantising its own) and matmuls on a shared input (each thread splitting its own) give
// the bits of the plain ops. Also: copies are not used by a matmul on another input, and
// are used up by the first matmul after the step.
TEST(CpuBackend, ResidualStepAndThreadInputsGiveTheSameBits) {
  std::vector<DType> types = {DType::F32, DType::BF16};
  if (cpu::q8_il_path()) types.push_back(DType::Q8_0_IL);
  const int dim = 896, inter = 1184;
  std::normal_distribution<float> nd;
  for (DType dt : types) {
    std::mt19937 rng(31);
    Laid wq = laid_out(dt, 160, dim, rng), wo = laid_out(dt, dim, dim, rng), g = laid_out(dt, inter, dim, rng),
         u = laid_out(dt, inter, dim, rng), d = laid_out(dt, dim, inter, rng);
    std::vector<float> x(dim), y(dim), other(dim), norm(dim);
    for (auto* v : {&x, &y, &other, &norm})
      for (auto& e : *v) e = nd(rng);
    for (int threads : {2, 3}) {
      auto be = make_cpu_backend(threads);
      // the plain ops, outside a session
      std::vector<float> x1(dim), xn(dim), q(160), o(dim), q2(160), h(inter), up(inter), out(dim);
      be->add_rmsnorm(x.data(), y.data(), x1.data(), norm.data(), 1, dim, 1e-6f, xn.data());
      be->matmul(other.data(), 1, wo.m, o.data());
      be->matmul(other.data(), 1, wq.m, q.data());  // (what the session's first matmul on xn reads)
      be->matmul(xn.data(), 1, wq.m, q2.data());
      be->mlp(xn.data(), 1, {&g.m, h.data()}, {&u.m, up.data()}, {&d.m, out.data()});
      std::vector<float> sx1(dim), sxn(dim), sq(160), so(dim), sq2(160), sh(inter), sup(inter), sout(dim);
      for (int rep = 0; rep < 2; ++rep) {
        be->token_session([&] {
          be->add_rmsnorm(x.data(), y.data(), sx1.data(), norm.data(), 1, dim, 1e-6f, sxn.data());
          be->matmul(other.data(), 1, wo.m, so.data());  // another input: the copies are not for it
          sxn = other;                                   // they were used up, so xn may change
          be->matmul(sxn.data(), 1, wq.m, sq.data());
          be->add_rmsnorm(x.data(), y.data(), sx1.data(), norm.data(), 1, dim, 1e-6f, sxn.data());
          be->matmul(sxn.data(), 1, wq.m, sq2.data());  // the copies
          be->add_rmsnorm(x.data(), y.data(), sx1.data(), norm.data(), 1, dim, 1e-6f, sxn.data());
          be->mlp(sxn.data(), 1, {&g.m, sh.data()}, {&u.m, sup.data()}, {&d.m, sout.data()});
        });
        const std::string what = std::string(dtype_name(dt)) + ", " + std::to_string(threads) + " threads";
        EXPECT_EQ(sx1, x1) << what;
        EXPECT_EQ(sxn, xn) << what;
        EXPECT_EQ(so, o) << what;
        EXPECT_EQ(sq, q) << what;
        EXPECT_EQ(sq2, q2) << what;
        EXPECT_EQ(sh, h) << what;
        EXPECT_EQ(sout, out) << what;
      }
    }
  }
}

// prefetch_during_next is a hint: the matmul it rides on gives the same numbers, whatever
// the regions (none, empty, fewer or more than the threads, larger than the cap).
TEST(CpuBackend, PrefetchHintLeavesResultsAlone) {
  std::mt19937 rng(10);
  Weights w = random_weights(DType::BF16, 300, 64, rng);
  std::vector<float> x(64, 0.25f), want(300), got(300);
  auto be = make_cpu_backend(2);
  be->matmul(x.data(), 1, w.m, want.data());
  std::vector<float> big(size_t(1) << 20, 1.0f), small(100, 2.0f);
  const std::vector<std::vector<Backend::Region>> hints = {
      {},
      {{small.data(), 0}},
      {{small.data(), small.size() * sizeof(float)}},
      {{big.data(), big.size() * sizeof(float)}, {small.data(), 400}, {big.data() + 100, 64 * 1000}},
  };
  for (const auto& h : hints) {
    be->prefetch_during_next(h);
    be->matmul(x.data(), 1, w.m, got.data());
    EXPECT_EQ(got, want) << h.size() << " regions";
  }
}

// The one-token kernels' weight prefetch (weight_prefetch) is only a hint: off, at the
// defaults and far ahead (past the matrix's end), into L2 alone or into L1 as well, on
// every line and on every other line, the same bits, bf16 and Q8_0_IL (whole 16-block
// groups, and 896 columns: a group of 16 blocks and one of 12 a quad).
TEST(CpuBackend, WeightPrefetchLeavesResultsAlone) {
  const cpu::WeightPrefetch keep = cpu::weight_prefetch();
  std::mt19937 rng(12);
  Weights w = random_weights(DType::BF16, 203, 1000, rng);  // odd rows, a 1000 % 64 tail
  auto q8_matrix = [&](int64_t rows, int64_t cols, std::vector<cpu::BlockQ8_0>& q8) {
    q8.resize(size_t(rows * cols / 32));
    std::vector<float> row(static_cast<size_t>(cols));
    for (int64_t r = 0; r < rows; ++r) {
      for (auto& v : row) v = std::normal_distribution<float>(0.0f, 1.0f)(rng);
      cpu::quantize_row_q8_0(row.data(), cols, q8.data() + r * cols / 32);
    }
    WeightMatrix il = {DType::Q8_0, q8.data(), rows, cols};
    return cpu::can_interleave_q8_0(il) ? cpu::interleave_q8_0_in_place(il) : il;
  };
  std::vector<cpu::BlockQ8_0> q8a, q8b;
  const WeightMatrix il = q8_matrix(64, 1024, q8a), il896 = q8_matrix(72, 896, q8b);
  std::vector<float> x(1024);
  for (auto& v : x) v = std::normal_distribution<float>(0.0f, 1.0f)(rng);
  auto be = make_cpu_backend(2);
  for (const WeightMatrix* m : {static_cast<const WeightMatrix*>(&w.m), &il, &il896}) {
    std::vector<float> want(size_t(m->rows)), got(want.size());
    cpu::set_weight_prefetch({0, 0, 2});
    be->matmul(x.data(), 1, *m, want.data());
    for (int l2 : {4096, 8192, 1 << 20})
      for (int l1 : {0, 4096, 1 << 20})
        for (int lines : {1, 2}) {
          cpu::set_weight_prefetch({l2, l1, lines});
          std::fill(got.begin(), got.end(), 0.0f);
          be->matmul(x.data(), 1, *m, got.data());
          EXPECT_EQ(got, want) << dtype_name(m->dtype) << ", prefetch " << l2 << " / " << l1 << " every " << lines;
        }
  }
  cpu::set_weight_prefetch(keep);
  // The environment, where it sets one, else this CPU's default.
  const cpu::WeightPrefetch def = cpu::default_weight_prefetch();
  if (!std::getenv("S1_WEIGHT_PREFETCH")) {
    EXPECT_EQ(keep.l2_bytes, def.l2_bytes);
    EXPECT_EQ(keep.l1_bytes, def.l1_bytes);
    EXPECT_EQ(keep.lines, def.lines);
  }
  EXPECT_TRUE(def.lines == 1 || def.lines == 2);
  EXPECT_GT(def.l2_bytes, def.l1_bytes);
}

// A matrix with no rows is nothing to do, on every path (OpenMP must not be asked for
// zero threads).
TEST(CpuBackend, MatmulOfNoRowsDoesNothing) {
  std::vector<float> x(3 * 64, 1.0f), y(4, 7.0f);
  std::vector<uint16_t> w(64, 0x3f80);
  auto be = make_cpu_backend(2);
  for (int n : {1, 3}) {
    be->matmul(x.data(), n, WeightMatrix{DType::BF16, w.data(), 0, 64}, y.data());
    EXPECT_EQ(y, std::vector<float>(4, 7.0f));
  }
}

TEST(CpuBackend, RmsnormRopeAttentionBasics) {
  auto be = make_cpu_backend(2);
  std::vector<float> x = {1, 2, 3, 4}, w = {1, 1, 1, 1}, y(4);
  be->rmsnorm(x.data(), w.data(), 1, 4, 0.0f, y.data());
  const float r = std::sqrt((1 + 4 + 9 + 16) / 4.0f);
  for (int i = 0; i < 4; ++i) EXPECT_NEAR(y[i], x[i] / r, 1e-6);
  // rope at position 0 is the identity
  std::vector<double> inv = {1.0, 0.01};
  std::vector<float> q = {1, 2, 3, 4};
  be->rope(q.data(), 1, 1, 4, 4, 0, inv.data());
  EXPECT_EQ(q, (std::vector<float>{1, 2, 3, 4}));
  // attention over one position returns that position's value
  std::vector<float> k = {1, 0, 0, 0}, v = {5, 6, 7, 8}, out(4);
  be->attention(q.data(), 1, k.data(), v.data(), 0, AttentionShape{1, 1, 4, 4, 4, 4}, out.data());
  EXPECT_EQ(out, v);
}

}  // namespace
}  // namespace s1

namespace s1 {
namespace {

TEST(Q8_0, QuantizeMatchesReferenceFormulaAndKernelsAgree) {
  std::mt19937 rng(99);
  for (int64_t cols : {32, 64, 96, 4864}) {
    const int64_t rows = 37;
    Weights w = random_weights(DType::F32, rows, cols, rng);
    std::vector<cpu::BlockQ8_0> q(rows * cols / 32);
    cpu::quantize_q8_0(w.m, q.data(), 2);
    // reference formula on one block: d = amax/127, q = round(x/d)
    float amax = 0;
    for (int i = 0; i < 32; ++i) amax = std::max(amax, std::fabs(w.f32[i]));
    EXPECT_EQ(q[0].d, f32_to_f16(amax / 127.0f));
    for (int i = 0; i < 32; ++i) EXPECT_EQ(q[0].q[i], int8_t(std::lround(w.f32[i] / (amax / 127.0f))));
    WeightMatrix qm{DType::Q8_0, q.data(), rows, cols};
    // dequantised values are within half a step of the originals
    for (int64_t r = 0; r < rows; ++r)
      for (int64_t c = 0; c < cols; ++c) {
        const auto& blk = q[(r * cols + c) / 32];
        ASSERT_NEAR(cpu::weight_at(qm, r, c), w.f32[r * cols + c], 0.57f * f16_to_f32(blk.d) + 1e-6f);
      }
    for (int n : {1, 3, 4, 7}) {
      std::vector<float> x(n * cols), want(n * rows), got(n * rows);
      std::normal_distribution<float> nd;
      for (auto& v : x) v = nd(rng);
      cpu::matmul_rows_scalar(x.data(), n, cols, qm, 0, rows, want.data(), rows);
      for (auto isa : {cpu::Isa::Avx2, cpu::Isa::Avx512}) {
        if (!cpu::isa_supported(isa)) continue;
        cpu::matmul_rows_for(isa)(x.data(), n, cols, qm, 0, rows, got.data(), rows);
        for (size_t i = 0; i < want.size(); ++i)
          ASSERT_NEAR(got[i], want[i], 1e-4f * (1 + std::sqrt(float(cols)))) << cpu::isa_name(isa) << " cols " << cols;
      }
    }
  }
}

}  // namespace
}  // namespace s1

namespace s1 {
namespace {

TEST(Attention, Avx512MatchesScalar) {
  if (!cpu::isa_supported(cpu::Isa::Avx512)) GTEST_SKIP() << "no AVX-512 on this CPU";
  std::mt19937 rng(5);
  std::normal_distribution<float> nd;
  for (int head_dim : {16, 48, 64, 96, 128}) {  // 48, 96: 3 and 6 vectors a head
    for (int group : {1, 2, 5, 7, 12}) {  // 12: two passes of the 8-head key-block loop
      for (int64_t len : {1, 15, 16, 17, 100, 531, 1100}) {  // 531, 1100: several 256-position chunks
        const int64_t kv_stride = 3 * head_dim;  // this kv head sits inside a wider cache row
        std::vector<float> q(group * head_dim), k(len * kv_stride), v(len * kv_stride);
        for (auto* vec : {&q, &k, &v})
          for (auto& x : *vec) x = 2.0f * nd(rng);
        std::vector<float> want(group * head_dim), got(group * head_dim), s1(group * len), s2(group * len);
        const float scale = 1.0f / std::sqrt(float(head_dim));
        cpu::attention_group_scalar(q.data(), group, k.data(), v.data(), kv_stride, false, len, head_dim, scale, s1.data(),
                                    want.data());
        cpu::attention_group_avx512(q.data(), head_dim, group, k.data(), v.data(), kv_stride, false, len, head_dim, scale,
                                    s2.data(), got.data());
        for (size_t i = 0; i < want.size(); ++i)
          ASSERT_NEAR(got[i], want[i], 2e-5f * (1 + std::fabs(want[i]))) << "head_dim " << head_dim << " group " << group << " len " << len;
        // the same keys in the key-block layout (whole blocks of 16 positions; the unused
        // tail of the last one holds NaN, which must not reach the output)
        const int64_t blocks = (len + 15) / 16;
        std::vector<float> kb(size_t(blocks * 16 * head_dim), NAN);
        for (int64_t j = 0; j < len; ++j)
          for (int d = 0; d < head_dim; ++d) kb[size_t(key_block_index(j, head_dim) + d * 16)] = k[size_t(j * kv_stride + d)];
        std::vector<float> ref(want.size()), blk(want.size());
        cpu::attention_group_scalar(q.data(), group, kb.data(), v.data(), kv_stride, true, len, head_dim, scale, s1.data(),
                                    ref.data());
        cpu::attention_group_avx512(q.data(), head_dim, group, kb.data(), v.data(), kv_stride, true, len, head_dim, scale,
                                    s2.data(), blk.data());
        for (size_t i = 0; i < want.size(); ++i) {
          ASSERT_NEAR(ref[i], want[i], 2e-5f * (1 + std::fabs(want[i]))) << "scalar key blocks, len " << len;
          ASSERT_NEAR(blk[i], want[i], 2e-5f * (1 + std::fabs(want[i])))
              << "key blocks: head_dim " << head_dim << " group " << group << " len " << len;
        }
      }
    }
  }
}

// Keys and values in the bf16 cache layouts (AttentionShape::bf16_kv), written by the
// backend's store_bf16 as the model writes them; slots that hold no position are NaN.
struct Bf16Cache {
  std::vector<uint16_t> k, v;
  Bf16Cache(Backend& be, const std::vector<float>& kf, const std::vector<float>& vf, int64_t len, int head_dim) {
    const int64_t blocks = (len + 15) / 16;
    k.assign(size_t(blocks * 16 * head_dim), 0xFFFF);
    v.assign(size_t(blocks * 16 * head_dim), 0xFFFF);
    for (int64_t j = 0; j < len; ++j) {
      be.store_bf16(k.data() + key_index_bf16(j, 0, head_dim), 32, 2, kf.data() + j * head_dim, size_t(head_dim));
      be.store_bf16(v.data() + value_index_bf16(j, 0, head_dim), 2, 1, vf.data() + j * head_dim, size_t(head_dim));
    }
  }
};

TEST(Attention, Bf16CacheLayoutsHoldEveryElement) {
  auto be = make_cpu_backend(1);
  const int head_dim = 48;
  const int64_t len = 37;
  std::vector<float> kf(len * head_dim), vf(len * head_dim);
  for (size_t i = 0; i < kf.size(); ++i) kf[i] = float(i) * 0.5f, vf[i] = -float(i);
  Bf16Cache c(*be, kf, vf, len, head_dim);
  for (int64_t j = 0; j < len; ++j)
    for (int d = 0; d < head_dim; ++d) {
      ASSERT_EQ(c.k[size_t(key_index_bf16(j, d, head_dim))], f32_to_bf16(kf[size_t(j * head_dim + d)])) << j << " " << d;
      ASSERT_EQ(c.v[size_t(value_index_bf16(j, d, head_dim))], f32_to_bf16(vf[size_t(j * head_dim + d)])) << j << " " << d;
    }
  // 16 positions x 2 dimensions of keys, 16 dimensions x 2 positions of values per 64 bytes
  EXPECT_EQ(key_index_bf16(1, 0, 64) - key_index_bf16(0, 0, 64), 2);
  EXPECT_EQ(key_index_bf16(0, 2, 64) - key_index_bf16(0, 0, 64), 32);
  EXPECT_EQ(value_index_bf16(1, 0, 64) - value_index_bf16(0, 0, 64), 1);
  EXPECT_EQ(value_index_bf16(0, 16, 64) - value_index_bf16(0, 0, 64), 32);
}

// Both forms of the AVX-512 kernel (vdpbf16ps, and FMAs on the widened bf16) against the
// scalar reference, and the reference against f32 attention.
TEST(Attention, Bf16CacheAvx512MatchesScalarAndF32) {
  if (!cpu::bf16_attention_path()) GTEST_SKIP() << "no AVX512-BF16 on this CPU";
  auto be = make_cpu_backend(1);
  std::mt19937 rng(9);
  std::normal_distribution<float> nd;
  double worst_kernel = 0, worst_fma = 0, worst_f32 = 0;
  for (int head_dim : {16, 48, 64, 128, 256}) {
    for (int group : {1, 3, 7, 9, 16}) {  // 9, 16: two passes of the 8-head score loop, several value passes
      for (int64_t len : {1, 2, 15, 16, 17, 255, 256, 257, 531, 1100}) {  // odd lengths: a value without its pair
        std::vector<float> q(group * head_dim), kf(len * head_dim), vf(len * head_dim);
        for (auto* vec : {&q, &kf, &vf})
          for (auto& x : *vec) x = 2.0f * nd(rng);
        Bf16Cache c(*be, kf, vf, len, head_dim);
        const float scale = 1.0f / std::sqrt(float(head_dim));
        std::vector<float> want(group * head_dim), got(group * head_dim, NAN), fma(group * head_dim, NAN), s1(len),
            s2(group * len);
        cpu::attention_group_bf16_scalar(q.data(), group, c.k.data(), c.v.data(), len, head_dim, scale, s1.data(),
                                         want.data());
        cpu::attention_group_bf16_avx512(q.data(), head_dim, group, c.k.data(), c.v.data(), len, head_dim, scale,
                                         s2.data(), got.data());
        cpu::attention_group_bf16_fma_avx512(q.data(), head_dim, group, c.k.data(), c.v.data(), len, head_dim, scale,
                                             s2.data(), fma.data());
        // f32 attention over the same bf16-rounded query, keys and values: the reference
        // differs from it only by rounding the probabilities to bf16 (within the bound below)
        std::vector<float> qr(q.size()), kr(kf.size()), vr(vf.size()), f32(want.size()), s3(len);
        auto round = [](float x) { return bf16_to_f32(f32_to_bf16(x)); };
        for (size_t i = 0; i < q.size(); ++i) qr[i] = round(q[i]);
        for (size_t i = 0; i < kf.size(); ++i) kr[i] = round(kf[i]), vr[i] = round(vf[i]);
        cpu::attention_group_scalar(qr.data(), group, kr.data(), vr.data(), head_dim, false, len, head_dim, scale, s3.data(),
                                    f32.data());
        // The kernel rounds each chunk's probabilities to bf16 against that chunk's running
        // maximum, the reference against the whole row's, so they may differ by two bf16
        // roundings (2^-8 relative) of every probability: out_i may move by up to
        // 2^-8 sum_j p_j |v_j[i]| (p in double here), plus f32 summation-order noise.
        std::vector<double> bound(want.size());
        for (int a = 0; a < group; ++a) {
          std::vector<double> p(static_cast<size_t>(len), 0.0);
          double mx = -INFINITY, sum = 0;
          for (int64_t j = 0; j < len; ++j) {
            double d = 0;
            for (int i = 0; i < head_dim; ++i) d += double(qr[size_t(a * head_dim + i)]) * kr[size_t(j * head_dim + i)];
            p[size_t(j)] = d * scale;
            mx = std::max(mx, p[size_t(j)]);
          }
          for (auto& x : p) sum += (x = std::exp(x - mx));
          for (int i = 0; i < head_dim; ++i) {
            double w = 0;
            for (int64_t j = 0; j < len; ++j) w += p[size_t(j)] * std::fabs(vr[size_t(j * head_dim + i)]);
            bound[size_t(a * head_dim + i)] = std::ldexp(w / sum, -8) + 2e-5 * (1 + std::fabs(want[size_t(a * head_dim + i)]));
          }
        }
        for (size_t i = 0; i < want.size(); ++i) {
          ASSERT_NEAR(got[i], want[i], bound[i])
              << "head_dim " << head_dim << " group " << group << " len " << len << " at " << i;
          ASSERT_NEAR(fma[i], want[i], bound[i])
              << "FMA form: head_dim " << head_dim << " group " << group << " len " << len << " at " << i;
          ASSERT_NEAR(want[i], f32[i], bound[i])
              << "reference vs f32: head_dim " << head_dim << " group " << group << " len " << len << " at " << i;
          worst_kernel = std::max(worst_kernel, std::fabs(got[i] - want[i]) / bound[i]);
          worst_fma = std::max(worst_fma, std::fabs(fma[i] - want[i]) / bound[i]);
          worst_f32 = std::max(worst_f32, std::fabs(want[i] - f32[i]) / bound[i]);
        }
      }
    }
  }
  std::printf("bf16 cache: vdpbf16ps kernel vs reference at most %.2f of the bound, FMA form %.2f, reference vs f32 %.2f\n",
              worst_kernel, worst_fma, worst_f32);
}

// Through the backend: several query rows at once (prefill), each over its own causal
// prefix of a two-kv-head bf16 cache, agree with the kernel called row by row.
TEST(Attention, Bf16CacheBackendMatchesRowByRow) {
  auto be = make_cpu_backend(2);
  std::mt19937 rng(11);
  std::normal_distribution<float> nd;
  const int heads = 6, kv_heads = 2, head_dim = 64, group = heads / kv_heads;
  const int64_t cap = 64, pos0 = 40;
  const int n = 5;
  std::vector<float> q(n * heads * head_dim);
  for (auto& x : q) x = nd(rng);
  std::vector<uint16_t> k(size_t(kv_heads * cap * head_dim)), v(k.size());
  for (auto& x : k) x = f32_to_bf16(nd(rng));
  for (auto& x : v) x = f32_to_bf16(nd(rng));
  const AttentionShape shape{heads, kv_heads, head_dim, heads * head_dim, head_dim, cap * head_dim, false, true};
  std::vector<float> out(q.size());
  be->attention(q.data(), n, k.data(), v.data(), pos0, shape, out.data());
  std::vector<float> want(group * head_dim), score(cap);
  for (int t = 0; t < n; ++t)
    for (int h = 0; h < kv_heads; ++h) {
      cpu::attention_group_bf16_scalar(q.data() + (t * heads + h * group) * head_dim, group, k.data() + h * cap * head_dim,
                                       v.data() + h * cap * head_dim, pos0 + t + 1, head_dim, 0.125f, score.data(),
                                       want.data());
      for (int i = 0; i < group * head_dim; ++i)
        ASSERT_NEAR(out[size_t((t * heads + h * group) * head_dim + i)], want[size_t(i)], 2e-3f * (1 + std::fabs(want[size_t(i)])))
            << "token " << t << " kv head " << h;
    }
}

}  // namespace
}  // namespace s1

namespace s1 {
namespace {

TEST(Elementwise, RmsnormAvx512MatchesScalar) {
  if (!cpu::isa_supported(cpu::Isa::Avx512)) GTEST_SKIP() << "no AVX-512 on this CPU";
  std::mt19937 rng(12);
  std::normal_distribution<float> nd(0.0f, 3.0f);
  for (int dim : {1, 15, 16, 31, 32, 33, 64, 896, 899}) {
    std::vector<float> x(static_cast<size_t>(dim)), w(static_cast<size_t>(dim)), got(static_cast<size_t>(dim));
    for (int i = 0; i < dim; ++i) x[size_t(i)] = nd(rng), w[size_t(i)] = nd(rng);
    cpu::rmsnorm_row_avx512(x.data(), w.data(), dim, 1e-6f, got.data());
    double ss = 0;
    for (float v : x) ss += double(v) * v;
    const float inv = static_cast<float>(1.0 / std::sqrt(ss / dim + 1e-6));
    for (int i = 0; i < dim; ++i) {
      const float want = w[size_t(i)] * (x[size_t(i)] * inv);
      ASSERT_NEAR(got[size_t(i)], want, 1e-6f * std::fabs(want)) << "dim " << dim << " at " << i;
    }
    // in place, as q / k norms run
    std::vector<float> y = x;
    cpu::rmsnorm_row_avx512(y.data(), w.data(), dim, 1e-6f, y.data());
    EXPECT_EQ(y, got) << dim;
  }
}

// Rope keeps the cos / sin of the last positions it rotated: calls at other positions, or
// with other frequencies, must not reuse them.
TEST(CpuBackend, RopeAtEveryPositionAndFrequency) {
  auto be = make_cpu_backend(1);
  const std::vector<double> f1 = {1.0, 0.1}, f2 = {0.5, 0.01};
  const std::vector<float> x0 = {1, 2, 3, 4, 5, 6, 7, 8};  // two heads of 4
  for (auto [pos, f] : {std::pair{5, &f1}, std::pair{5, &f1}, std::pair{7, &f1}, std::pair{5, &f2}, std::pair{5, &f1}})
    for (int n : {1, 2}) {
      std::vector<float> x(size_t(n) * 8);
      for (int t = 0; t < n; ++t) std::copy(x0.begin(), x0.end(), x.begin() + t * 8);
      be->rope(x.data(), n, 2, 4, 8, pos, f->data());
      for (int t = 0; t < n; ++t)
        for (int h = 0; h < 2; ++h)
          for (int i = 0; i < 2; ++i) {
            const double a = double(pos + t) * (*f)[size_t(i)];
            const float c = float(std::cos(a)), sn = float(std::sin(a));
            const float u = x0[size_t(h * 4 + i)], v = x0[size_t(h * 4 + i + 2)];
            EXPECT_EQ(x[size_t(t * 8 + h * 4 + i)], u * c - v * sn) << pos << " " << n;
            EXPECT_EQ(x[size_t(t * 8 + h * 4 + i + 2)], v * c + u * sn) << pos << " " << n;
          }
    }
}

TEST(Elementwise, SwigluAvx512MatchesScalar) {
  if (!cpu::isa_supported(cpu::Isa::Avx512)) GTEST_SKIP() << "no AVX-512 on this CPU";
  std::mt19937 rng(8);
  std::normal_distribution<float> nd(0.0f, 6.0f);
  for (size_t n : {1, 15, 16, 17, 4864, 4867}) {
    std::vector<float> g(n), u(n), got(n);
    for (size_t i = 0; i < n; ++i) g[i] = nd(rng), u[i] = nd(rng);
    g[0] = -200.0f;  // exp overflow side: silu -> -0
    if (n > 1) g[1] = 200.0f;
    cpu::swiglu_avx512(g.data(), u.data(), n, got.data());
    for (size_t i = 0; i < n; ++i) {
      const float want = g[i] / (1.0f + std::exp(-g[i])) * u[i];
      ASSERT_NEAR(got[i], want, 1e-5f * (1 + std::fabs(want))) << "g=" << g[i];
    }
  }
}

}  // namespace
}  // namespace s1

namespace s1 {
namespace {

// The integer path equals the scalar dot of the dequantised weights and the
// dequantised (Q8_0-rounded) activations, for any token count.
TEST(Q8_0, IntegerPathMatchesDequantisedReference) {
  if (!cpu::q8_int_path()) GTEST_SKIP() << "no AVX-512 on this CPU";
  std::mt19937 rng(21);
  std::normal_distribution<float> nd;
  for (int64_t cols : {32, 96, 896}) {
    const int64_t rows = 45;
    Weights w = random_weights(DType::F32, rows, cols, rng);
    std::vector<cpu::BlockQ8_0> q(rows * cols / 32);
    cpu::quantize_q8_0(w.m, q.data(), 1);
    WeightMatrix qm{DType::Q8_0, q.data(), rows, cols};
    for (int n : {1, 4, 5, 9}) {
      std::vector<float> x(n * cols);
      for (auto& v : x) v = nd(rng);
      std::vector<cpu::BlockI16> xq(n * cols / 32);
      for (int t = 0; t < n; ++t) cpu::quantize_row_i16(x.data() + t * cols, cols, xq.data() + t * cols / 32);
      std::vector<float> got(n * rows);
      cpu::matmul_rows_q8_i16(xq.data(), cols / 32, n, qm, 0, rows, got.data(), rows);
      auto xval = [&](int t, int64_t c) { const auto& b = xq[(t * cols + c) / 32]; return double(b.d) * b.q[c % 32]; };
      for (int t = 0; t < n; ++t)
        for (int64_t r = 0; r < rows; ++r) {
          double want = 0;
          for (int64_t c = 0; c < cols; ++c) {
            want += double(cpu::weight_at(qm, r, c)) * xval(t, c);
            ASSERT_NEAR(xval(t, c), x[t * cols + c], 1e-4 * std::fabs(x[t * cols + c]) + 1e-4);
          }
          ASSERT_NEAR(got[t * rows + r], want, 1e-4 * (1 + std::fabs(want))) << "n " << n << " cols " << cols;
        }
      // one token at a time gives the same numbers as the whole batch
      for (int t = 0; t < n; ++t) {
        std::vector<float> one(rows);
        cpu::matmul_rows_q8_i16(xq.data() + t * cols / 32, cols / 32, 1, qm, 0, rows, one.data(), rows);
        for (int64_t r = 0; r < rows; ++r) ASSERT_EQ(one[r], got[t * rows + r]);
      }
    }
  }
}

}  // namespace
}  // namespace s1
