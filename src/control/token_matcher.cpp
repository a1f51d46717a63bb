#include "control/token_matcher.h"

#include <algorithm>

namespace s1::control {

TokenMatcher::TokenMatcher(std::vector<int32_t> seq) : seq_(std::move(seq)), fail_(seq_.size(), 0) {
  for (size_t i = 1, k = 0; i < seq_.size(); ++i) {
    while (k > 0 && seq_[i] != seq_[k]) k = fail_[k - 1];
    if (seq_[i] == seq_[k]) ++k;
    fail_[i] = k;
  }
}

bool TokenMatcher::push(int32_t id) {
  if (seq_.empty()) return false;
  while (k_ > 0 && seq_[k_] != id) k_ = fail_[k_ - 1];
  if (seq_[k_] == id) ++k_;
  if (k_ == seq_.size()) {
    k_ = fail_[k_ - 1];
    return true;
  }
  return false;
}

int64_t find_last(std::span<const int32_t> ids, std::span<const int32_t> seq) {
  if (seq.empty() || seq.size() > ids.size()) return -1;
  for (int64_t i = int64_t(ids.size() - seq.size()); i >= 0; --i)
    if (std::equal(seq.begin(), seq.end(), ids.begin() + i)) return i;
  return -1;
}

}  // namespace s1::control
