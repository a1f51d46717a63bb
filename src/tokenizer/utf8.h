// UTF-8 helpers shared by encoding (input sanitising) and decoding (streaming).
// Invalid input is handled like Python's bytes.decode("utf-8", "replace"): each
// maximal subpart of an ill-formed sequence becomes one U+FFFD.
#pragma once
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace s1::tok {

enum class Utf8Status : uint8_t { Ok, Invalid, Truncated };

struct Utf8Char {
  uint32_t cp;        // code point (valid only when status == Ok)
  uint32_t len;       // bytes consumed: the whole character, or the maximal ill-formed subpart
  Utf8Status status;  // Truncated: a valid prefix that runs into the end of the input
};

// Decodes the character starting at s[i] (i < s.size()).
Utf8Char utf8_next(std::string_view s, size_t i);

bool utf8_is_valid(std::string_view s);
void utf8_append(std::string& out, uint32_t cp);

// Copy of s with every ill-formed subpart (and a truncated tail) replaced by U+FFFD.
std::string utf8_replace_invalid(std::string_view s);

// Appends to out the longest prefix of s that cannot change when more bytes arrive
// (ill-formed parts replaced by U+FFFD); returns how many bytes of s were used. The
// rest (at most 3 bytes) is a valid but incomplete sequence.
size_t utf8_append_complete(std::string_view s, std::string& out);

// Unicode White_Space (what Rust's char::is_whitespace and Oniguruma's \s accept).
bool is_unicode_whitespace(uint32_t cp);

}  // namespace s1::tok
