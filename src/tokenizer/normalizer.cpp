#include "tokenizer/normalizer.h"

#include <utf8proc.h>

#include <cstdint>
#include <cstdlib>
#include <cstring>

namespace s1::tok {

std::string_view normalize(Normalization n, std::string_view text, std::string& storage) {
  if (n == Normalization::None) return text;
  // Code points below U+0300 are NFC-stable and never compose with one another, so
  // text whose bytes are all below 0xCC (the lead byte of U+0300) is already NFC.
  bool maybe_changes = false;
  size_t i = 0;
  for (; i + 8 <= text.size() && !maybe_changes; i += 8) {
    uint64_t v;
    std::memcpy(&v, text.data() + i, 8);
    if ((v & 0x8080808080808080ull) == 0) continue;  // all ASCII
    for (size_t k = 0; k < 8; ++k) maybe_changes |= static_cast<unsigned char>(text[i + k]) >= 0xCC;
  }
  for (; i < text.size() && !maybe_changes; ++i) maybe_changes = static_cast<unsigned char>(text[i]) >= 0xCC;
  if (!maybe_changes) return text;
  utf8proc_uint8_t* out = nullptr;
  // An explicit length (no UTF8PROC_NULLTERM) keeps U+0000 characters as text.
  utf8proc_ssize_t len = utf8proc_map(reinterpret_cast<const utf8proc_uint8_t*>(text.data()),
                                      static_cast<utf8proc_ssize_t>(text.size()), &out,
                                      static_cast<utf8proc_option_t>(UTF8PROC_STABLE | UTF8PROC_COMPOSE));
  if (len < 0) return text;  // only on invalid UTF-8, which callers have already replaced
  storage.assign(reinterpret_cast<const char*>(out), static_cast<size_t>(len));
  std::free(out);
  return storage;
}

}  // namespace s1::tok
