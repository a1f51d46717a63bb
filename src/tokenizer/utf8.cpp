#include "tokenizer/utf8.h"

#include <cstring>

namespace s1::tok {

Utf8Char utf8_next(std::string_view s, size_t i) {
  const auto* p = reinterpret_cast<const unsigned char*>(s.data());
  const size_t n = s.size();
  const unsigned char b0 = p[i];
  if (b0 < 0x80) return {b0, 1, Utf8Status::Ok};
  // Length and the allowed range of the second byte (excludes overlongs, surrogates, > U+10FFFF).
  uint32_t need;
  unsigned char lo = 0x80, hi = 0xBF;
  uint32_t cp;
  if (b0 >= 0xC2 && b0 <= 0xDF) {
    need = 1, cp = b0 & 0x1F;
  } else if (b0 >= 0xE0 && b0 <= 0xEF) {
    need = 2, cp = b0 & 0x0F;
    if (b0 == 0xE0) lo = 0xA0;
    if (b0 == 0xED) hi = 0x9F;
  } else if (b0 >= 0xF0 && b0 <= 0xF4) {
    need = 3, cp = b0 & 0x07;
    if (b0 == 0xF0) lo = 0x90;
    if (b0 == 0xF4) hi = 0x8F;
  } else {
    return {0, 1, Utf8Status::Invalid};  // stray continuation byte, C0/C1, F5..FF
  }
  for (uint32_t k = 1; k <= need; ++k) {
    if (i + k >= n) return {0, k, Utf8Status::Truncated};
    const unsigned char b = p[i + k];
    if (b < lo || b > hi) return {0, k, Utf8Status::Invalid};
    lo = 0x80, hi = 0xBF;
    cp = (cp << 6) | (b & 0x3F);
  }
  return {cp, need + 1, Utf8Status::Ok};
}

bool utf8_is_valid(std::string_view s) {
  size_t i = 0;
  const size_t n = s.size();
  while (i < n) {
    // Eight ASCII bytes at a time.
    if (i + 8 <= n) {
      uint64_t v;
      std::memcpy(&v, s.data() + i, 8);
      if ((v & 0x8080808080808080ull) == 0) {
        i += 8;
        continue;
      }
    }
    // ASCII fast path: most text is mostly ASCII.
    if (static_cast<unsigned char>(s[i]) < 0x80) {
      ++i;
      continue;
    }
    Utf8Char c = utf8_next(s, i);
    if (c.status != Utf8Status::Ok) return false;
    i += c.len;
  }
  return true;
}

void utf8_append(std::string& out, uint32_t cp) {
  if (cp < 0x80) {
    out += static_cast<char>(cp);
  } else if (cp < 0x800) {
    out += static_cast<char>(0xC0 | (cp >> 6));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  } else if (cp < 0x10000) {
    out += static_cast<char>(0xE0 | (cp >> 12));
    out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  } else {
    out += static_cast<char>(0xF0 | (cp >> 18));
    out += static_cast<char>(0x80 | ((cp >> 12) & 0x3F));
    out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  }
}

static constexpr std::string_view kReplacement = "\xEF\xBF\xBD";  // U+FFFD

std::string utf8_replace_invalid(std::string_view s) {
  std::string out;
  size_t used = utf8_append_complete(s, out);
  if (used < s.size()) out += kReplacement;  // truncated tail: one maximal subpart
  return out;
}

size_t utf8_append_complete(std::string_view s, std::string& out) {
  out.reserve(out.size() + s.size());
  size_t i = 0, run = 0;  // [run, i) is valid text not yet copied
  while (i < s.size()) {
    if (static_cast<unsigned char>(s[i]) < 0x80) {
      ++i;
      continue;
    }
    Utf8Char c = utf8_next(s, i);
    if (c.status == Utf8Status::Ok) {
      i += c.len;
      continue;
    }
    out.append(s.substr(run, i - run));
    if (c.status == Utf8Status::Truncated) return i;
    out += kReplacement;
    i += c.len;
    run = i;
  }
  out.append(s.substr(run, i - run));
  return i;
}

bool is_unicode_whitespace(uint32_t cp) {
  if (cp <= 0x20) return cp == 0x20 || (cp >= 0x09 && cp <= 0x0D);
  if (cp < 0x85) return false;
  return cp == 0x85 || cp == 0xA0 || cp == 0x1680 || (cp >= 0x2000 && cp <= 0x200A) || cp == 0x2028 ||
         cp == 0x2029 || cp == 0x202F || cp == 0x205F || cp == 0x3000;
}

}  // namespace s1::tok
