// RFC 4180 CSV: quoted fields with "" escapes and line breaks inside quotes. The AIME
// pool and GPQA's files are CSV.
#pragma once
#include <string>
#include <string_view>
#include <vector>

namespace s1::curate {

// All records, the header first. Throws s1::Error (naming `what`) on an unterminated quote.
std::vector<std::vector<std::string>> parse_csv(std::string_view text, const std::string& what);

}  // namespace s1::curate
