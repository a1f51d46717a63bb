// The sampler chain: mask -> temperature -> top-k -> top-p -> min-p -> draw.
// The order is the one transformers and vLLM use. Temperature 0 is greedy.
// Draws come from our own seeded generator (xoshiro256**), so a seed gives the same
// tokens on every platform and standard library.
#pragma once
#include <cstdint>
#include <span>
#include <vector>

namespace s1 {

struct SamplingParams {
  float temperature = 1.0f;  // 0: greedy
  int top_k = 0;             // 0: off
  float top_p = 1.0f;        // 1: off
  float min_p = 0.0f;        // 0: off
  uint64_t seed = 0;
};

class Rng {
 public:
  explicit Rng(uint64_t seed);
  uint64_t next();
  double uniform();  // [0, 1) with 53 random bits
 private:
  uint64_t s_[4];
};

class Sampler {
 public:
  // valid_vocab: ids >= this are never sampled (embedding rows padded past the
  // tokenizer, e.g. Qwen's 151,936 rows for 151,665 tokens).
  Sampler(const SamplingParams& p, int64_t valid_vocab);
  // Picks a token from logits (modified in place: masked entries become -inf).
  // Throws s1::Error if every token is masked.
  int32_t sample(std::span<float> logits);
  const SamplingParams& params() const { return p_; }

 private:
  SamplingParams p_;
  int64_t valid_vocab_;
  Rng rng_;
  std::vector<std::pair<float, int32_t>> cand_;  // reused across calls
};

}  // namespace s1
