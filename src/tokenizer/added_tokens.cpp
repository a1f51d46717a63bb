#include "tokenizer/added_tokens.h"

#include <utf8proc.h>

#include <algorithm>
#include <cstring>

#include "tokenizer/utf8.h"

namespace s1::tok {
namespace {

// Rust's char::is_alphanumeric() || '_' (HF's notion of a word character).
bool is_word_char(uint32_t cp) {
  if (cp < 0x80) return (cp >= '0' && cp <= '9') || (cp >= 'a' && cp <= 'z') || (cp >= 'A' && cp <= 'Z') || cp == '_';
  auto cat = utf8proc_category(static_cast<utf8proc_int32_t>(cp));
  return (cat >= UTF8PROC_CATEGORY_LU && cat <= UTF8PROC_CATEGORY_LO) ||
         (cat >= UTF8PROC_CATEGORY_ND && cat <= UTF8PROC_CATEGORY_NO);
}

// Start of the UTF-8 character that ends just before byte i (text is valid UTF-8).
size_t prev_char_start(std::string_view text, size_t i) {
  size_t j = i - 1;
  while (j > 0 && (static_cast<unsigned char>(text[j]) & 0xC0) == 0x80) --j;
  return j;
}

}  // namespace

void AddedTokenMatcher::build(const std::vector<AddedToken>& all, bool normalized) {
  tokens_.clear();
  for (auto& v : by_first_) v.clear();
  is_first_.fill(false);
  for (const AddedToken& t : all) {
    if (t.normalized != normalized || t.content.empty()) continue;
    tokens_.push_back(&t);
    by_first_[static_cast<unsigned char>(t.content[0])].push_back(&t);
    is_first_[static_cast<unsigned char>(t.content[0])] = true;
  }
  only_first_ = -1;
  for (int b = 0; b < 256; ++b)
    if (is_first_[b]) only_first_ = only_first_ == -1 ? b : -2;
  // stable: among identical contents the first declared wins, as in HF's trie.
  for (auto& v : by_first_)
    std::stable_sort(v.begin(), v.end(),
                     [](const AddedToken* a, const AddedToken* b) { return a->content.size() > b->content.size(); });
}

void AddedTokenMatcher::split(std::string_view text, bool skip_special,
                              const std::function<void(std::string_view)>& on_text,
                              const std::function<void(int32_t)>& on_token) const {
  size_t emitted = 0;  // text before this offset has been handed out
  size_t i = 0;
  const size_t n = text.size();
  while (i < n) {
    // Skip quickly to the next byte that can start a token ('<' for most models).
    if (only_first_ >= 0) {
      const void* p = std::memchr(text.data() + i, only_first_, n - i);
      if (!p) break;
      i = static_cast<const char*>(p) - text.data();
    } else {
      while (i < n && !is_first_[static_cast<unsigned char>(text[i])]) ++i;
      if (i == n) break;
    }
    const auto& cands = by_first_[static_cast<unsigned char>(text[i])];
    const AddedToken* hit = nullptr;
    for (const AddedToken* t : cands) {
      if (text.compare(i, t->content.size(), t->content) == 0) {
        hit = t;
        break;
      }
    }
    if (!hit) {
      ++i;
      continue;
    }
    size_t start = i, stop = i + hit->content.size();
    i = stop;  // a match that is then rejected still consumes its text (HF: non-overlapping find_iter)
    if (skip_special && hit->special) continue;
    if (hit->single_word) {
      bool word_before = start > 0 && is_word_char(utf8_next(text, prev_char_start(text, start)).cp);
      bool word_after = stop < n && is_word_char(utf8_next(text, stop).cp);
      if (word_before || word_after) continue;
    }
    if (hit->lstrip) {
      while (start > emitted) {
        size_t p = prev_char_start(text, start);
        if (!is_unicode_whitespace(utf8_next(text, p).cp)) break;
        start = p;
      }
    }
    if (hit->rstrip) {
      while (stop < n) {
        Utf8Char c = utf8_next(text, stop);
        if (c.status != Utf8Status::Ok || !is_unicode_whitespace(c.cp)) break;
        stop += c.len;
      }
      i = stop;
    }
    if (start > emitted) on_text(text.substr(emitted, start - emitted));
    on_token(hit->id);
    emitted = stop;
  }
  if (emitted < n) on_text(text.substr(emitted));
}

}  // namespace s1::tok
