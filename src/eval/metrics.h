// The numbers of an evaluation, as pure functions of per-question outcomes so that they
// can be checked by hand: the paper's test-time-scaling metrics (s1 §3.2: Control, Scaling,
// Performance), accuracy with a seeded 95% bootstrap interval, maj@k and cov@k.
#pragma once
#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace s1::eval {

// One run of a method: its mean thinking tokens (a), accuracy in [0, 1] (f(a)) and the
// bounds that were requested for it.
struct RunPointValue {
  double mean_thinking = 0;
  double accuracy = 0;
  double a_min = 0;
  std::optional<double> a_max;  // nullopt: no bound requested
};

// Control = (1/|A|) sum 1(a_min <= a <= a_max) over the runs with a requested bound;
// nullopt when none has one.
std::optional<double> control_metric(const std::vector<RunPointValue>& runs);
// Scaling = average over pairs (a, b) with b > a of (f(b) - f(a)) / (b - a), with f in
// percentage points and a, b in thousands of thinking tokens: accuracy points gained per
// 1,000 more thinking tokens. Pairs with equal thinking (b == a) have no slope and are
// left out of the average (the paper's C(|A|, 2) counts every pair; with distinct means
// the two agree). nullopt with fewer than two runs of different lengths.
std::optional<double> scaling_metric(const std::vector<RunPointValue>& runs);
// Performance = max accuracy over the runs (nullopt when there are none).
std::optional<double> performance_metric(const std::vector<RunPointValue>& runs);

// Mean of per-question values and its 95% percentile-bootstrap interval: `resamples`
// resamplings of the questions with replacement, driven by a splitmix64 generator seeded
// with `seed` (same inputs, same interval), quantiles interpolated linearly.
struct Interval {
  double mean = 0, low = 0, high = 0;
};
Interval bootstrap_mean_ci(const std::vector<double>& values, int resamples, uint64_t seed);

// One sample's outcome for voting: its canonical answer (nullopt: none extracted or the
// sample failed) and whether it was graded correct.
struct Outcome {
  std::optional<std::string> canonical;
  bool correct = false;
};
// maj@k for one question: the most common canonical answer among the first k samples (ties
// to the earliest seen, as Python's Counter.most_common in s1) is correct; samples with
// no answer do not vote; no voter: wrong. The winner's correctness is that of the first
// sample that gave it.
bool majority_correct(const std::vector<Outcome>& samples, int k);
// cov@k: any of the first k samples correct.
bool coverage_correct(const std::vector<Outcome>& samples, int k);
// The k reported for K samples: 2, 4, 8, ... <= K (as s1's agg64 tasks), and K itself.
std::vector<int> vote_ks(int samples);

// Linear-interpolation quantile of sorted values (numpy's default).
double quantile_sorted(const std::vector<double>& sorted, double q);

}  // namespace s1::eval
