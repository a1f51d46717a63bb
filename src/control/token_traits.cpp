#include "control/token_traits.h"

#include <algorithm>

namespace s1::control {

namespace {
bool is_cont(uint8_t b) { return (b & 0xC0) == 0x80; }
int seq_len(uint8_t b) {  // 0 for a byte that cannot start a character
  if (b < 0x80) return 1;
  if (b >= 0xC2 && b <= 0xDF) return 2;
  if (b >= 0xE0 && b <= 0xEF) return 3;
  if (b >= 0xF0 && b <= 0xF4) return 4;
  return 0;
}
// Missing bytes after scanning s from a state that misses `need`.
int scan(int need, const std::string& s) {
  for (unsigned char b : s) {
    if (is_cont(b)) {
      if (need > 0) --need;  // a stray continuation byte is ill-formed and finishes nothing
    } else {
      int n = seq_len(b);
      need = n > 1 ? n - 1 : 0;  // a new lead byte ends (or breaks) whatever came before
    }
  }
  return need;
}
}  // namespace

int utf8_pending(int pending, const std::string& bytes) { return scan(pending, bytes); }

std::shared_ptr<const TokenTraits> TokenTraits::build(const Tokenizer& tok) {
  auto t = std::make_shared<TokenTraits>();
  const int32_t n = tok.vocab_size();
  t->e_.resize(size_t(n));
  for (int32_t id = 0; id < n; ++id) {
    const std::string b = tok.token_bytes(id);
    Entry& e = t->e_[size_t(id)];
    if (b.empty()) {
      e.flags = kEmpty;
      continue;
    }
    size_t i = 0;
    while (i < b.size() && is_cont(uint8_t(b[i]))) ++i;
    e.lead_cont = uint8_t(std::min<size_t>(i, 255));
    if (i == b.size()) e.flags |= kAllCont;
    e.tail_need = uint8_t(scan(0, b.substr(i)));
    if (b.back() == '\n') e.flags |= kNewline;
  }
  return t;
}

int TokenTraits::pending_after(int pending, int32_t id) const {
  if (!in(id)) return pending;
  const Entry& e = e_[size_t(id)];
  if (e.flags & kEmpty) return pending;
  if (e.flags & kAllCont) return pending > e.lead_cont ? pending - e.lead_cont : 0;
  return e.tail_need;  // the leading continuation bytes finish (or break) the pending character
}

}  // namespace s1::control
