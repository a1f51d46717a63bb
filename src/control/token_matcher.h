// Follows a token sequence through a stream one token at a time (the shape of
// llama.cpp's token_matcher), so a delimiter that is several tokens ("<|im_start|>think",
// or "</think>" on a vocabulary without it) is found wherever it starts.
#pragma once
#include <cstdint>
#include <span>
#include <vector>

namespace s1::control {

class TokenMatcher {
 public:
  TokenMatcher() = default;
  explicit TokenMatcher(std::vector<int32_t> seq);

  // Feeds one token; true when it completes the sequence.
  bool push(int32_t id);
  // Whether push(id) would complete the sequence now.
  bool would_complete(int32_t id) const { return !seq_.empty() && k_ + 1 == seq_.size() && seq_[k_] == id; }
  int32_t next_expected() const { return seq_.empty() ? -1 : seq_[k_]; }
  size_t matched() const { return k_; }  // tokens of the sequence matched so far
  void reset() { k_ = 0; }
  const std::vector<int32_t>& seq() const { return seq_; }
  bool empty() const { return seq_.empty(); }

 private:
  std::vector<int32_t> seq_;
  std::vector<size_t> fail_;  // KMP failure function: a mismatch keeps the longest border
  size_t k_ = 0;
};

// Index of the last occurrence of seq in ids, or -1.
int64_t find_last(std::span<const int32_t> ids, std::span<const int32_t> seq);

}  // namespace s1::control
