#include "eval/metrics.h"

#include <algorithm>
#include <cmath>
#include <map>

namespace s1::eval {

std::optional<double> control_metric(const std::vector<RunPointValue>& runs) {
  int n = 0, in = 0;
  for (const auto& r : runs) {
    if (!r.a_max) continue;
    ++n;
    if (r.mean_thinking >= r.a_min && r.mean_thinking <= *r.a_max) ++in;
  }
  if (n == 0) return std::nullopt;
  return double(in) / n;
}

std::optional<double> scaling_metric(const std::vector<RunPointValue>& runs) {
  double sum = 0;
  int pairs = 0;
  for (size_t i = 0; i < runs.size(); ++i)
    for (size_t j = 0; j < runs.size(); ++j) {
      const auto &a = runs[i], &b = runs[j];
      if (!(b.mean_thinking > a.mean_thinking)) continue;
      sum += (b.accuracy - a.accuracy) * 100.0 / ((b.mean_thinking - a.mean_thinking) / 1000.0);
      ++pairs;
    }
  if (pairs == 0) return std::nullopt;
  return sum / pairs;
}

std::optional<double> performance_metric(const std::vector<RunPointValue>& runs) {
  if (runs.empty()) return std::nullopt;
  double m = runs[0].accuracy;
  for (const auto& r : runs) m = std::max(m, r.accuracy);
  return m;
}

double quantile_sorted(const std::vector<double>& v, double q) {
  if (v.empty()) return 0;
  double pos = q * double(v.size() - 1);
  size_t lo = size_t(std::floor(pos));
  size_t hi = std::min(lo + 1, v.size() - 1);
  double frac = pos - double(lo);
  return v[lo] + (v[hi] - v[lo]) * frac;
}

namespace {
uint64_t splitmix64(uint64_t& x) {
  uint64_t z = (x += 0x9E3779B97F4A7C15ull);
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  return z ^ (z >> 31);
}
// Uniform in [0, n) without modulo bias (Lemire's rejection).
uint64_t below(uint64_t& state, uint64_t n) {
  uint64_t limit = (~uint64_t(0) - n + 1) % n;  // 2^64 mod n
  while (true) {
    uint64_t r = splitmix64(state);
    if (r >= limit) return r % n;
  }
}
}  // namespace

Interval bootstrap_mean_ci(const std::vector<double>& values, int resamples, uint64_t seed) {
  Interval out;
  if (values.empty()) return out;
  double sum = 0;
  for (double v : values) sum += v;
  out.mean = sum / double(values.size());
  if (resamples <= 0) {
    out.low = out.high = out.mean;
    return out;
  }
  uint64_t state = seed;
  std::vector<double> means(static_cast<size_t>(resamples), 0.0);
  for (int b = 0; b < resamples; ++b) {
    double s = 0;
    for (size_t i = 0; i < values.size(); ++i) s += values[size_t(below(state, values.size()))];
    means[size_t(b)] = s / double(values.size());
  }
  std::sort(means.begin(), means.end());
  out.low = quantile_sorted(means, 0.025);
  out.high = quantile_sorted(means, 0.975);
  return out;
}

bool majority_correct(const std::vector<Outcome>& samples, int k) {
  std::map<std::string, std::pair<int, size_t>> counts;  // answer -> (count, first index)
  size_t n = std::min(samples.size(), size_t(std::max(k, 0)));
  for (size_t i = 0; i < n; ++i) {
    if (!samples[i].canonical) continue;
    auto [it, fresh] = counts.try_emplace(*samples[i].canonical, 0, i);
    it->second.first++;
  }
  if (counts.empty()) return false;
  int best = -1;
  size_t best_first = 0;
  for (const auto& [ans, cf] : counts)
    if (cf.first > best || (cf.first == best && cf.second < best_first)) {
      best = cf.first;
      best_first = cf.second;
    }
  return samples[best_first].correct;
}

bool coverage_correct(const std::vector<Outcome>& samples, int k) {
  size_t n = std::min(samples.size(), size_t(std::max(k, 0)));
  for (size_t i = 0; i < n; ++i)
    if (samples[i].correct) return true;
  return false;
}

std::vector<int> vote_ks(int samples) {
  std::vector<int> ks;
  for (int k = 2; k <= samples; k *= 2) ks.push_back(k);
  if (samples > 1 && (ks.empty() || ks.back() != samples)) ks.push_back(samples);
  return ks;
}

}  // namespace s1::eval
