// The paper's metrics and the voting / bootstrap numbers, on values worked out by hand.
#include <gtest/gtest.h>

#include "eval/metrics.h"

namespace s1::eval {
namespace {

RunPointValue rv(double thinking, double accuracy, double a_min = 0, std::optional<double> a_max = std::nullopt) {
  RunPointValue v;
  v.mean_thinking = thinking;
  v.accuracy = accuracy;
  v.a_min = a_min;
  v.a_max = a_max;
  return v;
}

TEST(EvalMetrics, ControlCountsRunsInsideTheirRequestedBounds) {
  // a=100 within [0,128]; a=300 above 256; a=500 has no bound and does not count
  std::vector<RunPointValue> runs = {rv(100, 0.1, 0, 128.0), rv(300, 0.2, 0, 256.0), rv(500, 0.3, 0, std::nullopt)};
  ASSERT_TRUE(control_metric(runs));
  EXPECT_DOUBLE_EQ(*control_metric(runs), 0.5);
  // the lower bound matters too
  EXPECT_DOUBLE_EQ(*control_metric({rv(100, 0.1, 200, 400.0)}), 0.0);
  EXPECT_DOUBLE_EQ(*control_metric({rv(400, 0.1, 200, 400.0)}), 1.0);  // closed interval
  EXPECT_FALSE(control_metric({rv(100, 0.1, 0, std::nullopt)}));
}

TEST(EvalMetrics, ScalingIsTheAveragePairwiseSlopeInPointsPer1kTokens) {
  // (1k, 20%), (2k, 40%), (4k, 50%): slopes 20, 10, 5 points per 1k tokens -> 35/3
  std::vector<RunPointValue> runs = {rv(2000, 0.4), rv(1000, 0.2), rv(4000, 0.5)};
  ASSERT_TRUE(scaling_metric(runs));
  EXPECT_NEAR(*scaling_metric(runs), 35.0 / 3.0, 1e-9);
  // a method that gets worse with more thinking has a negative slope
  EXPECT_NEAR(*scaling_metric({rv(500, 0.5), rv(1500, 0.3)}), -20.0, 1e-9);
  // one run, or runs with equal thinking: no slope
  EXPECT_FALSE(scaling_metric({rv(1000, 0.2)}));
  EXPECT_FALSE(scaling_metric({rv(1000, 0.2), rv(1000, 0.3)}));
  // a tie is left out of the average: (1k,.2) (1k,.3) (2k,.5): slopes 30 and 20
  EXPECT_NEAR(*scaling_metric({rv(1000, 0.2), rv(1000, 0.3), rv(2000, 0.5)}), 25.0, 1e-9);
}

TEST(EvalMetrics, PerformanceIsTheBestAccuracy) {
  EXPECT_DOUBLE_EQ(*performance_metric({rv(1, 0.2), rv(2, 0.567), rv(3, 0.5)}), 0.567);
  EXPECT_FALSE(performance_metric({}));
}

TEST(EvalMetrics, QuantileInterpolatesLinearly) {
  EXPECT_DOUBLE_EQ(quantile_sorted({1, 2, 3, 4}, 0.5), 2.5);
  EXPECT_DOUBLE_EQ(quantile_sorted({1, 2, 3, 4}, 0.0), 1);
  EXPECT_DOUBLE_EQ(quantile_sorted({1, 2, 3, 4}, 1.0), 4);
  EXPECT_DOUBLE_EQ(quantile_sorted({0, 10}, 0.025), 0.25);
}

TEST(EvalMetrics, BootstrapIsSeededAndSensible) {
  std::vector<double> v(30, 0.0);
  for (int i = 0; i < 15; ++i) v[size_t(i)] = 1;
  Interval a = bootstrap_mean_ci(v, 2000, 7), b = bootstrap_mean_ci(v, 2000, 7), c = bootstrap_mean_ci(v, 2000, 8);
  EXPECT_DOUBLE_EQ(a.mean, 0.5);
  EXPECT_EQ(a.low, b.low);  // same seed, same interval, bit for bit
  EXPECT_EQ(a.high, b.high);
  EXPECT_TRUE(a.low != c.low || a.high != c.high);  // another seed resamples differently
  // binomial: 0.5 +/- 1.96 * sqrt(0.25 / 30) = +/- 0.179
  EXPECT_GT(a.low, 0.28);
  EXPECT_LT(a.low, 0.36);
  EXPECT_GT(a.high, 0.64);
  EXPECT_LT(a.high, 0.72);
  // no spread, no interval
  Interval d = bootstrap_mean_ci(std::vector<double>(10, 0.3), 500, 1);
  EXPECT_DOUBLE_EQ(d.low, 0.3);
  EXPECT_DOUBLE_EQ(d.high, 0.3);
  EXPECT_DOUBLE_EQ(bootstrap_mean_ci({}, 100, 1).mean, 0);
}

TEST(EvalMetrics, MajorityVoteOnCanonicalAnswers) {
  // A wrong, B right, B right, A wrong
  std::vector<Outcome> s = {{"A", false}, {"B", true}, {"B", true}, {"A", false}};
  EXPECT_FALSE(majority_correct(s, 1));
  EXPECT_FALSE(majority_correct(s, 2));  // 1-1 tie: the earliest (A)
  EXPECT_TRUE(majority_correct(s, 3));   // B 2-1
  EXPECT_FALSE(majority_correct(s, 4));  // 2-2 tie: A came first
  EXPECT_FALSE(coverage_correct(s, 1));
  EXPECT_TRUE(coverage_correct(s, 2));
  // samples without an answer do not vote
  std::vector<Outcome> t = {{std::nullopt, false}, {std::nullopt, false}, {"3/4", true}};
  EXPECT_TRUE(majority_correct(t, 3));
  EXPECT_FALSE(majority_correct(t, 2));  // nobody voted
  EXPECT_TRUE(coverage_correct(t, 3));
}

TEST(EvalMetrics, VoteKsFollowS1) {
  EXPECT_EQ(vote_ks(1), std::vector<int>{});
  EXPECT_EQ(vote_ks(2), (std::vector<int>{2}));
  EXPECT_EQ(vote_ks(6), (std::vector<int>{2, 4, 6}));
  EXPECT_EQ(vote_ks(64), (std::vector<int>{2, 4, 8, 16, 32, 64}));
}

}  // namespace
}  // namespace s1::eval
