#include "decode/sampler.h"

#include <algorithm>
#include <cmath>
#include <limits>

#include "core/error.h"

namespace s1 {

namespace {
uint64_t splitmix64(uint64_t& x) {
  uint64_t z = (x += 0x9e3779b97f4a7c15ull);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
  return z ^ (z >> 31);
}
inline uint64_t rotl(uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }
}  // namespace

Rng::Rng(uint64_t seed) {
  for (auto& s : s_) s = splitmix64(seed);
}

uint64_t Rng::next() {
  const uint64_t result = rotl(s_[1] * 5, 7) * 9;
  const uint64_t t = s_[1] << 17;
  s_[2] ^= s_[0];
  s_[3] ^= s_[1];
  s_[1] ^= s_[2];
  s_[0] ^= s_[3];
  s_[2] ^= t;
  s_[3] = rotl(s_[3], 45);
  return result;
}

double Rng::uniform() { return double(next() >> 11) * 0x1.0p-53; }

Sampler::Sampler(const SamplingParams& p, int64_t valid_vocab) : p_(p), valid_vocab_(valid_vocab), rng_(p.seed) {
  if (!(p.temperature >= 0)) fail("temperature must be >= 0, got ", p.temperature);
  if (p.top_k < 0) fail("top-k must be >= 0, got ", p.top_k);
  if (!(p.top_p > 0 && p.top_p <= 1)) fail("top-p must be in (0, 1], got ", p.top_p);
  if (!(p.min_p >= 0 && p.min_p <= 1)) fail("min-p must be in [0, 1], got ", p.min_p);
}

int32_t Sampler::sample(std::span<float> logits) {
  const int64_t n = std::min<int64_t>(valid_vocab_, int64_t(logits.size()));
  const float ninf = -std::numeric_limits<float>::infinity();
  for (size_t i = size_t(n); i < logits.size(); ++i) logits[i] = ninf;

  // Greedy: the first maximum (ties go to the lowest id, as torch.argmax does).
  int32_t best = -1;
  for (int64_t i = 0; i < n; ++i)
    if (!std::isnan(logits[i]) && logits[i] != ninf && (best < 0 || logits[i] > logits[best])) best = int32_t(i);
  if (best < 0) fail("every token is masked: nothing can be sampled");
  if (p_.temperature == 0.0f || p_.top_k == 1) return best;

  // Work on unnormalised probabilities exp((l - max) / T): the top token has 1.
  // Every filter keeps a prefix of the tokens sorted by probability, so they can be
  // applied in any order (the result is the shortest prefix), and only top-p needs
  // sorting -- done incrementally, since its prefix is usually short.
  const float mx = logits[best];
  const float inv_t = 1.0f / p_.temperature;
  const float floor = p_.min_p;  // min-p: keep p >= min_p * p_top
  cand_.clear();
  for (int64_t i = 0; i < n; ++i) {
    const float l = logits[i];
    if (l == ninf || std::isnan(l)) continue;
    const float pr = std::exp((l - mx) * inv_t);
    if (pr > 0.0f && pr >= floor) cand_.emplace_back(pr, int32_t(i));
  }
  auto by_prob = [](const auto& a, const auto& b) { return a.first > b.first || (a.first == b.first && a.second < b.second); };
  if (p_.top_k > 0 && size_t(p_.top_k) < cand_.size()) {
    std::nth_element(cand_.begin(), cand_.begin() + p_.top_k, cand_.end(), by_prob);
    cand_.resize(size_t(p_.top_k));
  }
  if (p_.top_p < 1.0f) {
    double mass = 0;
    for (const auto& c : cand_) mass += c.first;
    const double target = p_.top_p * mass;
    size_t sorted = 0, k = 0;
    double cum = 0;
    while (true) {
      const size_t want = std::min(cand_.size(), std::max<size_t>(64, sorted * 4));
      std::partial_sort(cand_.begin() + sorted, cand_.begin() + want, cand_.end(), by_prob);
      for (k = sorted; k < want; ++k) {
        cum += cand_[k].first;
        if (cum >= target) break;
      }
      if (k < want || want == cand_.size()) break;
      sorted = want;
    }
    cand_.resize(std::min(cand_.size(), k + 1));
  }
  double total = 0;
  for (auto& c : cand_) total += c.first;
  double u = rng_.uniform() * total;
  for (auto& c : cand_) {
    u -= c.first;
    if (u < 0) return c.second;
  }
  return cand_.back().second;
}

}  // namespace s1
