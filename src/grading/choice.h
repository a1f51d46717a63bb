// Multiple-choice letters, shared by extraction and comparison.
#pragma once
#include <optional>
#include <string_view>

namespace s1::grading {

// A choice letter (A-E) at the start of a short text: "B", "(B)", "B)", "B.", "\text{B}",
// "**B**", "B: 42", "option B"; lowercase only alone or in parentheses ("b", "(b)").
std::optional<char> choice_letter(std::string_view text);

}  // namespace s1::grading
