// SHA-256 through OpenSSL's libcrypto: s1's question identity is sha256(question)[:16],
// and curate's response cache is keyed by a hash of (client, request).
#pragma once
#include <string>
#include <string_view>

namespace s1::util {

// 64 lowercase hex digits.
std::string sha256_hex(std::string_view data);

}  // namespace s1::util
