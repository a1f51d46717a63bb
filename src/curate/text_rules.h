// The text-level rules of s1's curation: decontamination n-grams after s1's
// normalisation (data/decontaminate_util.py) and the quality filter of
// data/filter.ipynb ("weird strings"), plus our checks of model outputs.
#pragma once
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace s1::curate {

// s1's normalize_string: lowercase, strip, collapse whitespace runs to one space.
// (ASCII case folding and ASCII whitespace; Python's str.lower()/split() also fold
// non-ASCII — both sides of a comparison go through the same function, so only
// differences in non-ASCII letter case are missed.)
std::string normalize_text(std::string_view s);

// Word n-grams of the normalised text, each hashed to 64 bits (FNV-1a over the words
// joined by single spaces). Text of fewer than n words has none, as in s1.
std::vector<uint64_t> word_ngram_hashes(std::string_view text, int n = 8);

// Why a question fails s1's quality filter ("" when it passes). The rule, exactly:
//   keep iff ("[asy]" not in q and "![Image]" not in q and no "p{i}." for i in 1..999
//             and not re.search(r'\*\*(?=.*\d)[^\s\]]*\*\*', q))
//         or ("[asy]" in q and "AIME" in source_type)
// Reasons: "asy_figure", "image_reference", "numbered_figure", "bolded_number".
std::string quality_reason(std::string_view question, std::string_view source_type);

// The individual patterns, for tests and for the report.
bool has_numbered_figure(std::string_view q);  // "p{i}." for some i in 1..999
bool has_bolded_number(std::string_view q);    // the regex above (Python semantics: '.' stops at '\n')

// Text that is an error message rather than a model's answer (an API error returned
// as content); our list, s1 dropped the rows whose API call failed.
std::optional<std::string> api_error_marker(std::string_view text);

}  // namespace s1::curate
