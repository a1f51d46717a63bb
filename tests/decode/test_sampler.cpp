#include <gtest/gtest.h>

#include <cmath>
#include <map>
#include <set>

#include "core/error.h"
#include "decode/sampler.h"

namespace s1 {
namespace {

std::vector<float> logits_of(std::vector<double> probs) {
  std::vector<float> l;
  for (double p : probs) l.push_back(p > 0 ? float(std::log(p)) : -INFINITY);
  return l;
}

std::map<int32_t, int> histogram(const SamplingParams& p, const std::vector<float>& logits, int draws, int64_t valid = 0) {
  Sampler s(p, valid ? valid : int64_t(logits.size()));
  std::map<int32_t, int> h;
  for (int i = 0; i < draws; ++i) {
    auto l = logits;
    h[s.sample(l)]++;
  }
  return h;
}

TEST(Sampler, GreedyTakesFirstMaximum) {
  Sampler s({0.0f, 0, 1.0f, 0.0f, 1}, 5);
  std::vector<float> l = {0.1f, 3.0f, 3.0f, -1.0f, 2.0f};
  EXPECT_EQ(s.sample(l), 1);
}

TEST(Sampler, PaddedIdsAreNeverSampled) {
  // rows past the tokenizer's vocabulary carry the largest logits; they must never win
  std::vector<float> l = {0.0f, 0.5f, 0.2f, 100.0f, 100.0f};
  Sampler g({0.0f, 0, 1.0f, 0.0f, 1}, 3);
  auto lg = l;
  EXPECT_EQ(g.sample(lg), 1);
  auto h = histogram({1.0f, 0, 1.0f, 0.0f, 7}, l, 2000, 3);
  for (auto& [id, n] : h) EXPECT_LT(id, 3);
}

TEST(Sampler, SeededIsReproducible) {
  std::vector<float> l = logits_of({0.2, 0.3, 0.1, 0.4});
  Sampler a({1.0f, 0, 1.0f, 0.0f, 42}, 4), b({1.0f, 0, 1.0f, 0.0f, 42}, 4), c({1.0f, 0, 1.0f, 0.0f, 43}, 4);
  std::vector<int32_t> xa, xb, xc;
  for (int i = 0; i < 64; ++i) {
    auto l1 = l, l2 = l, l3 = l;
    xa.push_back(a.sample(l1));
    xb.push_back(b.sample(l2));
    xc.push_back(c.sample(l3));
  }
  EXPECT_EQ(xa, xb);
  EXPECT_NE(xa, xc);
}

TEST(Sampler, TemperatureOneMatchesDistribution) {
  auto h = histogram({1.0f, 0, 1.0f, 0.0f, 3}, logits_of({0.1, 0.2, 0.3, 0.4}), 40000);
  EXPECT_NEAR(h[0] / 40000.0, 0.1, 0.01);
  EXPECT_NEAR(h[3] / 40000.0, 0.4, 0.01);
}

TEST(Sampler, TopKTopPMinP) {
  auto l = logits_of({0.05, 0.15, 0.3, 0.5});
  auto k = histogram({1.0f, 2, 1.0f, 0.0f, 1}, l, 5000);
  EXPECT_EQ((std::set<int32_t>{2, 3}), [&] { std::set<int32_t> s; for (auto& [i, n] : k) s.insert(i); return s; }());
  EXPECT_NEAR(k[3] / 5000.0, 0.5 / 0.8, 0.03);
  // top-p 0.75: {0.5, 0.3} reach 0.8 >= 0.75
  auto p = histogram({1.0f, 0, 0.75f, 0.0f, 2}, l, 5000);
  EXPECT_EQ(p.count(0) + p.count(1), 0u);
  // min-p 0.4: keep p >= 0.2 -> {0.5, 0.3}
  auto m = histogram({1.0f, 0, 1.0f, 0.4f, 3}, l, 5000);
  EXPECT_EQ(m.count(0) + m.count(1), 0u);
  EXPECT_GT(m[2], 0);
}

TEST(Sampler, LowTemperatureSharpens) {
  auto h = histogram({0.05f, 0, 1.0f, 0.0f, 9}, logits_of({0.3, 0.7}), 2000);
  EXPECT_GT(h[1], 1990);
}

TEST(Sampler, RejectsBadParamsAndAllMasked) {
  EXPECT_THROW(Sampler({-1.0f, 0, 1.0f, 0.0f, 0}, 4), Error);
  EXPECT_THROW(Sampler({1.0f, 0, 0.0f, 0.0f, 0}, 4), Error);
  EXPECT_THROW(Sampler({1.0f, 0, 1.0f, 2.0f, 0}, 4), Error);
  Sampler s({1.0f, 0, 1.0f, 0.0f, 0}, 2);
  std::vector<float> l = {-INFINITY, -INFINITY, 1.0f};
  EXPECT_THROW(s.sample(l), Error);
}

}  // namespace
}  // namespace s1
