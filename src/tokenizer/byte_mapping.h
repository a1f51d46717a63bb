// GPT-2's bytes_to_unicode(): byte-level BPE vocabularies store every byte as a
// printable code point (printable Latin-1 bytes map to themselves, the other 68
// bytes to U+0100..U+0143, e.g. ' ' -> 'Ġ'), so tokens are valid UTF-8 strings.
#pragma once
#include <cstdint>
#include <string>
#include <string_view>

namespace s1::tok {

// Code point that stands for byte b.
uint32_t byte_to_codepoint(uint8_t b);
// Byte that code point cp stands for, or -1 if cp is not in the byte alphabet.
int codepoint_to_byte(uint32_t cp);

// Raw bytes -> byte-level string ("a b" -> "aĠb").
std::string bytes_to_byte_level(std::string_view bytes);
// Byte-level string -> raw bytes. False if a character is not in the byte alphabet
// (out is then unspecified).
bool byte_level_to_bytes(std::string_view token, std::string& out);

}  // namespace s1::tok
