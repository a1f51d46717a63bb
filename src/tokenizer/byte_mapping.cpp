#include "tokenizer/byte_mapping.h"

#include <array>

#include "tokenizer/utf8.h"

namespace s1::tok {
namespace {

struct Tables {
  std::array<uint32_t, 256> to_cp{};
  std::array<int16_t, 512> to_byte{};  // all code points used are < 0x144
  std::array<std::string, 256> to_utf8{};
  Tables() {
    to_byte.fill(-1);
    // Bytes that are printable keep their own code point...
    auto keeps = [](int b) { return (b >= '!' && b <= '~') || (b >= 0xA1 && b <= 0xAC) || (b >= 0xAE && b <= 0xFF); };
    int n = 0;
    for (int b = 0; b < 256; ++b) {
      // ...the others are numbered from U+0100 in byte order.
      uint32_t cp = keeps(b) ? static_cast<uint32_t>(b) : static_cast<uint32_t>(256 + n++);
      to_cp[b] = cp;
      to_byte[cp] = static_cast<int16_t>(b);
      utf8_append(to_utf8[b], cp);
    }
  }
};

const Tables& tables() {
  static const Tables t;
  return t;
}

}  // namespace

uint32_t byte_to_codepoint(uint8_t b) { return tables().to_cp[b]; }

int codepoint_to_byte(uint32_t cp) { return cp < 512 ? tables().to_byte[cp] : -1; }

std::string bytes_to_byte_level(std::string_view bytes) {
  const Tables& t = tables();
  std::string out;
  out.reserve(bytes.size() * 2);
  for (unsigned char b : bytes) out += t.to_utf8[b];
  return out;
}

bool byte_level_to_bytes(std::string_view token, std::string& out) {
  out.clear();
  size_t i = 0;
  while (i < token.size()) {
    Utf8Char c = utf8_next(token, i);
    if (c.status != Utf8Status::Ok) return false;
    int b = codepoint_to_byte(c.cp);
    if (b < 0) return false;
    out += static_cast<char>(b);
    i += c.len;
  }
  return true;
}

}  // namespace s1::tok
