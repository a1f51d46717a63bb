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

  cand_.clear();
  for (int64_t i = 0; i < n; ++i)
    if (logits[i] != ninf && !std::isnan(logits[i])) cand_.emplace_back(logits[i] / p_.temperature, int32_t(i));
  auto by_logit = [](const auto& a, const auto& b) { return a.first > b.first || (a.first == b.first && a.second < b.second); };
  size_t keep = cand_.size();
  if (p_.top_k > 0 && size_t(p_.top_k) < keep) {
    std::partial_sort(cand_.begin(), cand_.begin() + p_.top_k, cand_.end(), by_logit);
    keep = size_t(p_.top_k);
  } else {
    std::sort(cand_.begin(), cand_.end(), by_logit);
  }
  cand_.resize(keep);
  // softmax over the survivors (sorted, largest first)
  const float mx = cand_[0].first;
  double sum = 0;
  for (auto& c : cand_) sum += (c.first = std::exp(c.first - mx));
  for (auto& c : cand_) c.first = float(c.first / sum);
  if (p_.top_p < 1.0f) {  // smallest prefix whose mass reaches top_p (at least one token)
    double cum = 0;
    size_t k = 0;
    while (k < cand_.size()) {
      cum += cand_[k].first;
      ++k;
      if (cum >= p_.top_p) break;
    }
    cand_.resize(k);
  }
  if (p_.min_p > 0.0f) {  // drop tokens below min_p x the top probability
    const float floor = p_.min_p * cand_[0].first;
    size_t k = 1;
    while (k < cand_.size() && cand_[k].first >= floor) ++k;
    cand_.resize(k);
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
