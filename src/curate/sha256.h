// SHA-256 (FIPS 180-4): s1's question identity is sha256(question)[:16], and the
// response cache is keyed by a hash of (client, request). Small enough to own.
#pragma once
#include <string>
#include <string_view>

namespace s1::curate {

std::string sha256_hex(std::string_view data);
// s1's question_hash: the first 16 hex digits of sha256(question).
inline std::string question_hash(std::string_view q) { return sha256_hex(q).substr(0, 16); }

}  // namespace s1::curate
