// Text normalisation of one answer before it is compared or parsed. Each rule removes a
// difference of notation, never of value: spacing macros, \left / \right, \dfrac, \text{}
// wrappers, degree marks, percent signs, dollar signs, trailing unit words (a fixed list
// of words of two letters or more, removed only at the end after a number: never single
// letters), thousands separators, trailing punctuation.
#pragma once
#include <string>
#include <string_view>
#include <vector>

namespace s1::grading {

// The normalised text (words separated by single spaces, otherwise LaTeX).
std::string normalize(std::string_view answer);

// Whitespace removed, except one space where it separates a command name from a
// following letter ("\pi r"): the form compared as text.
std::string compact(std::string_view normalised);

// "x = 3" -> "3", "f(x) = x^2" -> "x^2", "x \in [1, 2)" -> "[1, 2)": a single top-level '='
// (or \in) whose left side is a variable name. Otherwise the text unchanged.
std::string strip_variable_prefix(std::string_view normalised);

// The positions of top-level separators are those outside (), [], {}, \{ \}.
// Splits on top-level ',' / ';' and the words "or" / "and"; one element when none.
std::vector<std::string> split_top_level_list(std::string_view normalised);

}  // namespace s1::grading
