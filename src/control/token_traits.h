// What budget forcing needs to know of each token's bytes, computed once per tokenizer
// and shared by every controller: how a token changes the number of UTF-8 bytes still
// missing from the last character (so a forced end never cuts a character in two), and
// whether it ends in a newline (s1 writes "\n" before the end text only when needed).
#pragma once
#include <cstdint>
#include <memory>
#include <vector>

#include "tokenizer/tokenizer.h"

namespace s1::control {

class TokenTraits {
 public:
  static std::shared_ptr<const TokenTraits> build(const Tokenizer& tok);

  // Bytes still missing from the last character after token `id` follows text that
  // misses `pending` (0..3). A broken sequence counts as finished: it decodes to U+FFFD
  // whatever follows, so cutting after it splits nothing.
  int pending_after(int pending, int32_t id) const;
  bool ends_with_newline(int32_t id) const { return in(id) && (e_[size_t(id)].flags & kNewline); }
  bool is_empty(int32_t id) const { return !in(id) || (e_[size_t(id)].flags & kEmpty); }
  int64_t size() const { return int64_t(e_.size()); }

 private:
  enum : uint8_t { kEmpty = 1, kAllCont = 2, kNewline = 4 };
  struct Entry {
    uint8_t lead_cont = 0;  // continuation bytes (10xxxxxx) at the start
    uint8_t tail_need = 0;  // bytes missing from the token's own last character
    uint8_t flags = 0;
  };
  bool in(int32_t id) const { return id >= 0 && size_t(id) < e_.size(); }
  std::vector<Entry> e_;
};

// The same rule over a byte string (for tests and for text already known).
int utf8_pending(int pending, const std::string& bytes);

}  // namespace s1::control
